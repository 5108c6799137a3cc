"""Checks that the grid's schema has one source of truth (SQLite and PostgreSQL).

`deskgrid.grid.schema` declares the tables; `deskgrid.grid.migrations` builds them in frozen
steps; the hot-path statements (`deskgrid.grid.rawsql.Sql`) name them in raw SQL.
`check_schema_agrees(db)` migrates the empty database `db` from nothing, builds the declared
schema next to it (SQLite: an in-memory database; PostgreSQL: a schema of its own in the same
database) with the dialect's own DDL, reflects both with SQLAlchemy's `inspect()` and requires
the same tables, columns (type, nullability, default, identity), primary, foreign and unique
keys, and indexes (name, columns, order, uniqueness, predicate); then prepares every raw
statement (`EXPLAIN`) against both. Reflecting both sides the same way compares what the
database holds rather than how each side spells it: PostgreSQL's `FLOAT` is its
`DOUBLE PRECISION`, and a partial index's predicate comes back in PostgreSQL's own form.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, MetaData, inspect

import deskgrid.grid
from deskgrid.grid import schema
from deskgrid.grid.db import Database
from deskgrid.grid.migrations import upgrade
from deskgrid.grid.rawsql import Sql

DECLARED = "declared"  # PostgreSQL: the schema (namespace) the declared tables are built in

# Statements a module runs on one dialect only: on the other one they are never prepared.
POSTGRESQL_ONLY = {"deskgrid.grid.queries.EVENTS_LOCK"}  # an advisory lock


def check_schema_agrees(db: Database, metadata: MetaData = schema.metadata) -> None:
    """Migrate the empty database `db` and require it to match `metadata` (default: the grid's
    schema) and every raw statement to compile against both."""
    assert upgrade(db) > 0
    with declared_database(db, metadata) as (declared, namespace):
        with db.read() as conn:
            migrated_shape = describe(conn)
        with declared.read() as conn:
            declared_shape = describe(conn, namespace)
        differences = [
            f"{key}: migrations {migrated_shape.get(key, '(absent)')!r}, "
            f"schema.py {declared_shape.get(key, '(absent)')!r}"
            for key in sorted(migrated_shape.keys() | declared_shape.keys())
            if migrated_shape.get(key) != declared_shape.get(key)
        ]
        assert not differences, "the migrated schema differs from schema.py:\n" + "\n".join(
            differences
        )
        statements = raw_statements()
        for target, where in ((db, None), (declared, namespace)):
            failures = explain_all(target, statements, where)
            side = "the migrated database" if where is None else "the schema.py database"
            assert not failures, f"raw statements fail on {side}:\n" + "\n".join(failures)


@contextmanager
def declared_database(db: Database, metadata: MetaData) -> Iterator[tuple[Database, str | None]]:
    """A database holding `metadata`'s tables as the dialect's DDL builds them, and the schema
    (namespace) they are in."""
    if db.is_sqlite:
        declared = Database("sqlite://")
        try:
            metadata.create_all(declared.engine)
            yield declared, None
        finally:
            declared.close()
        return
    with db.write() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{DECLARED}"')
        metadata.create_all(
            conn.execution_options(schema_translate_map={None: DECLARED}), checkfirst=False
        )
    try:
        yield db, DECLARED
    finally:
        with db.write() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{DECLARED}" CASCADE')


def describe(conn: Connection, namespace: str | None = None) -> dict[str, Any]:
    """The reflected shape of the tables in `namespace`, as comparable `{key: value}` facts."""
    inspector = inspect(conn)
    sqlite = conn.dialect.name == "sqlite"
    shape: dict[str, Any] = {}
    for table in inspector.get_table_names(schema=namespace):
        shape[f"table {table}"] = True
        pk = tuple(inspector.get_pk_constraint(table, schema=namespace)["constrained_columns"])
        shape[f"{table} primary key"] = pk
        declared_types = _sqlite_declared_types(conn, table) if sqlite else {}
        for column in inspector.get_columns(table, schema=namespace):
            name = column["name"]
            if sqlite:
                kind = _sqlite_type(declared_types[name], rowid=pk == (name,))
                # SQLite lets a PRIMARY KEY that is not the rowid hold NULL unless it says NOT
                # NULL (a bug it keeps for compatibility); the code never writes one.
                nullable = None if name in pk else column["nullable"]
            else:
                kind = column["type"].compile(dialect=conn.dialect)
                nullable = column["nullable"]
            identity = column.get("identity")
            shape[f"{table}.{name}"] = {
                "type": kind,
                "nullable": nullable,
                "default": _text(column.get("default")),
                "identity": sorted(identity.items()) if identity else None,
            }
        for fk in inspector.get_foreign_keys(table, schema=namespace):
            key = f"{table} foreign key {tuple(fk['constrained_columns'])}"
            shape[key] = (fk["referred_table"], tuple(fk["referred_columns"]), fk["options"])
        for unique in inspector.get_unique_constraints(table, schema=namespace):
            shape[f"{table} unique {tuple(unique['column_names'])}"] = True
        for index in inspector.get_indexes(table, schema=namespace):
            if index.get("duplicates_constraint"):
                continue  # PostgreSQL: the index of a unique constraint (above)
            sorting = (
                _sqlite_sorting(conn, index["name"]) if sqlite else index.get("column_sorting")
            )
            shape[f"{table} index {index['name']}"] = {
                "columns": tuple(index["column_names"]),
                "expressions": tuple(_text(e) for e in index.get("expressions") or ()),
                "unique": bool(index["unique"]),
                "sorting": {k: tuple(v) for k, v in (sorting or {}).items()},
                "options": {k: _text(v) for k, v in index.get("dialect_options", {}).items()},
            }
        if sqlite:
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar()
            shape[f"{table} autoincrement"] = bool(re.search(r"\bAUTOINCREMENT\b", sql, re.I))
    return shape


def _text(value: Any) -> str | None:
    """SQL text with its spacing normalized (a predicate, a default), or None."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return re.sub(r"\s*([(),])\s*", r"\1", text)


def _sqlite_declared_types(conn: Connection, table: str) -> dict[str, str]:
    rows = conn.exec_driver_sql(f'PRAGMA table_info("{table}")').all()
    return {row[1]: row[2] for row in rows}


def _sqlite_type(declared: str, *, rowid: bool) -> str:
    """A column's type as SQLite holds it: its affinity, from the declared type's name (SQLite's
    own rules); an INTEGER PRIMARY KEY is the rowid itself."""
    name = declared.upper()
    if rowid and name == "INTEGER":
        return "INTEGER PRIMARY KEY (the rowid)"
    if "INT" in name:
        return "INTEGER"
    if any(word in name for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in name or not name:
        return "BLOB"
    if any(word in name for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def _sqlite_sorting(conn: Connection, index: str) -> dict[str, tuple[str, ...]]:
    rows = conn.exec_driver_sql(f'PRAGMA index_xinfo("{index}")').all()
    # (seqno, cid, name, desc, collation, key): the key columns, and which are descending
    return {row[2]: ("desc",) for row in rows if row[5] and row[3]}


def raw_statements() -> dict[str, Sql]:
    """Every raw statement of the grid package: module-level `Sql` values, by dotted name."""
    found: dict[str, Sql] = {}
    for module_info in pkgutil.walk_packages(deskgrid.grid.__path__, "deskgrid.grid."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if isinstance(value, Sql):
                found[f"{module_info.name}.{name}"] = value
    # what the search must find, so that it cannot quietly find nothing
    assert {"deskgrid.grid.queries.CANDIDATES", "deskgrid.grid.datastore.INSERT_BLOB"} <= set(
        found
    ), sorted(found)
    return found


_SQLITE_PARAM = re.compile(r"(?<![:\w]):(\w+)")
_PSYCOPG_PARAM = re.compile(r"%\((\w+)\)s")


def explain_all(db: Database, statements: Mapping[str, Sql], namespace: str | None) -> list[str]:
    """Prepare each statement (`EXPLAIN`, nothing runs) on the tables in `namespace`, every
    parameter NULL; returns a sentence per statement that fails."""
    failures = []
    with db.read() as conn:
        if namespace is not None:
            conn.exec_driver_sql(f'SET LOCAL search_path TO "{namespace}"')
        driver = conn.connection.driver_connection
        assert driver is not None
        for name, sql in sorted(statements.items()):
            if db.is_postgresql:
                prefix, text, pattern = "EXPLAIN ", sql.postgresql, _PSYCOPG_PARAM
            elif name in POSTGRESQL_ONLY:
                continue
            else:
                prefix, text, pattern = "EXPLAIN QUERY PLAN ", sql.sqlite, _SQLITE_PARAM
            params = dict.fromkeys(pattern.findall(text))
            driver.execute("SAVEPOINT explain")
            try:
                driver.execute(prefix + text, params)
            except Exception as exc:  # the driver's own error: the statement is what's wrong
                driver.execute("ROLLBACK TO SAVEPOINT explain")
                failures.append(f"{name}: {type(exc).__name__}: {str(exc).strip()}")
            driver.execute("RELEASE SAVEPOINT explain")
    return failures

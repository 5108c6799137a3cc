"""The migrations build what schema.py declares, and the raw statements fit it (SQLite; the
PostgreSQL run is in tests/integration/grid/test_grid_postgres.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Index, MetaData, Text

from deskgrid.grid import schema
from deskgrid.grid.db import Database
from deskgrid.grid.rawsql import Sql
from tests.grid_schema_check import check_schema_agrees, explain_all, raw_statements


def test_the_migrated_schema_is_the_declared_one_on_sqlite(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'grid.db'}")
    check_schema_agrees(db)
    db.close()


def _declared_copy() -> MetaData:
    copy = MetaData()
    for table in schema.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def test_a_declaration_the_migrations_do_not_build_is_found(tmp_path) -> None:
    metadata = _declared_copy()
    jobs = metadata.tables["jobs"]
    jobs.append_column(Column("owner", Text))
    Index("ix_jobs_owner", jobs.c.owner)
    metadata.remove(metadata.tables["blobs"])
    db = Database(f"sqlite:///{tmp_path / 'grid.db'}")
    with pytest.raises(AssertionError) as failure:
        check_schema_agrees(db, metadata)
    db.close()
    report = str(failure.value)
    for fact in ("jobs.owner:", "jobs index ix_jobs_owner:", "table blobs:", "blobs.content:"):
        assert fact in report


def test_a_raw_statement_naming_an_undeclared_column_is_found(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'grid.db'}")
    check_schema_agrees(db)
    statements = {
        "ok": Sql("SELECT id FROM jobs WHERE id = :id"),
        "bad": Sql("UPDATE jobs SET owner = :owner WHERE id = :id"),
    }
    failures = explain_all(db, statements, None)
    db.close()
    assert len(failures) == 1 and failures[0].startswith("bad:") and "owner" in failures[0]


def test_every_raw_statement_is_checked() -> None:
    from deskgrid.grid import datastore, queries

    found = raw_statements()
    for module in (queries, datastore):
        for name, value in vars(module).items():
            if isinstance(value, Sql):
                assert found[f"{module.__name__}.{name}"] is value

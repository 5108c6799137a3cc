"""The database: SQLite (WAL, writers serialized with BEGIN IMMEDIATE) or PostgreSQL.

`write()` opens a transaction meant to change things: on SQLite it takes the write lock at
once, so two writers never deadlock on a lock upgrade; on PostgreSQL rows are locked
explicitly (`FOR UPDATE`, `SKIP LOCKED`) by the queries that need it. `read()` opens a
transaction that only reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from deskgrid.errors import DeskGridError
from deskgrid.grid.files import private_dir, tighten_sqlite


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        url = normalize_url(url)
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise DeskGridError(f"The database URL {url!r} is not valid: {exc}.") from exc
        self.url = url
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise DeskGridError(
                f"The grid stores its jobs in SQLite or PostgreSQL, not {self.dialect!r}; "
                "give a sqlite:/// or postgresql:// URL."
            )
        self.engine = self._create_engine(url, parsed.database or "", echo)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    def _create_engine(self, url: str, database: str, echo: bool) -> Engine:
        if self.dialect == "postgresql":
            return create_engine(url, echo=echo, pool_size=8, max_overflow=8, pool_pre_ping=True)
        kwargs: dict[str, Any] = {"echo": echo}
        memory = database in ("", ":memory:")
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if memory:
            kwargs["poolclass"] = StaticPool
        elif not database.startswith("file:"):
            try:
                path = Path(database).expanduser()
                if not path.parent.is_dir():
                    private_dir(path.parent)
                tighten_sqlite(path)  # before SQLite opens it: its WAL and SHM follow its mode
            except OSError as exc:
                raise self.cannot_open(exc) from exc
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_conn.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that changes things; committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A transaction that only reads."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                yield conn

    def refresh_statistics(self, *tables: str) -> None:
        """PostgreSQL: ANALYZE `tables` now. Its planner walks the queue index (stopping at the
        LIMIT) only once it knows the jobs table is large; on a table it has not analyzed yet
        it sorts every open job instead (3 ms against 0.07 ms for 3,000 jobs), until
        autovacuum comes by. SQLite needs nothing: its leasing query names its index."""
        if self.is_postgresql:
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql(f"ANALYZE {', '.join(tables)}")

    def close(self) -> None:
        self.engine.dispose()

    def cannot_open(self, exc: Exception) -> DeskGridError:
        """The sentence for a database that could not be reached or created."""
        shown = make_url(self.url).render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if self.is_postgresql:
            advice = (
                "Check that PostgreSQL is running and that the URL's user, host, port and "
                "database are right (postgresql://USER:PASSWORD@HOST:PORT/DATABASE)"
            )
        else:
            advice = "Check that the file's folder exists and is writable, or give another file"
        return DeskGridError(f"The grid database {shown} cannot be opened ({reason}). {advice}.")

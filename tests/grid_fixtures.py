"""Small apps and helpers for the grid's tests (the real built-in apps live in deskgrid.apps).

`catalog()` is also loaded by the integration tests' server processes with
`deskgrid grid serve --catalog tests.grid_fixtures:catalog`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from deskgrid.apps.sdk import AppParamsError, AppSpec, Resources

if TYPE_CHECKING:
    from deskgrid.grid.db import Database


def _echo_validate(params: dict[str, Any]) -> dict[str, Any]:
    message = params.get("message", "")
    if not isinstance(message, str) or len(message) > 10_000:
        raise AppParamsError("message must be a text of at most 10,000 characters.")
    seconds = params.get("seconds", 0)
    if not isinstance(seconds, int | float) or not 0 <= seconds <= 600:
        raise AppParamsError("seconds must be a number between 0 and 600.")
    extra = set(params) - {"message", "seconds"}
    if extra:
        raise AppParamsError(f"Unknown parameters: {', '.join(sorted(extra))}.")
    return {"message": message, "seconds": seconds}


def echo_result(params: dict[str, Any]) -> bytes:
    """What an honest worker returns for an echo job: sha256 of the message, as text."""
    return hashlib.sha256(params["message"].encode()).hexdigest().encode()


def _sum_validate(params: dict[str, Any]) -> dict[str, Any]:
    a, b = params.get("a"), params.get("b")
    if not isinstance(a, int) or not isinstance(b, int):
        raise AppParamsError("a and b must be integers.")
    return {"a": a, "b": b}


def _sum_verify(params: dict[str, Any], result: bytes) -> bool | None:
    if result == b"unknown":
        return None  # the verifier cannot tell: the grid falls back to a vote
    return result == str(params["a"] + params["b"]).encode()


SCHEMA_ECHO = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "seconds": {"type": "number"}},
}
ECHO = AppSpec(
    name="echo",
    version="1.0.0",
    description="Returns the sha256 of a message (after waiting `seconds`).",
    params_schema=SCHEMA_ECHO,
    validate=_echo_validate,
)
SUM = AppSpec(
    name="sum",
    version="1.0.0",
    description="Adds two integers; results are verifiable.",
    params_schema={"type": "object"},
    validate=_sum_validate,
    verify=_sum_verify,
)
BIG = AppSpec(
    name="big",
    version="1.0.0",
    description="Needs 8 cores and 32 GB.",
    params_schema={"type": "object"},
    validate=_echo_validate,
    resources=Resources(cores=8, memory_mb=32_000),
)
DOCK = AppSpec(
    name="dock",
    version="1.0.0",
    description="Needs Docker.",
    params_schema={"type": "object"},
    validate=_echo_validate,
    resources=Resources(docker=True),
    image="example/dock:1",
)


def catalog() -> dict[str, AppSpec]:
    return {spec.name: spec for spec in (ECHO, SUM, BIG, DOCK)}


def check_raw_statements(db: Database) -> None:
    """Raw driver statements run in the SQLAlchemy transaction and fail with SQLAlchemy's
    errors (SQLite and PostgreSQL)."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from deskgrid.grid.rawsql import Raw, Sql

    insert = Sql("INSERT INTO raw_check (id, name) VALUES (:id, :name)")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE raw_check (id INTEGER PRIMARY KEY, name TEXT)"))
        raw = Raw(conn)
        raw.execute(insert, {"id": 1, "name": "a"})
        raw.execute_many(insert, [{"id": 2, "name": "b"}, {"id": 3, "name": "c"}])
        assert conn.execute(text("SELECT count(*) FROM raw_check")).scalar() == 3
        rows = raw.all(Sql("SELECT * FROM raw_check WHERE id >= :id ORDER BY id"), {"id": 2})
        assert rows == [{"id": 2, "name": "b"}, {"id": 3, "name": "c"}]
        assert raw.first(Sql("SELECT * FROM raw_check WHERE id = 7"), {}) is None
        assert raw.all(Sql("SELECT * FROM raw_check WHERE id = 7"), {}) == []
        assert raw.scalar(Sql("SELECT name FROM raw_check WHERE id = :id"), {"id": 1}) == "a"
        renamed = Sql("UPDATE raw_check SET name = 'z' WHERE id > :id")
        assert raw.rowcount(renamed, {"id": 1}) == 2
    with db.write() as conn:  # deferred row updates run in key order, each key's in order
        raw = Raw(conn)
        rename = Sql("UPDATE raw_check SET name = name || :suffix WHERE id = :id")
        raw.start_deferring()
        for key, suffix in (("3", "1"), ("1", "1"), ("3", "2")):
            raw.defer(key, rename, {"id": int(key), "suffix": suffix})
        assert raw.scalar(Sql("SELECT name FROM raw_check WHERE id = 3"), {}) == "z"
        raw.run_deferred()
        names = conn.execute(text("SELECT name FROM raw_check ORDER BY id")).scalars().all()
        assert names == ["a1", "z", "z12"]
        raw.defer("2", rename, {"id": 2, "suffix": "!"})  # not deferring: at once
        assert raw.scalar(Sql("SELECT name FROM raw_check WHERE id = 2"), {}) == "z!"
    with pytest.raises(IntegrityError):  # the driver's error, as SQLAlchemy's
        with db.write() as conn:
            Raw(conn).execute(insert, {"id": 4, "name": "d"})
            Raw(conn).execute(insert, {"id": 1, "name": "again"})
    with db.read() as conn:  # the failed transaction was rolled back whole
        ids = conn.execute(text("SELECT id FROM raw_check ORDER BY id")).scalars().all()
        assert ids == [1, 2, 3]

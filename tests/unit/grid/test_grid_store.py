"""Schema migrations, the database wrapper, the data store and the vote arithmetic."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import text

from deskgrid.errors import DeskGridError
from deskgrid.grid.datastore import DataStore
from deskgrid.grid.db import Database, normalize_url
from deskgrid.grid.errors import BadRequest, NotFound, TooLarge
from deskgrid.grid.migrations import HEAD, current_version, upgrade
from deskgrid.grid.voting import replicas_wanted, tally


def test_upgrade_from_the_first_version_keeps_the_data(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    assert upgrade(db, target=1) == 1
    with db.write() as conn:
        conn.execute(
            text(
                "INSERT INTO workers (address, name, apps, cores, memory_mb, docker, "
                "consecutive_valid, n_valid, n_invalid, n_errors, n_expired, created_at, "
                "last_seen) VALUES ('0xabc', 'w', '[]', 1, 1, 0, 3, 3, 0, 0, 0, 1, 1)"
            )
        )
    assert upgrade(db) == HEAD == current_version(db)
    assert upgrade(db) == HEAD  # idempotent
    with db.read() as conn:
        assert conn.execute(text("SELECT consecutive_valid FROM workers")).scalar() == 3
        indexes = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
    assert "ix_jobs_completed" in indexes


def test_a_newer_schema_is_refused_with_a_sentence(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'new.db'}")
    upgrade(db)
    with db.write() as conn:
        conn.execute(text("INSERT INTO grid_schema VALUES (999, 'future', 0)"))
    with pytest.raises(DeskGridError, match="newer"):
        upgrade(db)


def test_database_urls() -> None:
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(DeskGridError, match="SQLite or PostgreSQL"):
        Database("mysql://u@h/db")
    with pytest.raises(DeskGridError, match="not valid"):
        Database("::::")


def test_data_store_is_content_addressed(tmp_path) -> None:
    store = DataStore(tmp_path)
    ref = store.put_bytes(b"abc")
    assert ref.sha256 == hashlib.sha256(b"abc").hexdigest() and ref.size == 3
    assert store.read_bytes(ref.sha256) == b"abc" and store.put_bytes(b"abc") == ref
    blob = store.path(ref.sha256)
    assert list(blob.parent.iterdir()) == [blob]  # its temporary file was renamed into place
    with pytest.raises(BadRequest, match="does not match"):
        store.put_bytes(b"abc", expected="0" * 64)
    with pytest.raises(NotFound):
        store.read_bytes("1" * 64)
    with pytest.raises(BadRequest, match="64 lowercase"):
        store.path("../../etc/passwd")


def test_data_store_streams_with_a_limit(tmp_path) -> None:
    store = DataStore(tmp_path)

    async def chunks(*parts: bytes):
        for part in parts:
            yield part

    ref = asyncio.run(store.put_stream(chunks(b"ab", b"c"), limit=3))
    assert ref.size == 3 and store.exists(ref.sha256)
    with pytest.raises(TooLarge):
        asyncio.run(store.put_stream(chunks(b"ab", b"cd"), limit=3))
    with pytest.raises(BadRequest):
        asyncio.run(store.put_stream(chunks(b"x"), limit=3, expected="2" * 64))
    assert list((tmp_path / "tmp").iterdir()) == []


def test_tally_and_replicas_wanted() -> None:
    assert tally([]).best_count == 0
    assert tally(["a", "b", "a"]).best_digest == "a"
    common = {"total": 0, "max_total": 10}
    assert replicas_wanted(target=2, quorum=2, in_progress=0, successes=0, best_count=0, **common)
    assert (
        replicas_wanted(target=2, quorum=2, in_progress=1, successes=1, best_count=1, **common) == 0
    )
    # two disagreeing results: one more replica
    assert (
        replicas_wanted(target=2, quorum=2, in_progress=0, successes=2, best_count=1, **common) == 1
    )
    assert (
        replicas_wanted(
            target=2, quorum=2, in_progress=0, successes=2, best_count=1, total=3, max_total=3
        )
        == 0
    )

"""Schema migrations, the database wrapper, the data store and the vote arithmetic."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import text

from deskgrid.errors import DeskGridError
from deskgrid.grid.config import GridConfig
from deskgrid.grid.datastore import DataStore
from deskgrid.grid.db import Database, normalize_url
from deskgrid.grid.errors import BadRequest, NotFound, TooLarge
from deskgrid.grid.migrations import HEAD, current_version, upgrade
from deskgrid.grid.service import GridService
from deskgrid.grid.voting import replicas_wanted, tally
from tests.grid_fixtures import catalog


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
    assert "ix_jobs_finished" in indexes and "ix_jobs_completed" not in indexes


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


def _store(tmp_path, **kwargs) -> DataStore:
    db = Database(f"sqlite:///{tmp_path / 'grid.db'}")
    upgrade(db)
    return DataStore(tmp_path / "data", db, **kwargs)


async def _chunks(*parts: bytes):
    for part in parts:
        yield part


def test_small_blobs_are_database_rows_and_large_ones_files(tmp_path) -> None:
    store = _store(tmp_path, small_limit=4)
    small, large = store.put_bytes(b"abc"), store.put_bytes(b"abcdef")
    assert small.sha256 == hashlib.sha256(b"abc").hexdigest() and small.size == 3
    assert not store.path(small.sha256).exists()  # a row, no file
    assert store.locate(small.sha256) == b"abc" and store.size(small.sha256) == 3
    blob = store.path(large.sha256)
    assert store.locate(large.sha256) == blob and store.size(large.sha256) == 6
    assert list(blob.parent.iterdir()) == [blob]  # its temporary file was renamed into place
    for ref, content in ((small, b"abc"), (large, b"abcdef")):
        assert store.read_bytes(ref.sha256) == content and store.put_bytes(content) == ref
    with store.db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM blobs")).scalar() == 1
    with pytest.raises(BadRequest, match="does not match"):
        store.put_bytes(b"abc", expected="0" * 64)
    with pytest.raises(NotFound):
        store.read_bytes("1" * 64)
    assert store.locate("1" * 64) is None and not store.exists("1" * 64)
    with pytest.raises(BadRequest, match="64 lowercase"):
        store.path("../../etc/passwd")
    with pytest.raises(BadRequest, match="64 lowercase"):
        store.size("../../etc/passwd")


def test_streams_are_limited_and_kept_where_their_size_says(tmp_path) -> None:
    store = _store(tmp_path, small_limit=4)
    small = asyncio.run(store.put_stream(_chunks(b"ab", b"c"), limit=10))
    assert small.size == 3 and store.locate(small.sha256) == b"abc"
    large = asyncio.run(store.put_stream(_chunks(b"ab", b"cde", b"fg"), limit=10))
    assert large.size == 7 and store.read_bytes(large.sha256) == b"abcdefg"
    assert store.locate(large.sha256) == store.path(large.sha256)
    with pytest.raises(TooLarge):  # refused while still in memory
        asyncio.run(store.put_stream(_chunks(b"ab", b"cd"), limit=3))
    with pytest.raises(TooLarge):  # refused while written to a file
        asyncio.run(store.put_stream(_chunks(b"abcde", b"fghijk"), limit=10))
    for parts in ((b"x",), (b"xxxxxx",)):
        with pytest.raises(BadRequest):
            asyncio.run(store.put_stream(_chunks(*parts), limit=10, expected="2" * 64))
    assert list((tmp_path / "data" / "tmp").iterdir()) == []


def test_files_from_before_the_blob_table_are_still_read(tmp_path) -> None:
    files_only = _store(tmp_path, small_limit=0)  # as an older grid stored everything
    ref = files_only.put_bytes(b"old result")
    store = _store(tmp_path)
    assert store.read_bytes(ref.sha256) == b"old result" and store.size(ref.sha256) == 10


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


@pytest.mark.parametrize(
    "where, words",
    [("postgresql://grid:secret@127.0.0.1:1/grid", "PostgreSQL is running"), ("file", "folder")],
)
def test_a_database_that_cannot_be_opened_is_a_sentence(tmp_path, where, words) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    url = f"sqlite:///{blocker / 'grid.db'}" if where == "file" else where
    with pytest.raises(DeskGridError, match=words) as caught:
        GridService(GridConfig(data_dir=tmp_path, db_url=url), catalog())
    assert "cannot be opened" in str(caught.value) and "secret" not in str(caught.value)

"""An oracle store written before trust levels (schema 1) opens with every task at level 1,
keeps its rows, and takes tasks of any level afterwards."""

import sqlite3

import pytest

from deskgrid.errors import DeskGridError
from deskgrid.oracle.store import SCHEMA_VERSION, OracleStore, OracleTaskState

TASK = dict(
    requester="0x" + "ab" * 20,
    app_id=1,
    pool_id=1,
    params="{}",
    price=5_000_000_000,
    final_deadline=1_700_000_600,
    block=7,
    block_hash="0x" + "cd" * 32,
)


def schema_one_store(path) -> None:
    """A store as schema 1 wrote it: no `trust` column, schema 1, one task in it."""
    OracleStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE oracle_tasks DROP COLUMN trust")
        db.execute("UPDATE oracle_meta SET value = '1' WHERE key = 'schema'")
        db.execute(
            "INSERT INTO oracle_tasks (task_id, state, requester, app_id, pool_id, params, price,"
            " final_deadline, block, block_hash, created_at, updated_at)"
            " VALUES ('0x01', 'SUBMITTED', :requester, :app_id, :pool_id, :params, :price,"
            " :final_deadline, :block, :block_hash, 0, 0)",
            TASK,
        )
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(oracle_tasks)")}
    assert "trust" not in columns


def test_tasks_of_a_schema_one_store_are_level_one(tmp_path):
    path = tmp_path / "oracle.sqlite"
    schema_one_store(path)
    store = OracleStore(path)
    old = store.task("0x01")
    assert old.trust == 1 and old.state is OracleTaskState.SUBMITTED and old.price == TASK["price"]
    assert store.add_task(task_id="0x02", trust=4, **TASK)
    assert store.task("0x02").trust == 4
    store.close()
    with sqlite3.connect(path) as db:
        [(version,)] = db.execute("SELECT value FROM oracle_meta WHERE key = 'schema'")
    assert int(version) == SCHEMA_VERSION == 2
    again = OracleStore(path)  # a second opening migrates nothing more
    assert [t.trust for t in again.all_tasks()] == [1, 4]


def test_a_task_added_without_a_level_is_level_one(tmp_path):
    store = OracleStore(tmp_path / "oracle.sqlite")
    assert store.add_task(task_id="0x03", **TASK)
    assert store.task("0x03").trust == 1


def test_a_newer_store_is_refused(tmp_path):
    path = tmp_path / "oracle.sqlite"
    OracleStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE oracle_meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(DeskGridError, match="newer DeskGrid"):
        OracleStore(path)

"""PendingStore: finished results kept until the grid acknowledges them."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from deskgrid.worker.identity import KEY_FILE, PASSWORD_FILE, worker_account
from deskgrid.worker.pending import PendingStore

LEASE = "0123456789abcdef0123456789abcdef"


def test_save_list_load_remove(tmp_path: Path) -> None:
    store = PendingStore(tmp_path / "pending")
    entry = store.save(LEASE, "job-1", "echo", b"result")
    assert entry.size == 6
    reopened = PendingStore(tmp_path / "pending")
    assert reopened.entries() == [entry]
    assert reopened.load(entry) == b"result"
    reopened.remove(LEASE)
    assert reopened.entries() == []
    assert list((tmp_path / "pending").iterdir()) == []


def test_incomplete_or_damaged_entries_are_ignored(tmp_path: Path) -> None:
    store = PendingStore(tmp_path)
    (tmp_path / f"{LEASE}.result").write_bytes(b"no meta: crashed between the two writes")
    (tmp_path / ".x.result.123.tmp").write_bytes(b"half")
    (tmp_path / "garbage.json").write_text("{not json")
    assert store.entries() == []
    assert store.clean() == 2
    entry = store.save(LEASE, "job", "echo", b"good")
    (tmp_path / f"{LEASE}.result").write_bytes(b"bad!")
    assert store.load(entry) is None


def test_workers_sharing_the_folder_see_their_own_results(tmp_path: Path) -> None:
    store = PendingStore(tmp_path)
    mine = store.save(LEASE, "job", "echo", b"a", worker="0xAbC")
    store.save("f" * 32, "job", "echo", b"b", worker="0xdef")
    assert store.entries(worker="0xabc") == [mine]
    assert len(store.entries()) == 2


def test_lease_ids_cannot_escape_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        PendingStore(tmp_path).save("../evil", "job", "echo", b"x")


def test_worker_key_is_made_once_and_private(tmp_path: Path) -> None:
    account = worker_account(tmp_path)
    assert worker_account(tmp_path).address == account.address
    for name in (KEY_FILE, PASSWORD_FILE):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert account.key.hex().removeprefix("0x") not in (tmp_path / KEY_FILE).read_text()

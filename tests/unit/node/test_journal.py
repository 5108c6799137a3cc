"""The requester journal: the secret and the result only encrypted, under the paying wallet's
key; files 0600 in a 0700 folder, replaced atomically; the states an order goes through."""

from __future__ import annotations

import json
import os
import stat

import pytest
from eth_account import Account

from deskgrid.errors import DeskGridError
from deskgrid.node.journal import RequestJournal, network_folder

SECRET = 0x1D2C3B4A59687766554433221100FFEEDDCCBBAA99887766554433221100AABB
GENESIS = "0x" + "ab" * 32
HUB = "0x" + "12" * 20


def journal(account=None) -> RequestJournal:
    account = account or Account.from_key(b"\x01" * 32)
    return RequestJournal.open(1337, GENESIS, HUB, account)


def prepare(j: RequestJournal, secret: int = SECRET):
    return j.prepare(
        app="vanity",
        params={"patterns": ["1A"], "public_key": "02" + "aa" * 32},
        compressed=True,
        category=1,
        price=5_000_000_000,
        expected_task_id=b"\x07" * 32,
        secret=secret,
    )


def test_the_journal_lives_per_network_and_hub_in_private_folders(deskgrid_home):
    folder = network_folder(1337, GENESIS, HUB)
    assert folder == deskgrid_home / "journal" / f"1337-{'ab' * 6}" / HUB.lower()
    j = journal()
    entry = prepare(j)
    path = j.path(entry.order_id)
    assert path.parent == folder
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((deskgrid_home / "journal").stat().st_mode) == 0o700


def test_the_secret_round_trips_and_is_never_in_clear_on_disk():
    j = journal()
    entry = prepare(j)
    assert j.secret(j.read(entry.order_id)) == SECRET
    text = j.path(entry.order_id).read_text()
    for form in (f"{SECRET:x}", f"{SECRET:064x}", f"{SECRET:X}", str(SECRET)):
        assert form.lower() not in text.lower()
    doc = json.loads(text)
    assert doc["state"] == "prepared" and doc["expected_task_id"] == "0x" + "07" * 32
    assert set(doc["secret"]) == {"cipher", "nonce", "body", "tag"}
    # two orders with one secret give different ciphertexts (keys per order, random nonces)
    other = prepare(j)
    assert other.secret["body"] != entry.secret["body"]


def test_the_result_is_stored_encrypted_and_read_back():
    j = journal()
    entry = prepare(j)
    wif = "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn"
    j.store_result(entry, "1AbcXYZ", wif)
    again = j.read(entry.order_id)
    assert again.state == "completed"
    assert j.result(again) == ("1AbcXYZ", wif)
    text = j.path(entry.order_id).read_text()
    assert wif not in text and "1AbcXYZ" not in text


def test_another_wallet_cannot_read_the_secret():
    j = journal()
    entry = prepare(j)
    thief = RequestJournal(j.folder, j.requester, b"\x02" * 32)  # same address claimed, wrong key
    with pytest.raises(DeskGridError, match="cannot be decrypted"):
        thief.secret(thief.read(entry.order_id))
    other = journal(Account.from_key(b"\x03" * 32))
    assert other.entries() == []  # another requester's orders are not listed as its own
    with pytest.raises(DeskGridError, match="unlock that wallet"):
        other.secret(entry)


def test_an_altered_file_is_refused():
    j = journal()
    entry = prepare(j)
    body = bytearray.fromhex(entry.secret["body"])
    body[0] ^= 1
    entry.secret["body"] = body.hex()
    with pytest.raises(DeskGridError, match="altered"):
        j.secret(entry)


def test_writes_are_atomic_and_leave_no_temporary_files(monkeypatch):
    j = journal()
    entry = prepare(j)
    before = j.path(entry.order_id).read_bytes()

    def crash(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        j.update(entry, state="sent", tx_hash="0x" + "11" * 32)
    assert j.path(entry.order_id).read_bytes() == before  # the old file, whole
    assert [p.name for p in j.folder.iterdir() if p.name.endswith(".tmp")] == []


def test_states_and_lookups():
    j = journal()
    entry = prepare(j)
    j.signed(entry, "0x" + "aa" * 32, 4)
    j.update(entry, state="sent")
    j.update(entry, state="active", task_id="0x" + "bc" * 32)
    again = j.find("bcbc")
    assert (again.state, again.nonce, again.tx_hash) == ("active", 4, "0x" + "aa" * 32)
    assert j.find(entry.order_id[:6]).order_id == entry.order_id
    assert not again.finished
    public = again.public()
    assert "secret" not in public and "result" not in public
    with pytest.raises(DeskGridError, match="deskgrid tasks"):
        j.find("ffff")


def test_a_live_process_holds_its_orders():
    j = journal()
    entry = prepare(j)  # held by this journal until released
    other = journal()
    assert not other.lock(entry.order_id)
    j.release(entry.order_id)
    assert other.lock(entry.order_id)
    other.close()


def test_a_published_app_order_holds_its_document_and_no_secret():
    j = journal()
    document = {"params": {"top": 3}, "inputs": {"text": "ab" * 32}, "result_key": "02" + "cd" * 32}
    entry = j.prepare(
        app="wordfreq.3",
        params=document,
        compressed=False,
        category=1,
        price=2_500_000_000,
        expected_task_id=b"\x08" * 32,
        secret=None,
        kind="app",
        app_id=3,
        encrypted=True,
    )
    on_disk = json.loads(j.path(entry.order_id).read_text())
    assert on_disk["kind"] == "app" and on_disk["secret"] is None and on_disk["params"] == document
    with pytest.raises(DeskGridError, match="is a wordfreq.3 order: it has no key"):
        j.secret(entry)
    j.app_completed(entry, "ef" * 32)
    read = j.read(entry.order_id)
    assert read.state == "completed" and read.result_digest == "ef" * 32 and read.app_id == 3
    assert j.result(read) is None  # no key to show
    assert "result_digest" in read.public() and "secret" not in read.public()


def test_an_older_order_reads_as_a_vanity_order():
    j = journal()
    entry = prepare(j)
    doc = json.loads(j.path(entry.order_id).read_text())
    for newer in ("kind", "app_id", "encrypted", "result_digest", "result_path"):
        doc.pop(newer)
    j.path(entry.order_id).write_text(json.dumps(doc))
    read = j.read(entry.order_id)
    assert read.kind == "vanity" and j.secret(read) == SECRET

"""The requester journal: every paid order, written before paying, so nothing of value is lost
when the app closes, crashes or is killed while a task runs.

One journal per network (chain id + genesis hash) and hub:
`<data>/journal/<chain id>-<genesis prefix>/<hub>/<order id>.json`, one file per order (0600 in
a 0700 folder, replaced atomically). The split-key secret, and once combined the address and
its WIF, are kept encrypted with AES-256-GCM under a key derived by HKDF-SHA256 from the
requester's private key (salt and info name DeskGrid's journal and the order id): reading them
needs the paying wallet unlocked, and nothing secret is ever in clear on disk. (The OS keyring
would be the other place; a key derived from the wallet needs no second store that a machine
change or a keyring reset could lose, and the journal follows the wallet that paid.)

A published app's order (`kind` "app") holds no secret: its task document (params, input
digests, the key its result is encrypted to) is kept as `params`, and once completed the digest
of its result (`result_digest`) and, once fetched, where it was written (`result_path`).

States: `prepared` (written before anything is signed; the tx hash and nonce are added after
signing and before sending) → `sent` (the node accepted the transaction) → `active` (the task id
is known) → `completed` (combined: the result is stored) | `refunded` (the task failed; the hub
refunded the escrow) | `failed` (the deadline passed: `claim` refunds it); or `abandoned` when
the transaction provably never reached the chain (nothing was paid). `deskgrid.node.resume`
decides unfinished entries from on-chain facts.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF

from deskgrid import logs, paths
from deskgrid.atomicfile import write_atomic
from deskgrid.errors import DeskGridError

FORMAT_VERSION = 1
STATES = ("prepared", "sent", "active", "completed", "failed", "refunded", "abandoned")
UNFINISHED = frozenset({"prepared", "sent", "active", "failed"})
VANITY_ORDER = "vanity"
APP_ORDER = "app"  # a published app's order
HKDF_SALT = b"DeskGrid requester journal v1"
CIPHER = "AES-256-GCM, key HKDF-SHA256(requester private key)"


def network_folder(chain_id: int, genesis_hash: str, hub: str) -> Path:
    """`<data>/journal/<chain id>-<genesis prefix>/<hub>` (created 0700)."""
    folder = paths.sub_dir("journal") / f"{chain_id}-{genesis_hash.removeprefix('0x')[:12]}"
    folder = folder / hub.lower()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for part in (folder, folder.parent, folder.parent.parent):
        with contextlib.suppress(OSError):
            os.chmod(part, 0o700)
    return folder


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class JournalEntry:
    """One order as written on disk (the secret and the result only encrypted)."""

    order_id: str
    created: str
    requester: str
    app: str
    params: dict[str, Any]
    compressed: bool
    category: int
    price: int
    expected_task_id: str
    secret: dict[str, str] | None  # a VanityGen order's (encrypted); None for a published app
    state: str = "prepared"
    nonce: int | None = None
    tx_hash: str | None = None
    task_id: str | None = None
    block: int | None = None
    reason: str | None = None
    result: dict[str, str] | None = None
    updated: str = field(default_factory=_now)
    version: int = FORMAT_VERSION
    kind: str = VANITY_ORDER
    app_id: int | None = None  # a published app's id on the hub
    encrypted: bool = False  # a published app's result is encrypted to the requester's key
    result_digest: str | None = None  # a published app's: the sha256 of its stored result
    result_path: str | None = None  # where its result was written once fetched

    @property
    def finished(self) -> bool:
        return self.state not in UNFINISHED

    def public(self) -> dict[str, Any]:
        """What `deskgrid tasks --json` shows: everything but the ciphertexts."""
        doc = asdict(self)
        doc.pop("secret")
        doc.pop("result")
        doc["has_result"] = self.result is not None
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> JournalEntry:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in known})


class RequestJournal:
    """The orders of one requester on one network and hub."""

    def __init__(self, folder: Path, requester: str, private_key: bytes) -> None:
        self.folder = folder
        self.requester = requester
        self._key = bytes(private_key)
        logs.redact(self._key)
        self._locks: dict[str, int] = {}

    @classmethod
    def open(cls, chain_id: int, genesis_hash: str, hub: str, account: Any) -> RequestJournal:
        """The journal of `account` (an eth-account LocalAccount) on this network and hub."""
        return cls(network_folder(chain_id, genesis_hash, hub), account.address, account.key)

    # -- encryption ---------------------------------------------------------------------

    def _cipher_key(self, order_id: str) -> bytes:
        return HKDF(
            self._key,
            32,
            HKDF_SALT,
            SHA256,
            context=b"deskgrid journal order " + order_id.encode(),
        )

    def _seal(self, order_id: str, plain: bytes) -> dict[str, str]:
        nonce = secrets.token_bytes(12)
        cipher = AES.new(self._cipher_key(order_id), AES.MODE_GCM, nonce=nonce)
        cipher.update(self._aad(order_id))
        body, tag = cipher.encrypt_and_digest(plain)
        return {"cipher": CIPHER, "nonce": nonce.hex(), "body": body.hex(), "tag": tag.hex()}

    def _open(self, entry: JournalEntry, sealed: dict[str, str]) -> bytes:
        if entry.requester.lower() != self.requester.lower():
            raise DeskGridError(
                f"Order {entry.order_id} was paid by {entry.requester}; unlock that wallet to "
                "read its key."
            )
        try:
            cipher = AES.new(
                self._cipher_key(entry.order_id),
                AES.MODE_GCM,
                nonce=bytes.fromhex(sealed["nonce"]),
            )
            cipher.update(self._aad(entry.order_id))
            return cipher.decrypt_and_verify(
                bytes.fromhex(sealed["body"]), bytes.fromhex(sealed["tag"])
            )
        except (ValueError, KeyError):
            raise DeskGridError(
                f"The key of order {entry.order_id} cannot be decrypted with this wallet: "
                f"unlock the wallet that paid ({entry.requester}), or the file was altered."
            ) from None

    def _aad(self, order_id: str) -> bytes:
        return f"{order_id}:{self.requester.lower()}".encode()

    def secret(self, entry: JournalEntry) -> int:
        """The order's split-key secret (needs the paying wallet)."""
        if entry.secret is None:
            raise DeskGridError(f"Order {entry.order_id} is a {entry.app} order: it has no key.")
        value = int.from_bytes(self._open(entry, entry.secret), "big")
        logs.redact(value.to_bytes(32, "big"))
        return value

    def result(self, entry: JournalEntry) -> tuple[str, str] | None:
        """The found address and its WIF once combined, else None."""
        if entry.result is None:
            return None
        doc = json.loads(self._open(entry, entry.result))
        logs.redact(doc["wif"])
        return doc["address"], doc["wif"]

    # -- files --------------------------------------------------------------------------

    def path(self, order_id: str) -> Path:
        return self.folder / f"{order_id}.json"

    def _write(self, entry: JournalEntry) -> JournalEntry:
        entry.updated = _now()
        write_atomic(
            self.path(entry.order_id), json.dumps(asdict(entry), indent=2), sync_folder=True
        )
        return entry

    def read(self, order_id: str) -> JournalEntry:
        try:
            doc = json.loads(self.path(order_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DeskGridError(
                f"No order {order_id} in this journal; `deskgrid tasks` lists them."
            ) from None
        return JournalEntry.from_json(doc)

    def entries(self, *, all_wallets: bool = False) -> list[JournalEntry]:
        """This requester's orders (every wallet's with `all_wallets`), oldest first."""
        found = []
        for file in sorted(self.folder.glob("*.json")):
            try:
                entry = JournalEntry.from_json(json.loads(file.read_text(encoding="utf-8")))
            except (ValueError, TypeError):
                continue  # not ours to judge: left as it is
            if all_wallets or entry.requester.lower() == self.requester.lower():
                found.append(entry)
        return sorted(found, key=lambda e: (e.created, e.order_id))

    def find(self, ident: str) -> JournalEntry:
        """An order by its order id, or its task id (a unique prefix of either is enough)."""
        ident = ident.lower().removeprefix("0x")
        matches = [
            e
            for e in self.entries()
            if e.order_id.startswith(ident)
            or (e.task_id or "").removeprefix("0x").startswith(ident)
        ]
        if len(matches) != 1:
            what = "no order" if not matches else "several orders"
            raise DeskGridError(
                f"{what.capitalize()} match '{ident}'; `deskgrid tasks` lists the order ids."
            )
        return matches[0]

    # -- the steps of one order ---------------------------------------------------------

    def prepare(
        self,
        *,
        app: str,
        params: dict[str, Any],
        compressed: bool,
        category: int,
        price: int,
        expected_task_id: bytes,
        secret: int | None,
        kind: str = VANITY_ORDER,
        app_id: int | None = None,
        encrypted: bool = False,
    ) -> JournalEntry:
        """Write the order before anything is signed; the entry is locked by this process
        until `release` (or its exit), so a `resume` elsewhere leaves it alone meanwhile."""
        order_id = secrets.token_hex(8)
        sealed = None if secret is None else self._seal(order_id, secret.to_bytes(32, "big"))
        entry = JournalEntry(
            order_id=order_id,
            created=_now(),
            requester=self.requester,
            app=app,
            params=params,
            compressed=compressed,
            category=category,
            price=price,
            expected_task_id="0x" + expected_task_id.hex(),
            secret=sealed,
            kind=kind,
            app_id=app_id,
            encrypted=encrypted,
        )
        self.lock(order_id)
        return self._write(entry)

    def update(self, entry: JournalEntry, **changes: Any) -> JournalEntry:
        for name, value in changes.items():
            setattr(entry, name, value)
        return self._write(entry)

    def signed(self, entry: JournalEntry, tx_hash: str, nonce: int) -> JournalEntry:
        return self.update(entry, tx_hash=tx_hash, nonce=nonce)

    def store_result(self, entry: JournalEntry, address: str, wif: str) -> JournalEntry:
        sealed = self._seal(entry.order_id, json.dumps({"address": address, "wif": wif}).encode())
        return self.update(entry, result=sealed, state="completed", reason=None)

    def app_completed(self, entry: JournalEntry, result_digest: str) -> JournalEntry:
        """A published app's task completed with the result stored under `result_digest`."""
        return self.update(entry, state="completed", result_digest=result_digest, reason=None)

    # -- one process per entry ----------------------------------------------------------

    def lock(self, order_id: str) -> bool:
        """Hold the order's lock (False when another live process holds it). The lock is an
        OS file lock: a process killed for any reason lets go of it."""
        if order_id in self._locks:
            return True
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: one process at a time is assumed
            return True
        fd = os.open(self.folder / f".{order_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._locks[order_id] = fd
        return True

    def release(self, order_id: str) -> None:
        fd = self._locks.pop(order_id, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        for order_id in list(self._locks):
            self.release(order_id)

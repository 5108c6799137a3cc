"""A wallet's history on one network: every movement of its RLC and ETH, persisted as JSON
(atomic write) in `<data>/history/<chain id>-<genesis>/<address>.json`, newest first.

A record is one movement on one side of the account: `account` "wallet" (the RLC and ETH the
address holds), "escrow" (its free balance on the hub) or "stake" (its stake on the hub, the
part locked by tasks included), so a reader can sum each side:
`signed_amount` per (asset, account), minus the `fee_wei` of the records that carry one, gives
the change of that balance. Records the wallet sent itself (`origin` "sent") go pending →
mined → confirmed (the network's confirmation depth) or failed; records found in the chain's
logs (`origin` "logs") are mined, then confirmed. A record is keyed by (tx hash, log index,
kind, side); the wallet's own records have no log index."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from deskgrid import paths
from deskgrid.jsonfile import read_json, write_json_atomic

TxStatus = Literal["pending", "mined", "failed", "confirmed"]
TxKind = Literal[
    "send",  # RLC or ETH to another address
    "receive",  # RLC or ETH from another address
    "faucet",  # a demo faucet's gift
    "deposit",  # wallet RLC into the hub escrow (out of the wallet, into the escrow)
    "withdraw",  # escrow RLC back to the wallet (out of the escrow, into the wallet)
    "payment",  # a task's price: from the wallet (paid in one transaction) or the escrow
    "refund",  # a failed task's price back: to the escrow, or to the wallet from a requester
    "reward",  # the hub paid the account for a task (into the escrow)
    "fee",  # the ETH network fee of a transaction found in the logs
    "stake",  # escrow RLC into a stake (out of the payer's escrow, into the staked one's stake)
    "unstake",  # stake RLC back to the escrow (out of the stake, into the escrow)
    "slashed",  # stake lost on a task (an out-voted result, or a pool's task claimed late)
]
Asset = Literal["RLC", "ETH"]
Direction = Literal["in", "out"]
Side = Literal["wallet", "escrow", "stake"]
Origin = Literal["sent", "logs"]
# kinds whose assets leave the side they are recorded on
_OUT = {
    "wallet": ("send", "deposit", "payment", "fee"),
    "escrow": ("withdraw", "payment", "stake"),
    "stake": ("unstake", "slashed"),
}


@dataclass(frozen=True)
class TxRecord:
    """One movement as the wallet shows it. `amount` is in base units of `asset` (nRLC or
    wei); `counterparty` is the other side (recipient, sender, the hub or a requester
    contract). `fee_wei` is the network fee the wallet paid for the transaction, on one record
    of it at most (None while pending)."""

    tx_hash: str
    kind: TxKind
    asset: Asset
    amount: int
    counterparty: str
    status: TxStatus = "pending"
    created_at: int = field(default_factory=lambda: int(time.time()))
    block_number: int | None = None
    fee_wei: int | None = None
    error: str | None = None
    account: Side = "wallet"
    origin: Origin = "sent"
    log_index: int | None = None
    task_id: str | None = None

    @property
    def direction(self) -> Direction:
        """ "out" when the assets leave the side (`account`) the record is on, else "in"."""
        return "out" if self.kind in _OUT[self.account] else "in"

    @property
    def key(self) -> tuple[str, int | None, str, str]:
        """One log can move two sides (a stake: escrow out, stake in): the side is part of it."""
        return (self.tx_hash, self.log_index, self.kind, self.account)

    @property
    def signed_amount(self) -> int:
        """What the record adds to its side's balance of `asset` (the fee apart); nothing
        for a failed transaction."""
        if self.status == "failed" and self.kind != "fee":
            return 0
        return -self.amount if self.direction == "out" else self.amount

    def confirmations(self, head: int) -> int:
        """Blocks on top of the record's block (0 while it is not in a block)."""
        if self.block_number is None or self.status in ("pending", "failed"):
            return 0
        return max(0, head - self.block_number)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> TxRecord:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "origin" not in known:  # written before the history had sides and origins
            known["origin"] = "logs" if data.get("kind") == "receive" else "sent"
        record = cls(**known)  # type: ignore[arg-type]
        if record.account not in _OUT:
            raise ValueError(f"unknown side {record.account!r}")
        return record


def network_folder(chain_id: int, genesis_hash: str) -> Path:
    return paths.sub_dir("history") / f"{chain_id}-{genesis_hash[2:14]}"


def _covers(own: TxRecord, found: TxRecord) -> bool:
    """Whether a record without a log index (the wallet's own, or one written before records
    had log indexes) already tells the movement `found` in the logs of the same side."""
    return (
        own.log_index is None
        and "fee" not in (own.kind, found.kind)
        and own.tx_hash == found.tx_hash
        and own.account == found.account
        and own.asset == found.asset
    )


class TxHistory:
    """Thread-safe list of records for one address, saved on every change."""

    def __init__(self, path: Path | None) -> None:
        """`path=None` keeps the history in memory only."""
        self.path = path
        self._lock = threading.Lock()
        self._records: list[TxRecord] = []
        if path is not None:
            try:
                data = read_json(path) or []
            except (OSError, ValueError):
                data = []
            for item in data if isinstance(data, list) else []:
                try:
                    record = TxRecord.from_json(item)
                except (TypeError, AttributeError, ValueError):
                    continue
                self._records.append(record)

    @classmethod
    def for_address(cls, chain_id: int, genesis_hash: str, address: str) -> TxHistory:
        return cls(network_folder(chain_id, genesis_hash) / f"{address}.json")

    def records(self) -> list[TxRecord]:
        with self._lock:
            return list(self._records)

    def pending(self) -> list[TxRecord]:
        return [r for r in self.records() if r.status == "pending"]

    def get(self, tx_hash: str) -> TxRecord | None:
        """The wallet's own record of a transaction (else the first one found in the logs)."""
        records = [r for r in self.records() if r.tx_hash == tx_hash]
        return next((r for r in records if r.origin == "sent"), records[0] if records else None)

    def has_own(self, tx_hash: str) -> bool:
        """Whether the wallet recorded this transaction itself (it then carries its fee)."""
        return any(r.tx_hash == tx_hash and r.origin == "sent" for r in self.records())

    def add(self, record: TxRecord) -> TxRecord:
        """Add the wallet's own record of a transaction, newest; it replaces a record with the
        same key and what the logs told of the same side of that transaction."""
        with self._lock:
            self._records = [
                r
                for r in self._records
                if r.key != record.key and not (r.origin == "logs" and _covers(record, r))
            ]
            self._records.insert(0, record)
            self._save()
        return record

    def add_new(self, record: TxRecord) -> bool:
        """Add a record found in the chain's logs unless it is known: the same key, or a record
        without log index of the same transaction, side and asset (the wallet's own record of a
        transaction wins over the logs); True when added."""
        with self._lock:
            if any(r.key == record.key or _covers(r, record) for r in self._records):
                return False
            # newest first: before the first record older than it, the others keep their order
            at = next(
                (i for i, r in enumerate(self._records) if r.created_at < record.created_at),
                len(self._records),
            )
            self._records.insert(at, record)
            self._save()
        return True

    def drop_found_after(self, block: int) -> int:
        """Forget the records found in the logs of blocks after `block` (a reorg replaced
        them); returns how many went."""
        with self._lock:
            kept = [
                r
                for r in self._records
                if not (
                    r.origin == "logs" and r.block_number is not None and r.block_number > block
                )
            ]
            dropped = len(self._records) - len(kept)
            if dropped:
                self._records = kept
                self._save()
        return dropped

    def confirm(self, head: int, depth: int) -> list[TxRecord]:
        """Mark "confirmed" the mined records with at least `depth` blocks on top of theirs
        (`head` is the newest block); returns them."""
        with self._lock:
            done = []
            for i, record in enumerate(self._records):
                if record.status == "mined" and record.confirmations(head) >= depth:
                    self._records[i] = replace(record, status="confirmed")
                    done.append(self._records[i])
            if done:
                self._save()
        return done

    def update(self, tx_hash: str, **changes: object) -> TxRecord | None:
        """Change the wallet's own record of a transaction."""
        with self._lock:
            for i, record in enumerate(self._records):
                if record.tx_hash == tx_hash and record.origin == "sent":
                    self._records[i] = replace(record, **changes)  # type: ignore[arg-type]
                    self._save()
                    return self._records[i]
        return None

    def _save(self) -> None:
        if self.path is not None:
            write_json_atomic(self.path, [asdict(r) for r in self._records])


def forget_other_runs(chain_id: int, genesis_hash: str) -> int:
    """Delete the histories of earlier runs of a chain that restarts from a new genesis each
    time (the embedded demo chain); returns how many folders went."""
    import shutil

    keep = network_folder(chain_id, genesis_hash).name
    removed = 0
    for folder in paths.sub_dir("history").glob(f"{chain_id}-*"):
        if folder.is_dir() and folder.name != keep:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed

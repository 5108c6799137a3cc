"""A wallet's transaction history on one network, persisted as JSON (atomic write) in
`<data>/history/<chain id>-<genesis>/<address>.json`, newest first."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from deskgrid import paths
from deskgrid.jsonfile import read_json, write_json_atomic

TxStatus = Literal["pending", "mined", "failed", "confirmed"]
TxKind = Literal["send", "receive", "deposit", "withdraw", "faucet"]
Asset = Literal["RLC", "ETH"]
Direction = Literal["in", "out"]
_OUTGOING = ("send", "deposit")


@dataclass(frozen=True)
class TxRecord:
    """One transaction as the wallet shows it. `amount` is in base units of `asset`
    (nRLC or wei); `counterparty` is the other side (recipient, sender or the hub). The wallet's
    own transactions go pending → mined | failed; transfers received, found in blocks, are
    "confirmed" from the start."""

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

    @property
    def direction(self) -> Direction:
        """ "out" when the wallet's assets leave it (send, deposit to escrow), else "in"."""
        return "out" if self.kind in _OUTGOING else "in"

    @classmethod
    def from_json(cls, data: dict[str, object]) -> TxRecord:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)  # type: ignore[arg-type]


def network_folder(chain_id: int, genesis_hash: str) -> Path:
    return paths.sub_dir("history") / f"{chain_id}-{genesis_hash[2:14]}"


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
                    self._records.append(TxRecord.from_json(item))
                except (TypeError, AttributeError):
                    continue

    @classmethod
    def for_address(cls, chain_id: int, genesis_hash: str, address: str) -> TxHistory:
        return cls(network_folder(chain_id, genesis_hash) / f"{address}.json")

    def records(self) -> list[TxRecord]:
        with self._lock:
            return list(self._records)

    def pending(self) -> list[TxRecord]:
        return [r for r in self.records() if r.status == "pending"]

    def get(self, tx_hash: str) -> TxRecord | None:
        return next((r for r in self.records() if r.tx_hash == tx_hash), None)

    def add(self, record: TxRecord) -> TxRecord:
        with self._lock:
            self._records = [r for r in self._records if r.tx_hash != record.tx_hash]
            self._records.insert(0, record)
            self._save()
        return record

    def add_new(self, record: TxRecord) -> bool:
        """Add unless a record of the same transaction is there (the wallet's own record of a
        transaction wins over one found in the chain's logs); True when added."""
        with self._lock:
            if any(r.tx_hash == record.tx_hash for r in self._records):
                return False
            # newest first: before the first record older than it, the others keep their order
            at = next(
                (i for i, r in enumerate(self._records) if r.created_at < record.created_at),
                len(self._records),
            )
            self._records.insert(at, record)
            self._save()
        return True

    def drop_received_after(self, block: int) -> int:
        """Forget transfers received in blocks after `block` (a reorg replaced them); returns
        how many went."""
        with self._lock:
            kept = [
                r
                for r in self._records
                if not (
                    r.kind == "receive" and r.block_number is not None and r.block_number > block
                )
            ]
            dropped = len(self._records) - len(kept)
            if dropped:
                self._records = kept
                self._save()
        return dropped

    def update(self, tx_hash: str, **changes: object) -> TxRecord | None:
        with self._lock:
            for i, record in enumerate(self._records):
                if record.tx_hash == tx_hash:
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

"""Transfers a wallet received, found on the chain: RLC `Transfer` events to its address (on any
network) and plain ETH payments to it (only on development chains: ETH moves leave no log, so
finding them means reading every block's transactions, which is cheap only there).

Each becomes a "receive" record, status "confirmed", in the wallet's history. The scan goes on
from the last block scanned, remembered next to the history file (`<address>.incoming.json`).
Escrow payouts (hub rewards) are not transfers and are not listed here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import RLCToken
from deskgrid.chain.reverts import ChainError
from deskgrid.wallet.history import Asset, TxHistory, TxRecord
from deskgrid.wallet.log_cursor import LogCursor

LOG_SPAN = 2_000  # blocks per log query
ETH_SPAN = 200  # blocks read one by one per range on a development chain
RANGES_PER_SCAN = 10  # a long way behind catches up over several blocks
NETWORK_LOOKBACK = 10_000  # a wallet new to a network looks this far back (about 1.4 days)


@dataclass(frozen=True)
class Received:
    tx_hash: str
    asset: Asset
    amount: int
    sender: str
    block_number: int


def cursor_path(history: TxHistory) -> Path | None:
    """Where the scan's progress is kept: beside the history file (None: in memory)."""
    if history.path is None:
        return None
    return history.path.with_name(f"{history.path.stem}.incoming.json")


class IncomingScanner:
    """Blocking: call it off the GUI thread. One scanner per wallet and chain."""

    def __init__(
        self,
        chain: Chain,
        rlc: RLCToken,
        address: str,
        history: TxHistory,
        *,
        scan_eth: bool | None = None,
    ) -> None:
        self.chain = chain
        self.rlc = rlc
        self.address = address
        self.history = history
        self.scan_eth = chain.is_dev if scan_eth is None else scan_eth
        self.cursor: LogCursor | None = None
        self._timestamps: dict[int, int] = {}

    def scan(self) -> list[TxRecord]:
        """Read the blocks since the last scan; returns the records it added."""
        try:
            head = self.chain.block_number()
            if self.cursor is None:
                first = 0 if self.chain.is_dev else max(0, head - NETWORK_LOOKBACK)
                self.cursor = LogCursor(cursor_path(self.history), first_block=first)
            added: list[TxRecord] = []
            span = ETH_SPAN if self.scan_eth else LOG_SPAN
            for _ in range(RANGES_PER_SCAN):
                blocks = self.cursor.next_range(self.chain, head, span)
                if blocks is None:
                    break
                if blocks.rewound:
                    self.history.drop_received_after(blocks.start - 1)
                for received in self.received(blocks.start, blocks.end):
                    record = self._record(received)
                    if self.history.add_new(record):
                        added.append(record)
                self.cursor.advance(self.chain, blocks.end)
            return added
        except ChainError:
            raise
        except Exception as exc:
            raise ChainError(
                f"Reading the chain for received transfers failed ({type(exc).__name__}: {exc}); "
                "it is tried again on the next block."
            ) from None

    def received(self, start: int, end: int) -> list[Received]:
        """What reached the address in blocks `start`..`end`, oldest first; several RLC
        transfers in one transaction count as one."""
        by_tx: dict[str, Received] = {}
        for log in self.rlc.logs("Transfer", start, end, to=self.address):
            sender = log["args"]["from"]
            amount = int(log["args"]["value"])
            if sender == self.address or amount == 0:
                continue  # a send to itself is already in the history as a send
            tx_hash = log["transactionHash"].to_0x_hex()
            earlier = by_tx.get(tx_hash)
            if earlier is not None:
                amount += earlier.amount
                sender = earlier.sender
            by_tx[tx_hash] = Received(tx_hash, "RLC", amount, sender, int(log["blockNumber"]))
        if self.scan_eth:
            for number in range(start, end + 1):
                for found in self._eth_in_block(number):
                    by_tx.setdefault(found.tx_hash, found)
        return sorted(by_tx.values(), key=lambda r: r.block_number)

    def _eth_in_block(self, number: int) -> list[Received]:
        with self.chain.lock:
            block = self.chain.w3.eth.get_block(number, full_transactions=True)
        self._timestamps[number] = int(block["timestamp"])
        found = []
        for tx in block["transactions"]:
            if tx.get("to") == self.address and tx["from"] != self.address and tx["value"] > 0:
                found.append(
                    Received(tx["hash"].to_0x_hex(), "ETH", int(tx["value"]), tx["from"], number)
                )
        return found

    def _timestamp(self, number: int) -> int:
        if number not in self._timestamps:
            if len(self._timestamps) > 1024:
                self._timestamps.clear()
            with self.chain.lock:
                self._timestamps[number] = int(self.chain.w3.eth.get_block(number)["timestamp"])
        return self._timestamps[number]

    def _record(self, received: Received) -> TxRecord:
        return TxRecord(
            received.tx_hash,
            "receive",
            received.asset,
            received.amount,
            received.sender,
            status="confirmed",
            created_at=self._timestamp(received.block_number),
            block_number=received.block_number,
            fee_wei=0,
        )

"""Everything that moved an account's RLC and ETH, found on the chain: RLC `Transfer` logs from
and to its address, its `Approval` logs (an approval moves nothing but costs a fee) and the
hub's logs about its escrow and stake (deposits, withdrawals, task payments, refunds, rewards,
stake put in and taken out, stake slashed), on any
network; plain ETH payments and the fees of every transaction it sent, only on development
chains (they leave no log, so finding them means reading every block's transactions, which is
cheap only there; elsewhere a fee is found with the logs of its transaction).

Each transaction found is read from its receipt (`wallet.movements`) and becomes records found
in the logs, added to the wallet's history once each (keyed by tx hash, log index, kind and side;
what the wallet recorded itself is not listed twice). The scan goes on from the last block
scanned, remembered beside the history (`<address>.activity.json`); a reorg sends it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import HubContract, RLCToken
from deskgrid.chain.hub_events import LOG_SPAN, account_logs
from deskgrid.chain.reverts import ChainError
from deskgrid.wallet.history import TxHistory, TxRecord
from deskgrid.wallet.log_cursor import LogCursor
from deskgrid.wallet.movements import MovementReader

ETH_SPAN = 200  # blocks read one by one per range on a development chain
RANGES_PER_SCAN = 10  # a long way behind catches up over several blocks
NETWORK_LOOKBACK = 10_000  # a wallet new to a network looks this far back (about 1.4 days)


def cursor_path(history: TxHistory) -> Path | None:
    """Where the scan's progress is kept: beside the history file (None: in memory)."""
    if history.path is None:
        return None
    return history.path.with_name(f"{history.path.stem}.activity.json")


class AccountScanner:
    """Blocking: call it off the GUI thread. One scanner per wallet and chain."""

    def __init__(
        self,
        chain: Chain,
        rlc: RLCToken,
        hub: HubContract,
        address: str,
        history: TxHistory,
        *,
        faucet: str | None = None,
        scan_eth: bool | None = None,
    ) -> None:
        self.chain = chain
        self.rlc, self.hub = rlc, hub
        self.address = address
        self.history = history
        self.scan_eth = chain.is_dev if scan_eth is None else scan_eth
        self.reader = MovementReader(rlc, hub, address, faucet)
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
                    self.history.drop_found_after(blocks.start - 1)
                for record in self.found(blocks.start, blocks.end):
                    if self.history.add_new(record):
                        added.append(record)
                self.cursor.advance(self.chain, blocks.end)
            return added
        except ChainError:
            raise
        except Exception as exc:
            raise ChainError(
                f"Reading the chain for the wallet's history failed ({type(exc).__name__}: "
                f"{exc}); it is tried again on the next block."
            ) from None

    def found(self, start: int, end: int) -> list[TxRecord]:
        """The account's movements in blocks `start`..`end`, oldest first."""
        txs: dict[str, tuple[int, int, Any]] = {}  # hash → (block, index, the tx if read)
        for log in (
            self.rlc.logs("Transfer", start, end, **{"from": self.address})
            + self.rlc.logs("Transfer", start, end, to=self.address)
            + self.rlc.logs("Approval", start, end, owner=self.address)  # its fee
            + account_logs(self.hub, self.address, start, end)
            + self.hub.logs("Staked", start, end, **{"from": self.address})  # staked for others
        ):
            key = (int(log["blockNumber"]), int(log.get("transactionIndex") or 0), None)
            txs.setdefault(log["transactionHash"].to_0x_hex(), key)
        if self.scan_eth:
            for number in range(start, end + 1):
                for tx in self._eth_txs(number):
                    txs[tx["hash"].to_0x_hex()] = (number, int(tx.get("transactionIndex") or 0), tx)
        records: list[TxRecord] = []
        for tx_hash, (number, _, tx) in sorted(txs.items(), key=lambda item: item[1][:2]):
            with self.chain.lock:
                receipt = self.chain.w3.eth.get_transaction_receipt(tx_hash)
            records += self.reader.read(
                receipt,
                timestamp=self._timestamp(number),
                tx=tx,
                with_fee=not self.history.has_own(tx_hash),
            )
        return records

    def _eth_txs(self, number: int) -> list[Any]:
        """The transactions of a block that the account sent or that paid it ETH."""
        with self.chain.lock:
            block = self.chain.w3.eth.get_block(number, full_transactions=True)
        self._timestamps[number] = int(block["timestamp"])
        return [
            tx
            for tx in block["transactions"]
            if tx["from"] == self.address or (tx.get("to") == self.address and tx["value"] > 0)
        ]

    def _timestamp(self, number: int) -> int:
        if number not in self._timestamps:
            if len(self._timestamps) > 1024:
                self._timestamps.clear()
            with self.chain.lock:
                self._timestamps[number] = int(self.chain.w3.eth.get_block(number)["timestamp"])
        return self._timestamps[number]

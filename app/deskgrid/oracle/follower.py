"""Follow `TaskRequested` on the hub from a persistent cursor, `confirmations` blocks deep.

Each poll reads the confirmed blocks after the cursor, records every task of our pool in the
oracle store (a duplicate event changes nothing), then moves the cursor, remembering the hash
of its block. When that hash no longer matches the chain, a reorg deeper than the
confirmations happened: it is reported, the cursor goes back, and the tasks seen in the
dropped blocks are read again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import HubContract
from deskgrid.oracle.store import OracleStore

log = logging.getLogger(__name__)

REORG_REWIND = 64


@dataclass(frozen=True)
class ReorgReport:
    block: int
    expected_hash: str
    found_hash: str
    rewound_to: int

    def sentence(self) -> str:
        return (
            f"The chain reorganised deeper than the confirmations: block {self.block} changed "
            f"({self.expected_hash[:10]}… → {self.found_hash[:10]}…). Tasks after block "
            f"{self.rewound_to} are read again; consider more confirmations."
        )


class ChainFollower:
    def __init__(
        self,
        chain: Chain,
        hub: HubContract,
        store: OracleStore,
        *,
        pool_id: int,
        confirmations: int = 0,
        start_block: int = 0,
        batch_blocks: int = 2_000,
        on_reorg: Callable[[ReorgReport], None] | None = None,
    ) -> None:
        self.chain = chain
        self.hub = hub
        self.store = store
        self.pool_id = pool_id
        self.confirmations = confirmations
        self.start_block = start_block
        self.batch_blocks = batch_blocks
        self.on_reorg = on_reorg
        self.reorgs: list[ReorgReport] = []

    def _block_hash(self, number: int) -> str:
        with self.chain.lock:
            return self.chain.w3.eth.get_block(number)["hash"].to_0x_hex()

    def _check_reorg(self, block: int, known_hash: str) -> int:
        """The block to continue after: `block`, or an earlier one after a reorg."""
        if block < 0 or not known_hash:
            return block
        found = self._block_hash(block)
        if found == known_hash:
            return block
        rewound = max(self.start_block - 1, block - REORG_REWIND)
        report = ReorgReport(block, known_hash, found, rewound)
        self.reorgs.append(report)
        log.error(report.sentence())
        forgotten = self.store.forget_tasks_after(rewound)
        if forgotten:
            log.warning("re-reading %d task(s) after the reorg", len(forgotten))
        if self.on_reorg:
            self.on_reorg(report)
        return rewound

    def poll(self) -> list[str]:
        """Read newly confirmed blocks; returns the ids of tasks seen for the first time."""
        head = self.chain.block_number()
        safe = head - self.confirmations
        saved = self.store.get_cursor(self.hub.address)
        done, known_hash = saved if saved else (self.start_block - 1, "")
        done = self._check_reorg(done, known_hash)
        if safe <= done:
            return []
        new: list[str] = []
        start = done + 1
        while start <= safe:
            end = min(safe, start + self.batch_blocks - 1)
            for entry in self.hub.logs("TaskRequested", start, end):
                args = entry["args"]
                if int(args["poolId"]) != self.pool_id:
                    continue
                task_id = "0x" + bytes(args["taskId"]).hex()
                added = self.store.add_task(
                    task_id=task_id,
                    requester=args["requester"],
                    app_id=int(args["appId"]),
                    pool_id=int(args["poolId"]),
                    params=args["params"],
                    price=int(args["price"]),
                    trust=int(args["trust"]),
                    final_deadline=int(args["finalDeadline"]),
                    block=int(entry["blockNumber"]),
                    block_hash=entry["blockHash"].to_0x_hex(),
                )
                if added:
                    new.append(task_id)
            self.store.set_cursor(self.hub.address, end, self._block_hash(end))
            start = end + 1
        return new

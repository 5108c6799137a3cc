"""One status stream per task, merging chain facts and grid facts.

Chain: requested, confirmed (N blocks deep), finalized, failed (with the reason), claimed,
claimable (the final deadline passed while the task is still active). Grid: queued, running
(workers, progress, keys/s), completed, error. Each fact is reported once, with the time it
was seen, in the order things happen to a task (facts seen in one poll are sorted so: the
request comes before the grid's queue, the computation before the finalization); the stream
ends with the task's final fact.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import HubContract, TaskStatus
from deskgrid.money import format_rlc

FINAL_KINDS = frozenset({"finalized", "failed", "claimed"})
_TASK_EVENTS = ("TaskRequested", "TaskFinalized", "TaskFailed", "TaskClaimed")
# the order in which a task's facts happen
_RANK = {
    "requested": 0,
    "confirmed": 1,
    "queued": 2,
    "running": 3,
    "completed": 4,
    "error": 4,
    "claimable": 5,
    "finalized": 6,
    "failed": 6,
    "claimed": 7,
}


@dataclass(frozen=True)
class TimelineEvent:
    task_id: str
    kind: str
    source: str  # "chain" or "grid"
    at: float
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.kind in FINAL_KINDS

    def sentence(self) -> str:
        d = self.data
        match self.kind:
            case "requested":
                return (
                    f"requested on chain (block {d.get('block')}, {format_rlc(d.get('price', 0))})"
                )
            case "confirmed":
                return f"confirmed ({d.get('confirmations')} confirmations)"
            case "queued":
                return "queued on the grid"
            case "running":
                line = (
                    f"running on {d.get('workers')} worker(s), {d.get('progress', 0) * 100:.0f} %"
                )
                if d.get("keys_per_s"):
                    line += f", {d['keys_per_s']:,.0f} keys/s"
                return line
            case "completed":
                return "computed on the grid"
            case "error":
                return f"the grid gave up: {d.get('message')}"
            case "finalized":
                return "finalized on chain: result delivered, everyone paid"
            case "failed":
                return f"failed on chain, refunded: {d.get('reason')}"
            case "claimed":
                return "claimed after the deadline, refunded"
            case "claimable":
                return "past its final deadline: the refund can be claimed"
        return self.kind

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "kind": self.kind,
            "source": self.source,
            "at": self.at,
            **self.data,
        }


class TaskTimeline:
    """Polls the hub and the grid for one task and yields each new fact once."""

    def __init__(
        self,
        chain: Chain,
        hub: HubContract,
        task_id: bytes,
        grid: Any | None = None,
        *,
        confirmations: int = 0,
        from_block: int = 0,
    ) -> None:
        self.chain = chain
        self.hub = hub
        self.task_id = bytes(task_id)
        self.hex_id = "0x" + self.task_id.hex()
        self.grid = grid
        self.confirmations = confirmations
        self.from_block = from_block
        self._seen: set[str] = set()
        self._last_running: tuple[int, int] | None = None
        self._job_id: str | None = None
        self.finished = False

    def _event(self, kind: str, source: str, **data: Any) -> TimelineEvent | None:
        if kind != "running" and kind in self._seen:
            return None
        self._seen.add(kind)
        return TimelineEvent(self.hex_id, kind, source, time.time(), data)

    def _chain_facts(self) -> list[TimelineEvent]:
        found: list[TimelineEvent | None] = []
        head = self.chain.block_number()
        for entry in self.hub.task_logs(self.task_id, _TASK_EVENTS, self.from_block):
            name, block = entry["event"], int(entry["blockNumber"])
            if name == "TaskRequested":
                args = entry["args"]
                found.append(
                    self._event(
                        "requested",
                        "chain",
                        block=block,
                        price=int(args["price"]),
                        trust=int(args["trust"]),
                    )
                )
                if head - block >= self.confirmations:
                    found.append(
                        self._event("confirmed", "chain", confirmations=self.confirmations)
                    )
                continue
            tx = entry["transactionHash"].to_0x_hex()
            if name == "TaskFinalized":
                found.append(self._event("finalized", "chain", block=block, tx=tx))
            elif name == "TaskFailed":
                reason = entry["args"]["reason"]
                found.append(self._event("failed", "chain", reason=reason, tx=tx))
            else:
                found.append(self._event("claimed", "chain", tx=tx))
        if "requested" in self._seen and not (self._seen & FINAL_KINDS):
            task = self.hub.task(self.task_id)
            if task.status is TaskStatus.ACTIVE and self.chain.timestamp() >= task.final_deadline:
                found.append(self._event("claimable", "chain", final_deadline=task.final_deadline))
        return [e for e in found if e is not None]

    async def _grid_facts(self) -> list[TimelineEvent]:
        if self.grid is None:
            return []
        if self._job_id is None:
            page = await self.grid.list_jobs(external_id=self.hex_id)
            if not page.jobs:
                return []
            self._job_id = page.jobs[0].id
        job = await self.grid.get_job(self._job_id)
        found = [self._event("queued", "grid", job_id=job.id)]
        running = sum(1 for lease in job.leases or [] if lease.state == "IN_PROGRESS")
        if job.state in ("PENDING", "RUNNING") and running:
            key = (running, int(job.progress * 100))
            if key != self._last_running:
                self._last_running = key
                found.append(
                    self._event(
                        "running",
                        "grid",
                        workers=running,
                        progress=job.progress,
                        keys_per_s=job.keys_per_s,
                    )
                )
        if job.state == "COMPLETED":
            found.append(self._event("completed", "grid", result_sha256=job.result_sha256))
        elif job.state in ("ERROR", "CANCELLED"):
            found.append(self._event("error", "grid", message=job.message or job.state.lower()))
        return [e for e in found if e is not None]

    async def poll(self) -> list[TimelineEvent]:
        """The facts that are new since the last poll, in the order they happen (a final
        fact last)."""
        chain_facts = await asyncio.to_thread(self._chain_facts)
        try:
            grid_facts = [] if self.finished else await self._grid_facts()
        except Exception:  # the grid is optional to the timeline: chain facts still flow
            grid_facts = []
        events = in_order(grid_facts + chain_facts, time.time())
        if any(e.final for e in events):
            self.finished = True
        return events

    async def follow(self, interval: float = 0.5) -> AsyncIterator[TimelineEvent]:
        """Yield facts until the task's final fact."""
        while not self.finished:
            for event in await self.poll():
                yield event
            if not self.finished:
                await asyncio.sleep(interval)


def in_order(events: Iterable[TimelineEvent], seen_at: float) -> list[TimelineEvent]:
    """Facts seen together, in the order they happen to a task, all stamped `seen_at`."""
    ranked = sorted(events, key=lambda e: _RANK.get(e.kind, len(_RANK)))
    return [replace(e, at=seen_at) for e in ranked]

"""What wakes the oracle: a new block on the chain (`chain.newheads`: in-process for the
embedded chain, a long poll for the served one, a websocket subscription for anvil), a new
event on the grid (a long-polled `GET /events?wait=`), its stop, or its poll interval.

Each signal is watched by a task that sets one flag. A signal that is not offered (a node
that only answers polls, a grid that answers a waiting read at once) or that broke leaves
the oracle polling at its interval; while both are live, the interval only guards against a
missed signal and is RESYNC_S at least.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from deskgrid.chain.connection import Chain
from deskgrid.chain.newheads import NewHeads, new_heads

log = logging.getLogger(__name__)

GRID_WAIT_S = 20.0  # what one events read asks the grid to hold
RESYNC_S = 5.0  # the longest sleep while both signals are live
RETRY_S = 5.0  # after a failed events read
HELD_S = 1.0  # a read answered later than this was held by the grid
# events that wake no step: the oracle's own submissions, and the heartbeats' progress, which
# many workers send and which the next step notes anyway
QUIET_KINDS = frozenset({"submitted", "progress"})


class Wakeup:
    def __init__(self, chain: Chain, grid: Any, poll_interval: float) -> None:
        self.chain = chain
        self.grid = grid
        self.poll_interval = poll_interval
        self.reasons: list[str] = []  # what woke the oracle, oldest first (a short history)
        self._flag = asyncio.Event()
        self._heads: NewHeads | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._grid_holds = False  # the grid held the last empty events read

    async def start(self) -> None:
        try:
            self._heads = await new_heads(self.chain)
        except Exception as exc:  # any trouble setting up the signal: poll, as before
            log.warning("no new-block signal from the chain (%s); polling it", exc)
            self._heads = None
        if self._heads is not None:
            self._tasks["chain"] = asyncio.create_task(self._watch_chain(self._heads))
        if hasattr(self.grid, "events") and hasattr(self.grid, "metrics"):
            self._tasks["grid"] = asyncio.create_task(self._watch_grid())

    def _ring(self, reason: str) -> None:
        self.reasons.append(reason)
        del self.reasons[:-100]
        self._flag.set()

    async def _watch_chain(self, heads: NewHeads) -> None:
        try:
            while True:
                await heads.next()
                self._ring("block")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any way the signal breaks: `live()` says so, polling goes on
            log.warning("lost the chain's new-block signal (%s); polling it", exc)

    async def _watch_grid(self) -> None:
        since: int | None = None
        while True:
            try:
                if since is None:
                    since = (await self.grid.metrics()).last_event_seq
                asked = time.monotonic()
                page = await self.grid.events(since, limit=500, wait=GRID_WAIT_S)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the grid is away: the step loop reports it
                log.debug("grid events read failed (%s)", exc)
                self._grid_holds = False
                await asyncio.sleep(RETRY_S)
                continue
            took = time.monotonic() - asked
            if took >= HELD_S:
                self._grid_holds = True
            if page.events:
                since = page.last_seq
                if any(event.kind not in QUIET_KINDS for event in page.events):
                    self._ring("grid")
            elif took < HELD_S:
                # an empty answer that came at once: the grid did not hold the read (an
                # older grid, or too many waiting): read again after the poll interval
                self._grid_holds = False
                await asyncio.sleep(self.poll_interval)

    def live(self) -> bool:
        """Both signals are watched and working."""
        chain, grid = self._tasks.get("chain"), self._tasks.get("grid")
        return (
            chain is not None and not chain.done() and grid is not None and not grid.done()
        ) and self._grid_holds

    def idle_wait(self) -> float:
        return max(self.poll_interval, RESYNC_S) if self.live() else self.poll_interval

    def clear(self) -> None:
        self._flag.clear()

    async def wait(self, stop: asyncio.Event, seconds: float) -> None:
        """Until a signal, `stop`, or `seconds`."""
        stopped = asyncio.ensure_future(stop.wait())
        flagged = asyncio.ensure_future(self._flag.wait())
        try:
            await asyncio.wait({stopped, flagged}, timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            stopped.cancel()
            flagged.cancel()

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        ended = await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        for name, outcome in zip(self._tasks, ended, strict=True):
            if isinstance(outcome, Exception):
                log.warning("the %s watcher had failed: %s", name, outcome)
        self._tasks.clear()
        if self._heads is not None:
            await self._heads.aclose()
            self._heads = None

"""Polls the chain's block number off the event loop's thread and publishes `NewBlock`."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from deskgrid.chain.connection import Chain
from deskgrid.desktop.events import EventBus, NewBlock

log = logging.getLogger(__name__)


class BlockWatcher:
    def __init__(self, chain: Chain, bus: EventBus, *, interval: float = 1.0) -> None:
        self.chain = chain
        self.bus = bus
        self.interval = interval
        self.last: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def poll(self) -> int | None:
        """One poll; publishes when the head moved."""
        try:
            number = await asyncio.to_thread(self.chain.block_number)
        except Exception as exc:  # the node may be away for a moment: try again next time
            log.debug("block poll failed: %s", type(exc).__name__)
            return None
        if number != self.last:
            self.last = number
            self.bus.publish(NewBlock(number))
        return number

    async def _run(self) -> None:
        while True:
            await self.poll()
            await asyncio.sleep(self.interval)

"""Follows the open wallet on the chain: on every `NewBlock`, off the event loop's thread, it
adds what moved the wallet's assets to its history (transfers, task payments, refunds,
rewards, escrow movements, fees), confirms what is deep enough, and announces the wallet's
tasks that ended (`TaskEnded`). Passes never overlap; blocks that arrive during one make one
more pass."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from deskgrid.chain.contracts import VanityRequesterContract
from deskgrid.desktop.events import EventBus, NewBlock
from deskgrid.desktop.task_ends import TaskEndWatcher, announced_path
from deskgrid.wallet.service import WalletService

log = logging.getLogger(__name__)


class WalletFollower:
    def __init__(
        self,
        bus: EventBus,
        current: Callable[[], WalletService | None],
        requester: Callable[[], str | None] | None = None,
    ) -> None:
        """`current` gives the open wallet's service (None while none is open or it is
        locked); `requester` the VanityRequester's address, when the network has one."""
        self.bus = bus
        self.current = current
        self.requester = requester
        self._watcher: TaskEndWatcher | None = None
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._unsubscribe = bus.subscribe(self._on_event)

    def _on_event(self, event: object) -> None:
        if isinstance(event, NewBlock):
            self.wake()

    def wake(self) -> None:
        """Start a pass on the running event loop (none running: nothing happens; call
        `step` yourself)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self._again = False
            service = self.current()
            if service is not None:
                await asyncio.to_thread(self.step, service)
            if not self._again:
                return

    def step(self, service: WalletService) -> list[object]:
        """One pass (blocking); returns the events it published. A failure is logged and the
        next block tries again."""
        try:
            service.scan_chain()
        except Exception as exc:
            log.info("scanning the chain for the wallet's history failed: %s", exc)
        published: list[object] = []
        try:
            for ended in self._task_watcher(service).scan():
                self.bus.publish(ended)
                published.append(ended)
        except Exception as exc:
            log.info("looking for ended tasks failed: %s", exc)
        return published

    def _task_watcher(self, service: WalletService) -> TaskEndWatcher:
        """The watcher of the open wallet on its chain; a new one (starting at the head, so
        tasks that ended earlier are not announced) when either changed."""
        watcher = self._watcher
        if (
            watcher is None
            or watcher.chain is not service.chain
            or (watcher.address != service.address)
        ):
            address = self.requester() if self.requester is not None else None
            watcher = TaskEndWatcher(
                service.chain,
                service.hub,
                service.address,
                announced=announced_path(service.history),
                requester=VanityRequesterContract(service.chain, address) if address else None,
            )
            self._watcher = watcher
        return watcher

    async def close(self) -> None:
        self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

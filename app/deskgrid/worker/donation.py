"""Donating this computer's CPU: an embedded worker the desktop app starts and stops.

    donation = Donation(payout=wallet_address)
    donation.on_status = show
    await donation.start("http://127.0.0.1:8750")
    await donation.set_preferences(prefs)   # applied live
    await donation.set_payout(other)        # signs in again: new results pay `other`
    await donation.stop()

The worker signs in with its own worker key, kept in the state folder (never a wallet's key:
a grid only ever sees signatures of that key); the volunteer only names the `payout` address,
which the sign-in message carries (the worker folder remembers it, as the default destination
of `deskgrid worker withdraw`). The worker runs in a task of the running event loop.
Preferences are applied to the running worker at once; a change of the number of cores
(announced to the grid at login) or of the payout address restarts it. What was earned is read
from the chain by the desktop (`desktop.earnings`), not here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from deskgrid.worker.policy import Preferences, allowed_cores
from deskgrid.worker.status import WorkerStatus

if TYPE_CHECKING:  # the worker (eth-account, httpx) loads when donating starts
    from eth_account.signers.local import LocalAccount

    from deskgrid.worker.worker import Worker, WorkerConfig

log = logging.getLogger(__name__)

WorkerFactory = Callable[["WorkerConfig", "LocalAccount | None"], "Worker"]
STOP_TIMEOUT = 10.0


def _default_worker(config: WorkerConfig, account: LocalAccount | None) -> Worker:
    from deskgrid.worker.worker import Worker

    return Worker(config, account)


class Donation:
    """Starts, stops and reconfigures one embedded worker; Qt-free."""

    def __init__(
        self,
        *,
        payout: str | None = None,
        preferences: Preferences | None = None,
        state_dir: Path | None = None,
        poll_interval: float = 1.0,
        worker_factory: WorkerFactory | None = None,
        cpu_count: int | None = None,
    ) -> None:
        self.payout = payout  # the wallet address paid for the work; None: the worker's own
        self.preferences = preferences or Preferences()
        self.state_dir = state_dir
        self.poll_interval = poll_interval
        self.worker_factory = worker_factory or _default_worker
        self.cpu_count = cpu_count or os.cpu_count() or 1
        self.grid_url: str | None = None
        self.on_status: Callable[[WorkerStatus], None] | None = None
        self._listeners: list[Callable[[WorkerStatus], None]] = []
        self.worker: Worker | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._jobs_before = 0  # jobs done by the workers of earlier runs
        self._paused = False
        self._snooze: asyncio.TimerHandle | None = None
        self._status = WorkerStatus(state="stopped", reason="Not donating.")

    # -- reading ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def status(self) -> WorkerStatus:
        return self._status

    @property
    def jobs_done(self) -> int:
        return self._status.jobs_done

    @property
    def address(self) -> str | None:
        """The worker's address (its identity at the grid), once a worker was made."""
        return self.worker.account.address if self.worker is not None else None

    @property
    def earnings_address(self) -> str | None:
        """Where the work is paid: the payout address, else the worker's own."""
        return self.payout or self.address

    @property
    def folder(self) -> Path:
        """The worker's folder: its key, pending results, the payout it signed in with."""
        if self.state_dir is not None:
            return self.state_dir
        from deskgrid.paths import sub_dir

        return sub_dir("worker")

    def worker_key(self) -> LocalAccount:
        """The worker key of the folder (made on first use); blocking: call it in a thread."""
        from deskgrid.worker.identity import worker_account

        return worker_account(self.folder)

    @property
    def paused(self) -> bool:
        return self._paused

    def config(self, grid_url: str) -> WorkerConfig:
        from deskgrid.worker.worker import WorkerConfig

        prefs = self.preferences
        return WorkerConfig(
            grid_url=grid_url,
            cores=allowed_cores(prefs, self.cpu_count),
            cpu_limit=round(prefs.cpu_usage_limit),
            state_dir=self.state_dir,
            poll_interval=self.poll_interval,
            preferences=prefs,
            payout=self.payout,
        )

    # -- start / stop -------------------------------------------------------------------

    async def start(self, grid_url: str | None = None) -> None:
        """Start the worker on `grid_url` (or the last one); a running worker is restarted."""
        url = grid_url or self.grid_url
        if not url:
            raise ValueError("No grid URL: choose a grid in the settings first.")
        await self.stop()
        self.grid_url = url
        worker = self.worker_factory(self.config(url), None)  # the state folder's worker key
        try:
            from deskgrid.worker.identity import remember_payout

            remember_payout(self.folder, self.payout)
        except OSError as exc:  # only a default for a later withdrawal: donate anyway
            log.warning("the payout address could not be noted in the worker folder: %s", exc)
        worker.paused_by_user = self._paused
        worker.on_status = self._worker_status
        self.worker = worker
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self._run(worker, self._stop))
        self._publish(dataclasses.replace(worker.status, jobs_done=self._jobs_before))

    async def _run(self, worker: Worker, stop: asyncio.Event) -> None:
        try:
            await worker.run(stop)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the worker loop itself failed: show it, do not crash the app
            log.exception("the worker stopped")
            self._publish(
                dataclasses.replace(
                    self._status,
                    state="error",
                    reason=f"The worker stopped: {exc}. Turn donating off and on to retry.",
                    last_error=str(exc),
                )
            )

    async def stop(self) -> None:
        """Stop the worker: a job in progress is killed and its lease handed back to the grid
        at once (within a few seconds; a grid that does not answer lets it expire)."""
        task, stop, worker = self._task, self._stop, self.worker
        self._task = self._stop = None
        if task is None or stop is None:
            return
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if worker is not None:
            self._jobs_before += worker.status.jobs_done
            worker.on_status = None
        self._publish(
            WorkerStatus(
                state="stopped",
                reason="Not donating.",
                jobs_done=self._jobs_before,
                address=self.address,
            )
        )

    # -- preferences and pausing ---------------------------------------------------------

    async def set_preferences(self, prefs: Preferences) -> None:
        """Apply new preferences: live, or by a restart when the cores change."""
        old, self.preferences = self.preferences, prefs
        worker = self.worker
        if not self.running or worker is None:
            return
        if allowed_cores(old, self.cpu_count) != allowed_cores(prefs, self.cpu_count):
            await self.start()
            return
        worker.preferences = prefs
        worker.config.cpu_limit = round(prefs.cpu_usage_limit)

    def set_paused(self, paused: bool) -> None:
        """Pause (or resume) computing without stopping the worker."""
        self._paused = paused
        if not paused and self._snooze is not None:
            self._snooze.cancel()
            self._snooze = None
        if self.worker is not None:
            self.worker.paused_by_user = paused

    def snooze(self, seconds: float) -> None:
        """Pause for `seconds`, then resume by itself."""
        self.set_paused(True)
        loop = asyncio.get_event_loop()
        self._snooze = loop.call_later(seconds, self.set_paused, False)

    # -- payout -----------------------------------------------------------------------

    async def set_payout(self, payout: str | None) -> None:
        """Pay new results to `payout` (None: the worker's own address); a running worker
        signs in again, since the payout address is part of its signed sign-in."""
        if payout == self.payout:
            return
        self.payout = payout
        if self.running:
            await self.start()

    # -- status -------------------------------------------------------------------------

    def _worker_status(self, status: WorkerStatus) -> None:
        total = self._jobs_before + status.jobs_done
        self._publish(dataclasses.replace(status, jobs_done=total))

    def subscribe(self, listener: Callable[[WorkerStatus], None]) -> Callable[[], None]:
        """Call `listener` with every status (besides `on_status`); returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _publish(self, status: WorkerStatus) -> None:
        self._status = status
        listeners = [self.on_status] if self.on_status is not None else []
        for listener in [*listeners, *self._listeners]:
            try:
                listener(status)
            except Exception:
                log.exception("a status listener failed")

"""One lease computed to its end: the execution, its heartbeats, the volunteer policy
(suspend / resume) and the duty-cycle throttle, all stopped together when the job ends.

When the worker stops (the volunteer turned donating off, Ctrl-C) the job is killed and its
lease handed back to the grid at once (`POST /leases/{id}/release`), so the job goes to
another worker now rather than when the lease expires; a grid that does not answer within
RELEASE_TIMEOUT is left (the lease then expires as before).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from deskgrid.grid.client import GridClient, GridClientError, LeaseGone
from deskgrid.grid.models import Lease
from deskgrid.worker.policy import Decision, throttle
from deskgrid.worker.runner import Execution, Job, JobOutcome, ProgressEvent, Runner

KEYS_PER_S_FIGURES = ("keys_per_second", "keys_per_s")
RELEASE_TIMEOUT = 3.0  # seconds the grid gets to take back the leases of a stopping worker

log = logging.getLogger(__name__)


async def release_leases(client: GridClient, lease_ids: Sequence[str]) -> int:
    """Hand these leases back to the grid, within RELEASE_TIMEOUT for all; returns how many
    the grid took. A lease the grid no longer has, or a grid that does not answer, is left."""
    released = 0

    async def release_all() -> None:
        nonlocal released
        for lease_id in lease_ids:
            try:
                await client.release_lease(lease_id)
                released += 1
            except LeaseGone:
                continue

    try:
        await asyncio.wait_for(release_all(), RELEASE_TIMEOUT)
    except (GridClientError, TimeoutError) as exc:
        log.info("the grid did not take the lease(s) back (%s); they expire by themselves", exc)
    return released


class LeaseRun:
    """Runs `job` for `lease`. `policy()` is asked every `check_period` seconds whether to
    compute; `cpu_limit()` is the duty cycle in %; `on_change(self)` is told of progress and of
    suspensions. `execute()` returns the job's outcome, or None when the job was dropped (the
    lease is gone, or `stop` was set)."""

    def __init__(
        self,
        client: GridClient,
        lease: Lease,
        *,
        stop: asyncio.Event,
        policy: Callable[[], Decision],
        cpu_limit: Callable[[], float],
        on_change: Callable[[LeaseRun], None] = lambda run: None,
        check_period: float = 1.0,
    ) -> None:
        self.client, self.lease, self.stop = client, lease, stop
        self.policy, self.cpu_limit, self.on_change = policy, cpu_limit, on_change
        self.check_period = check_period
        self.execution: Execution | None = None
        self.progress: float | None = None
        self.keys_per_s: float | None = None
        self.suspended: str | None = None  # the reason, while the policy holds the job
        self.dropped: str | None = None  # why the job was abandoned
        self._throttle: asyncio.Task[None] | None = None

    def _on_progress(self, event: ProgressEvent) -> None:
        if event.fraction is not None:
            self.progress = event.fraction
        for name in KEYS_PER_S_FIGURES:
            value = event.figures.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                self.keys_per_s = float(value)
        self.on_change(self)

    def cpu_seconds(self) -> float:
        return self.execution.cpu_seconds() if self.execution is not None else 0.0

    async def execute(self, runner: Runner, job: Job) -> JobOutcome | None:
        self.execution = execution = await runner.start(job, self._on_progress)
        waiter = asyncio.ensure_future(execution.wait())
        stopper = asyncio.ensure_future(self.stop.wait())
        helpers = [
            asyncio.ensure_future(self._heartbeats(execution)),
            asyncio.ensure_future(self._apply_policy(execution)),
        ]
        try:
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if not waiter.done():  # stopping: kill the job, hand its lease back at once
                self.dropped = "The worker stopped."
                await self._stop_throttle()
                await execution.cancel()
                with contextlib.suppress(Exception):
                    await waiter
                await release_leases(self.client, [self.lease.lease_id])
                return None
            outcome = waiter.result()
            return None if self.dropped else outcome
        finally:
            for task in (*helpers, stopper):
                task.cancel()
            await asyncio.gather(*helpers, stopper, return_exceptions=True)
            await self._stop_throttle()
            if not waiter.done():
                await execution.cancel()
                waiter.cancel()
                await asyncio.gather(waiter, return_exceptions=True)

    async def _heartbeats(self, execution: Execution) -> None:
        interval = max(0.05, self.lease.heartbeat_interval)
        while True:
            await asyncio.sleep(interval)
            message = self.suspended
            try:
                reply = await self.client.heartbeat(
                    self.lease.lease_id,
                    progress=self.progress,
                    keys_per_s=self.keys_per_s,
                    message=message[:500] if message else None,
                )
            except LeaseGone as exc:
                self.dropped = f"The grid ended the lease: {exc.detail}"
            except GridClientError:
                continue  # the grid is unreachable or busy: keep computing, try again
            else:
                if reply.keep_going:
                    continue
                self.dropped = "The grid no longer needs this job."
            await self._stop_throttle()
            await execution.cancel()
            return

    async def _apply_policy(self, execution: Execution) -> None:
        while True:
            decision = self.policy()
            if not decision.run and self.suspended is None:
                await self._stop_throttle()
                await execution.pause()
                self.suspended = decision.reason
                self.on_change(self)
            elif decision.run and self.suspended is not None:
                await execution.resume()
                self.suspended = None
                self.on_change(self)
            elif not decision.run and self.suspended != decision.reason:
                self.suspended = decision.reason
                self.on_change(self)
            if decision.run and self.cpu_limit() < 100 and self._throttle is None:
                self._throttle = asyncio.ensure_future(throttle(execution, self.cpu_limit))
            elif self._throttle is not None and self.cpu_limit() >= 100:
                await self._stop_throttle()
            await asyncio.sleep(self.check_period)

    async def _stop_throttle(self) -> None:
        """Stop throttling; the throttle leaves the execution running."""
        task, self._throttle = self._throttle, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

"""What the native and the container executions share: the job's running clock (pauses not
counted), the wall-time limit, cancellation, and the outcomes that do not depend on how the
job ran. A subclass starts its job, then calls `_start()` with a `_supervise()` coroutine
that waits for the job (`_within_limit` tells when its time is up) and returns the outcome.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from deskgrid.worker.runner import (
    MAX_JOB_FILES,
    JobDir,
    JobOutcome,
    Limits,
    ProgressCallback,
    RunClock,
    Status,
    read_result,
)

MIB = 2**20
DISK_CHECK_SECONDS = 0.25  # how often a running job's folder and the free disk are measured


class SupervisedExecution:
    """The common part of a `runner.Execution`."""

    def __init__(
        self,
        jobdir: JobDir,
        limits: Limits,
        on_progress: ProgressCallback | None,
        result_to: Path | None = None,
    ) -> None:
        self._jobdir = jobdir
        self._result_to = result_to
        self._limits = limits
        self._on_progress = on_progress
        self._clock = RunClock()
        self._cancelled = False
        self._cpu = 0.0
        self._task: asyncio.Task[JobOutcome] | None = None
        self._over: str | None = None  # why the job was stopped for its disk use

    def _disk_check(self, free_disk: bool = True) -> str | None:
        """A sentence when the job writes more than its output limit or too many files, or
        (`free_disk`) the disk's free space drops below the floor; the supervisor then stops
        the job."""
        limits = self._limits
        used, entries = self._jobdir.output_bytes()
        if used > limits.output_mb * MIB:
            return f"The job wrote more than its limit of {limits.output_mb} MiB and was stopped."
        if entries > MAX_JOB_FILES:
            return f"The job made more than {MAX_JOB_FILES} files and was stopped."
        if free_disk and limits.min_free_disk_mb > 0:
            free = shutil.disk_usage(self._jobdir.root).free
            if free < limits.min_free_disk_mb * MIB:
                return (
                    f"The job was stopped: the disk has less than {limits.min_free_disk_mb} MiB "
                    "free (the worker keeps that much free)."
                )
        return None

    def _start(self) -> None:
        self._task = asyncio.create_task(self._supervise())

    async def _supervise(self) -> JobOutcome:
        raise NotImplementedError

    @property
    def paused(self) -> bool:
        return self._clock.paused

    def running_seconds(self) -> float:
        return self._clock.running_seconds()

    def _time_left(self) -> float | None:
        """Seconds the job may still run, or None when its limit has passed (a paused job's
        clock is stopped, so it never runs out while paused)."""
        remaining = self._limits.wall_seconds - self.running_seconds()
        return None if remaining <= 0 and not self.paused else max(remaining, 0.05)

    async def wait(self) -> JobOutcome:
        assert self._task is not None
        return await asyncio.shield(self._task)

    async def _wait_for_supervisor(self) -> None:
        """After a kill: let the supervisor finish (it collects the outcome and cleans up)."""
        assert self._task is not None
        try:
            await asyncio.shield(self._task)
        except asyncio.CancelledError:
            pass

    def _common(self) -> dict[str, Any]:
        return {"seconds": self._clock.elapsed(), "cpu_seconds": self._cpu}

    def _ended_early(self, in_time: bool) -> JobOutcome | None:
        """The outcome of a cancelled job or of one stopped at its time limit; else None."""
        if self._cancelled:
            return JobOutcome(Status.CANCELLED, message="The job was cancelled.", **self._common())
        if self._over is not None:
            return JobOutcome(Status.ERROR, message=self._over, **self._common())
        if not in_time:
            message = (
                f"The job ran longer than its limit of {self._limits.wall_seconds:g} s "
                "and was stopped."
            )
            return JobOutcome(Status.TIMEOUT, message=message, **self._common())
        return None

    def _finished(self, result_file: Path) -> JobOutcome:
        """The outcome of a job that exited 0: its result file, checked (a job that ended
        between two measurements over its output limit has failed too)."""
        over = self._disk_check(free_disk=False)
        if over is not None:
            return JobOutcome(Status.ERROR, message=over, **self._common())
        data = read_result(result_file, self._result_to)
        if isinstance(data, str):
            return JobOutcome(Status.ERROR, message=data, **self._common())
        if isinstance(data, Path):
            return JobOutcome(Status.SUCCESS, result_file=data, **self._common())
        return JobOutcome(Status.SUCCESS, result=data, **self._common())

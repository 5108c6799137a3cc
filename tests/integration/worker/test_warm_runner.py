"""The worker's warm runner with real processes: each job of DeskGrid's own apps goes to a
process started (and imported) before it, never to one that served a job; the job runs with
the same sandbox as a cold one; the waiting process is recorded and ends with the runner."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psutil
import pytest

from deskgrid.apps.registry import get_app
from deskgrid.worker.native_runner import ADDRESS_SPACE_ALLOWANCE_MB, NativeRunner
from deskgrid.worker.proctree import JobRecords
from deskgrid.worker.runner import Job, Limits, Status
from tests.conftest import require
from tests.live_grid import until

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _linux() -> None:
    require(sys.platform.startswith("linux"), "Linux: the warm runner runs under the guard")


def vanity(pattern: str) -> Job:
    app = get_app("vanity")
    return Job("job-1", app, app.validate({"patterns": [pattern], "full_key": True}))


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_two_jobs_in_a_row_run_in_different_processes(tmp_path: Path) -> None:
    records = JobRecords(tmp_path / "running")
    runner = NativeRunner(records=records, warm=True)
    try:
        first = await runner.start(vanity("1"))
        first_outcome = await first.wait()
        second = await runner.start(vanity("1"))
        second_outcome = await second.wait()
        assert first_outcome.ok and second_outcome.ok, (first_outcome, second_outcome)
        app = get_app("vanity")
        assert app.verify(vanity("1").params, second_outcome.result or b"")
        assert first.pid != second.pid and _gone(first.pid) and _gone(second.pid)
        assert runner.warm_starts == 1  # the second job's process was up before the job
        # the next one is started once the job has ended
        await until(lambda: len(records.records()) == 1, "the next warm process")
        waiting = [r.pid for r in records.records()]
        assert waiting[0] not in (first.pid, second.pid)
    finally:
        await runner.aclose()
    assert _gone(waiting[0]) and records.records() == []


async def test_a_warm_job_has_the_sandbox_of_a_cold_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    runner = NativeRunner(records=JobRecords(tmp_path / "running"), warm=True)
    try:
        await (await runner.start(vanity("1"))).wait()  # the next process is the warm one
        execution = await runner.start(vanity("1AbCdEfGh"))  # runs until cancelled
        assert runner.warm_starts == 1
        guard = psutil.Process(execution.pid)
        await until(lambda: len(guard.children()) == 1, "the guard to start the app")
        (app,) = guard.children()
        limits = Limits.for_app(get_app("vanity"))
        for proc in (guard, app):
            assert proc.nice() == 19
            assert proc.cwd().endswith("/work") and "t0ken" not in str(proc.environ())
            space = (limits.memory_mb + ADDRESS_SPACE_ALLOWANCE_MB) * 2**20
            assert proc.rlimit(psutil.RLIMIT_AS) == (space, space)
            assert proc.rlimit(psutil.RLIMIT_CPU)[0] == limits.cpu_seconds
            assert proc.rlimit(psutil.RLIMIT_CORE) == (0, 0)
        assert os.getpgid(execution.pid) == execution.pid
        await execution.cancel()
        outcome = await execution.wait()
        assert outcome.status is Status.CANCELLED
        assert _gone(guard.pid) and _gone(app.pid)
    finally:
        await runner.aclose()

"""No process of a job outlives its job or its worker: a real worker process, a real grid
server, and the `spawn` test app, whose child ignores SIGTERM and leaves the job's session
(and starts a child of its own)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from deskgrid.worker.proctree import JobRecords
from tests.conftest import require
from tests.live_grid import DEADLINE
from tests.security.workerproc import alive, poll, start_worker, tagged, wait_line

pytestmark = pytest.mark.integration

IDLE = r"Waiting for work from the grid"
STRAY = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', sys.argv[1]])\n"
    "time.sleep(600)\n"
)


@pytest.fixture(autouse=True)
def _posix() -> None:
    require(sys.platform.startswith("linux"), "Linux: parent-death signals and subreapers")


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


async def _spawned(submitter, tag: str, seconds: float) -> str:
    # heartbeats every second: the worker learns of a cancel quickly
    job = await submitter.submit(
        "spawn", {"tag": tag, "seconds": seconds}, policy={"delay_bound": 3.0}
    )
    # the child that left the session and its own child are both up
    await poll(lambda: len(tagged(tag)) == 2, "the job's stubborn child and grandchild")
    return job.id


async def test_a_killed_workers_job_and_its_children_die(grid, tmp_path: Path) -> None:
    server, submitter = grid
    tag = "t" + secrets.token_hex(8)
    worker = start_worker(server.url, tmp_path / "w")
    try:
        await wait_line(worker, IDLE)
        await _spawned(submitter, tag, 3600)
        family = _descendants(worker.popen.pid)  # the guard, the app, the stubborn ones
        assert len(family) >= 3 and all(alive(p) for p in family)
        worker.kill9()  # no chance to clean up
        await poll(lambda: not any(alive(p) for p in family), "the job's processes to die")
        assert tagged(tag) == []
    finally:
        worker.stop()
        for proc in tagged(tag):
            proc.kill()


async def test_the_jobs_children_die_when_the_job_ends(grid, tmp_path: Path) -> None:
    server, submitter = grid
    tag = "t" + secrets.token_hex(8)
    worker = start_worker(server.url, tmp_path / "w")
    try:
        await wait_line(worker, IDLE)
        job_id = await _spawned(submitter, tag, 1.0)
        done = await submitter.wait_job(job_id, timeout=DEADLINE)
        assert done.state == "COMPLETED"
        await poll(lambda: tagged(tag) == [], "what the finished job left to die")
        assert worker.popen.poll() is None
    finally:
        worker.stop()
        for proc in tagged(tag):
            proc.kill()


async def test_the_jobs_children_die_when_the_grid_cancels_it(grid, tmp_path: Path) -> None:
    server, submitter = grid
    tag = "t" + secrets.token_hex(8)
    worker = start_worker(server.url, tmp_path / "w")
    try:
        await wait_line(worker, IDLE)
        job_id = await _spawned(submitter, tag, 3600)
        family = _descendants(worker.popen.pid)
        await submitter.cancel(job_id)
        await poll(lambda: not any(alive(p) for p in family), "the cancelled job's processes")
        assert tagged(tag) == [] and worker.popen.poll() is None
    finally:
        worker.stop()
        for proc in tagged(tag):
            proc.kill()


async def test_a_stopping_worker_kills_its_job(grid, tmp_path: Path) -> None:
    server, submitter = grid
    tag = "t" + secrets.token_hex(8)
    worker = start_worker(server.url, tmp_path / "w")
    try:
        await wait_line(worker, IDLE)
        await _spawned(submitter, tag, 3600)
        family = _descendants(worker.popen.pid)
        worker.popen.send_signal(signal.SIGTERM)
        worker.popen.wait(timeout=DEADLINE)
        await poll(lambda: not any(alive(p) for p in family), "the job's processes to die")
    finally:
        worker.stop()
        for proc in tagged(tag):
            proc.kill()


def _stray(tag: str) -> subprocess.Popen:
    """A job's process left by a worker whose parent-death signal could not fire."""
    return subprocess.Popen([sys.executable, "-c", STRAY, tag], start_new_session=True)


async def test_a_restarted_worker_kills_what_a_dead_one_left(grid, tmp_path: Path) -> None:
    server, _submitter = grid
    state = tmp_path / "w"
    records = JobRecords(state / "running")
    tag, other = "t" + secrets.token_hex(8), "t" + secrets.token_hex(8)
    left, innocent = _stray(tag), _stray(other)
    try:
        await poll(lambda: len(tagged(tag)) == 2 and len(tagged(other)) == 2, "the strays")
        dead_worker = (2**22 + 12345, 1.0)  # no process has this pid and start time
        records.add(left.pid, owner=dead_worker)
        # a live pid recorded with another start time: the pid was reused, it is not the job
        started = psutil.Process(innocent.pid).create_time()
        (state / "running" / "reused.job").write_text(
            f"{innocent.pid} {started - 100:.3f} {dead_worker[0]} {dead_worker[1]:.3f}\n"
        )
        # a job of a worker that still runs (this process): left alone
        records.add(innocent.pid)
        worker = start_worker(server.url, state)
        try:
            await wait_line(worker, IDLE)
            await poll(lambda: tagged(tag) == [], "the leftover job and its child to die")
            left.wait(timeout=DEADLINE)
            assert len(tagged(other)) == 2 and innocent.poll() is None
            assert [p.name for p in (state / "running").iterdir()] == [
                f"{innocent.pid}-{psutil.Process(innocent.pid).create_time():.3f}.job"
            ]
        finally:
            worker.stop()
    finally:
        for proc in (left, innocent):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=DEADLINE)
        for proc in tagged(tag) + tagged(other):
            proc.kill()


async def test_a_paused_job_dies_with_its_killed_worker(grid, tmp_path: Path) -> None:
    """The duty cycle stops the job most of the time (SIGSTOP to its group): its guard is
    never stopped, so it still kills the tree when the worker dies."""
    server, submitter = grid
    tag = "t" + secrets.token_hex(8)
    worker = start_worker(server.url, tmp_path / "w", "--cpu-limit", "5")
    try:
        await wait_line(worker, IDLE)
        await _spawned(submitter, tag, 3600)
        family = _descendants(worker.popen.pid)
        await poll(lambda: any(_stopped(p) for p in family), "the duty cycle to stop the job")
        worker.kill9()
        await poll(lambda: not any(alive(p) for p in family), "the job's processes to die")
    finally:
        worker.stop()
        for proc in tagged(tag):
            proc.kill()


def _stopped(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_STOPPED
    except psutil.Error:
        return False

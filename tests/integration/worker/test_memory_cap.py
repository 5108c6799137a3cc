"""The job's memory limit, held by a real worker's native runner against a real grid: a job
that uses more than the smaller of its app's need and the volunteer's allowance is stopped,
reported as an error that says which limit, and the worker goes on."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from deskgrid.apps.registry import get_app
from deskgrid.apps.run import EXIT_MEMORY
from deskgrid.worker.activity import FixedIdle
from deskgrid.worker.native_runner import NativeRunner, app_command, scrubbed_environment
from deskgrid.worker.policy import Preferences, memory_allowance_mb
from deskgrid.worker.proctree import tree_memory_bytes, tree_memory_over
from deskgrid.worker.runner import Job, Limits, Status, memory_stop_message, run_job
from deskgrid.worker.worker import Worker, WorkerConfig
from tests.live_grid import DEADLINE, until
from tests.testapps import HOG_NEED_MB

pytestmark = pytest.mark.integration

TOTAL_MB = psutil.virtual_memory().total // 2**20


def _pct(mb: int) -> float:
    return mb * 100 / TOTAL_MB


def volunteer(busy_mb: int, idle_mb: int) -> Preferences:
    """Compute always, whatever the load; `busy_mb` while the computer is in use."""
    return Preferences(
        max_ncpus_pct=100,
        run_if_user_active=True,
        suspend_cpu_usage=0,
        run_on_batteries=True,
        ram_max_used_busy_pct=_pct(busy_mb),
        ram_max_used_idle_pct=_pct(idle_mb),
    )


async def _run_until_error(worker: Worker, submitter, params: dict) -> tuple[str, str]:
    """Submit a hog job (one try), run the worker until the job is over; returns the job's
    state and its lease's message."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        job = await submitter.submit("hog", params, policy={"max_error_results": 1})
        done = await submitter.wait_job(job.id, timeout=DEADLINE * 2)
        view = await submitter.get_job(job.id)
        (lease,) = view.leases or []
        # the worker goes on: it asks for work again after the job
        await until(lambda: worker.status.state == "idle", "the worker to go back to idle")
        assert not task.done()
        return done.state, lease.message or ""
    finally:
        stop.set()
        await asyncio.wait_for(task, DEADLINE)


@pytest.mark.skipif(TOTAL_MB < 4096, reason="needs a computer with at least 4 GiB of memory")
async def test_a_job_over_the_volunteers_memory_cap_is_stopped(
    grid, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, submitter = grid
    busy_mb, idle_mb = 128, 1024
    prefs = volunteer(busy_mb=busy_mb, idle_mb=idle_mb)
    worker = Worker(
        WorkerConfig(grid_url=server.url, state_dir=tmp_path / "w", poll_interval=0.1,
                     preferences=prefs)
    )  # fmt: skip
    worker.observer.activity = FixedIdle(0.0)  # the volunteer is at the keyboard
    cap = memory_allowance_mb(prefs, TOTAL_MB, user_active=True)
    assert cap < HOG_NEED_MB  # the volunteer's allowance is the job's limit

    with caplog.at_level(logging.WARNING, logger="deskgrid.worker.worker"):
        state, message = await _run_until_error(worker, submitter, {"mib": 400, "seconds": 60})

    expected = (
        f"Stopped: the job used more than {cap} MiB, the memory this volunteer allows "
        "(Volunteer › Memory cap)."
    )
    assert state == "ERROR"
    assert message == expected
    assert worker.status.last_error == expected
    assert expected in caplog.text
    # the grid knows what the volunteer allows at most (the idle allowance here)
    (record,) = await submitter.workers()
    assert record.memory_mb == memory_allowance_mb(prefs, TOTAL_MB, user_active=False)


async def test_a_job_over_its_apps_declared_need_is_stopped(grid, tmp_path: Path) -> None:
    server, submitter = grid
    worker = Worker(WorkerConfig(grid_url=server.url, state_dir=tmp_path / "w", poll_interval=0.1))
    state, message = await _run_until_error(
        worker, submitter, {"mib": HOG_NEED_MB + 160, "seconds": 60}
    )
    assert state == "ERROR"
    assert message == (
        f"Stopped: the job used more than {HOG_NEED_MB} MiB, the memory its app declares it needs."
    )


async def test_a_job_within_its_limit_completes(grid, tmp_path: Path) -> None:
    server, submitter = grid
    worker = Worker(WorkerConfig(grid_url=server.url, state_dir=tmp_path / "w", poll_interval=0.1))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        job = await submitter.submit("hog", {"mib": 64, "seconds": 1})
        done = await submitter.wait_job(job.id, timeout=DEADLINE)
        assert done.state == "COMPLETED"
        assert await submitter.download_result(job.id) == b"held 64 MiB"
    finally:
        stop.set()
        await asyncio.wait_for(task, DEADLINE)


async def test_the_grid_leases_no_job_whose_app_needs_more_than_the_volunteer_allows(
    grid, tmp_path: Path
) -> None:
    server, submitter = grid
    small = HOG_NEED_MB * 3 // 4  # more than echo declares (128 MiB), less than the hog
    worker = Worker(
        WorkerConfig(grid_url=server.url, state_dir=tmp_path / "w", poll_interval=0.1,
                     preferences=volunteer(busy_mb=small, idle_mb=small))
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        hog = await submitter.submit("hog", {"mib": 1})
        echo = await submitter.submit("echo", {"text": "fits"})  # declares 128 MiB
        assert (await submitter.wait_job(echo.id, timeout=DEADLINE)).state == "COMPLETED"
        assert (await submitter.get_job(hog.id)).state == "PENDING"
        # the volunteer allows more, live: the worker tells the grid, which leases the job
        worker.preferences = volunteer(busy_mb=HOG_NEED_MB * 2, idle_mb=HOG_NEED_MB * 2)
        assert (await submitter.wait_job(hog.id, timeout=DEADLINE)).state == "COMPLETED"
    finally:
        stop.set()
        await asyncio.wait_for(task, DEADLINE)


def _hog_job(limits: Limits, **params: object) -> Job:
    app = get_app("hog")
    return Job("job-1", app, app.validate(dict(params)), limits=limits)


async def test_the_memory_of_the_jobs_whole_process_tree_counts(tmp_path: Path) -> None:
    limits = Limits(memory_mb=160, memory_by_volunteer=True)
    job = _hog_job(limits, mib=320, seconds=60, in_child=True)
    outcome = await run_job(NativeRunner(), job)
    assert outcome.status is Status.ERROR
    assert outcome.message == memory_stop_message(limits)
    # the tree was killed: no process of the job holds the memory any more
    me = psutil.Process()
    left = [p for p in me.children(recursive=True) if "held = [bytearray" in " ".join(p.cmdline())]
    assert left == []


def test_an_app_out_of_address_space_exits_with_the_memory_code(tmp_path: Path) -> None:
    """Between two measurements, the address-space limit stops an allocation; the app's
    entry point then exits with its out-of-memory code, which the runner turns into the
    same sentence."""
    params = tmp_path / "params.json"
    params.write_text('{"mib": 2048}', encoding="utf-8")
    limit = 512 * 2**20

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        [*app_command(), "hog", "--params", str(params), "--workdir", str(tmp_path),
         "--result", str(tmp_path / "result")],
        env=scrubbed_environment(tmp_path) | {"PYTHONPATH": os.pathsep.join(sys.path)},
        preexec_fn=cap, capture_output=True, timeout=DEADLINE, check=False,
    )  # fmt: skip
    assert done.returncode == EXIT_MEMORY, done.stderr.decode()
    assert b"ran out of memory" in done.stderr


_FORKED_HOLDER = (
    "import os, sys, time\n"
    "held = [bytearray(b'\\x01') * (1 << 20) for _ in range(200)]\n"
    "os.fork()\n"
    "os.write(1, b'ready\\n')\n"
    "time.sleep(60)\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="proportional set sizes: Linux")
def test_tree_memory_counts_pages_shared_after_a_fork_once() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _FORKED_HOLDER], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert proc.stdout is not None
        # parent and child both hold the pages
        assert proc.stdout.read(12) == b"ready\nready\n"
        used = tree_memory_bytes(proc.pid) / 2**20
        resident = (
            sum(
                p.memory_info().rss
                for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children()]
            )
            / 2**20
        )
        assert resident > 400  # each process has the 200 MiB resident…
        assert 200 <= used < 300  # …but they are the same pages: counted once
        assert not tree_memory_over(proc.pid, 300 * 2**20)
        assert tree_memory_over(proc.pid, 150 * 2**20)
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()
    assert tree_memory_bytes(proc.pid) == 0  # no such process any more

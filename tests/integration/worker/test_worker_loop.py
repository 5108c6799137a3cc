"""The worker loop against a real grid server on loopback (in this test's event loop)."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import sys
from pathlib import Path

import pytest

from deskgrid.grid.client import GridClient, GridUnavailable
from deskgrid.grid.config import GridConfig
from deskgrid.grid.server import GridServer
from deskgrid.worker.pending import PendingStore
from deskgrid.worker.worker import Worker, WorkerConfig
from tests.live_grid import DEADLINE, until

pytestmark = pytest.mark.integration


class Running:
    """A Worker running in a task until `stop()`."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.event = asyncio.Event()
        self.task = asyncio.create_task(worker.run(self.event))

    async def stop(self) -> None:
        self.event.set()
        await asyncio.wait_for(self.task, DEADLINE)


def make_worker(url: str, state_dir: Path) -> Worker:
    return Worker(WorkerConfig(grid_url=url, state_dir=state_dir, poll_interval=0.1))


async def test_echo_job_completes_with_the_workers_address(grid, tmp_path: Path) -> None:
    server, submitter = grid
    seen: list[str] = []
    worker = make_worker(server.url, tmp_path / "w")
    worker.on_status = lambda status: seen.append(status.state)
    running = Running(worker)
    try:
        job = await submitter.submit("echo", {"text": "hello grid"})
        done = await submitter.wait_job(job.id, timeout=DEADLINE)
        assert done.state == "COMPLETED"
        assert await submitter.download_result(job.id) == b"hello grid"
        view = await submitter.get_job(job.id)
        valid = [lease for lease in view.leases or [] if lease.state == "VALID"]
        assert [lease.worker.lower() for lease in valid] == [worker.account.address.lower()]
        await until(lambda: worker.status.jobs_done == 1, "the worker to count the job")
        assert not PendingStore(tmp_path / "w" / "pending").entries()
    finally:
        await running.stop()
    assert "computing" in seen
    assert worker.status.state == "stopped"
    # the generated key is kept: the same folder gives the same worker
    assert make_worker(server.url, tmp_path / "w").account.address == worker.account.address


async def test_failing_job_is_reported_as_an_error(grid, tmp_path: Path) -> None:
    server, submitter = grid
    running = Running(make_worker(server.url, tmp_path / "w"))
    try:
        job = await submitter.submit(
            "fail", {"message": "broken on purpose"}, policy={"max_error_results": 1}
        )
        done = await submitter.wait_job(job.id, timeout=DEADLINE)
        assert done.state == "ERROR"
        view = await submitter.get_job(job.id)
        errors = [lease for lease in view.leases or [] if lease.state == "ERROR"]
        assert errors and "broken on purpose" in (errors[0].message or "")
        assert running.worker.status.last_error
    finally:
        await running.stop()


async def test_pending_result_is_uploaded_after_a_restart(
    grid, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, submitter = grid
    state = tmp_path / "w"
    pending = PendingStore(state / "pending")
    attempts: list[str] = []

    async def unreachable(self: GridClient, lease_id: str, data: bytes) -> None:
        attempts.append(lease_id)
        raise GridUnavailable(0, "Cannot reach the grid (test).")

    with monkeypatch.context() as patch:
        patch.setattr(GridClient, "upload_result", unreachable)
        first = Running(make_worker(server.url, state))
        job = await submitter.submit("echo", {"text": "kept on disk"})
        await until(lambda: len(attempts) >= 2, "upload retries")
        await first.stop()
    (entry,) = pending.entries()
    assert entry.job_id == job.id and pending.load(entry) == b"kept on disk"
    assert (await submitter.get_job(job.id)).state == "RUNNING"

    second = Running(make_worker(server.url, state))
    try:
        done = await submitter.wait_job(job.id, timeout=DEADLINE)
        assert done.state == "COMPLETED"
        assert await submitter.download_result(job.id) == b"kept on disk"
        await until(lambda: not pending.entries(), "the pending result to be removed")
    finally:
        await second.stop()


async def worker_process(url: str, state_dir: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "deskgrid.cli",
        "worker",
        "--grid",
        url,
        "--state-dir",
        str(state_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_worker_command_stops_cleanly_on_sigint(grid, tmp_path: Path) -> None:
    server, _ = grid
    proc = await worker_process(server.url, tmp_path / "w")
    try:
        lines: list[str] = []
        async with asyncio.timeout(DEADLINE):
            while "Waiting for work" not in "".join(lines):
                line = await proc.stdout.readline()  # type: ignore[union-attr]
                assert line, "the worker exited: " + (await proc.stderr.read()).decode()  # type: ignore[union-attr]
                lines.append(line.decode())
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(DEADLINE):
            code = await proc.wait()
        assert code == 0, (await proc.stderr.read()).decode()  # type: ignore[union-attr]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_cancelled_job_is_dropped_at_the_next_heartbeat(grid, tmp_path: Path) -> None:
    server, submitter = grid
    running = Running(make_worker(server.url, tmp_path / "w"))
    worker = running.worker
    try:
        job = await submitter.submit(
            "sleep", {"seconds": 120, "steps": 120}, policy={"delay_bound": 0.6}
        )
        await until(lambda: worker.status.job_id == job.id, "the job to start")
        await submitter.cancel(job.id)
        await until(lambda: worker.status.job_id is None, "the job to be dropped")
        assert worker.status.jobs_done == 0
        assert not PendingStore(tmp_path / "w" / "pending").entries()
    finally:
        await running.stop()


async def test_pause_suspends_the_running_job_and_resume_finishes_it(grid, tmp_path: Path) -> None:
    server, submitter = grid
    config = WorkerConfig(server.url, cpu_limit=50, state_dir=tmp_path / "w", poll_interval=0.1)
    running = Running(Worker(config))  # throttled too: the pause takes over from the throttle
    worker = running.worker
    try:
        job = await submitter.submit("sleep", {"seconds": 1.0, "steps": 4})
        await until(lambda: worker.status.job_id == job.id, "the job to start")
        worker.paused_by_user = True
        await until(lambda: worker.status.state == "suspended", "the suspension")
        assert worker.status.reason == "Paused by you."
        run = worker._run
        assert run is not None and run.execution is not None and run.execution.paused
        worker.paused_by_user = False
        done = await submitter.wait_job(job.id, timeout=DEADLINE)
        assert done.state == "COMPLETED"
    finally:
        await running.stop()


async def test_result_of_a_killed_worker_is_uploaded_by_the_next_one(tmp_path: Path) -> None:
    """The grid goes away while a job runs, the job finishes (its result is kept on disk),
    the worker is killed with SIGKILL; the grid comes back and a new worker process with
    the same folder delivers the result."""
    config = GridConfig(data_dir=tmp_path / "grid", idle_retry_s=0.1, reap_interval_s=0.1)
    server = GridServer(config)
    url = await server.start()
    async with GridClient(url, token=server.submitter_token) as submitter:
        job = await submitter.submit("sleep", {"seconds": 1.0, "steps": 2})
        state = tmp_path / "w"
        pending = PendingStore(state / "pending")
        first = await worker_process(url, state)
        try:
            await until(
                lambda: _job_state(submitter, job.id, "RUNNING"), "the worker to take the job"
            )
            await server.stop()
            await until(lambda: bool(pending.entries()), "the result to be kept on disk")
        finally:
            first.kill()
            await first.wait()
        port = int(url.rsplit(":", 1)[1])
        server = GridServer(dataclasses.replace(config, port=port))
        await server.start()
        second = await worker_process(url, state)
        try:
            done = await submitter.wait_job(job.id, timeout=DEADLINE)
            assert done.state == "COMPLETED"
            await until(lambda: not pending.entries(), "the pending result to be removed")
            second.send_signal(signal.SIGINT)
            async with asyncio.timeout(DEADLINE):
                assert await second.wait() == 0
        finally:
            if second.returncode is None:
                second.kill()
                await second.wait()
            await server.stop()


async def _job_state(submitter: GridClient, job_id: str, state: str) -> bool:
    return (await submitter.get_job(job_id)).state == state


async def test_a_large_result_is_uploaded_from_its_file(grid, tmp_path: Path) -> None:
    server, submitter = grid
    worker = make_worker(server.url, tmp_path / "w")
    uploads: list[str] = []
    original = GridClient.upload_result_file

    async def spy(self: GridClient, lease_id: str, path: Path):  # records, then uploads
        uploads.append(path.name)
        return await original(self, lease_id, path)

    GridClient.upload_result_file = spy  # type: ignore[method-assign]
    running = Running(worker)
    try:
        text = "large " * 40_000  # 240 kB: more than is sent from memory
        job = await submitter.submit("echo", {"text": text})
        done = await submitter.wait_job(job.id, timeout=DEADLINE)
        assert done.state == "COMPLETED"
        assert await submitter.download_result(job.id) == text.encode()
        assert len(uploads) == 1 and uploads[0].endswith(".result")
    finally:
        GridClient.upload_result_file = original  # type: ignore[method-assign]
        await running.stop()

"""Docker jobs against a real daemon (a local busybox image, no registry): a container's disk
use and printed output are capped, and a dead worker's containers are removed when a worker
with its label starts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from deskgrid.worker.docker_runner import OWNER_LABEL, WORKER_LABEL, DockerRunner
from deskgrid.worker.runner import Job, Limits, Status, run_job
from deskgrid.worker.worker import Worker, WorkerConfig
from tests.conftest import REPO_ROOT
from tests.integration.worker.test_docker_runner import IMAGE, image, sh_app  # noqa: F401
from tests.security.workerproc import poll

pytestmark = pytest.mark.integration


async def test_a_container_that_fills_the_job_folder_is_stopped(image: str) -> None:  # noqa: F811
    script = "i=0; while [ $i -lt 200 ]; do head -c 1048576 /dev/zero > /job/f$i; i=$((i+1)); done"
    app = sh_app(script)
    job = Job("j", app, {}, limits=Limits(output_mb=16, wall_seconds=120))
    outcome = await run_job(DockerRunner(), job)
    assert outcome.status is Status.ERROR
    assert outcome.message == "The job wrote more than its limit of 16 MiB and was stopped."


async def test_what_a_container_prints_is_capped(image: str) -> None:  # noqa: F811
    runner = DockerRunner()
    execution = await runner.start(Job("j", sh_app("sleep 30"), {}))
    try:
        config = execution._container.attrs["HostConfig"]["LogConfig"]  # noqa: SLF001
        assert config == {"Type": "json-file", "Config": {"max-file": "2", "max-size": "8m"}}
    finally:
        await execution.cancel()


async def test_a_finished_or_cancelled_jobs_guard_process_ends_with_it(image: str) -> None:  # noqa: F811
    """Each container's guard (the process that removes it if the worker dies) ends with its
    job: a worker that runs many jobs keeps no process per job it ran."""
    runner = DockerRunner()
    done = await runner.start(Job("j", sh_app("echo done > /job/result"), {}))
    assert done.guard is not None and done.guard.poll() is None  # guarding while it runs
    outcome = await done.wait()
    assert outcome.status is Status.SUCCESS, outcome.message
    assert done.guard.poll() is not None
    cancelled = await runner.start(Job("j", sh_app("sleep 30"), {}))
    await cancelled.cancel()
    assert cancelled.guard is not None and cancelled.guard.poll() is not None
    guards = [
        child
        for child in psutil.Process().children(recursive=True)
        if "deskgrid.worker.container_guard" in " ".join(child.cmdline())
        and child.status() != psutil.STATUS_ZOMBIE
    ]
    assert not [g for g in guards if g.pid in (done.guard.pid, cancelled.guard.pid)]


def _labelled(client, label: str, owner: str):
    return client.containers.run(
        IMAGE,
        ["/bin/busybox", "sleep", "600"],
        detach=True,
        labels={WORKER_LABEL: label, OWNER_LABEL: owner},
        network_mode="none",
    )


async def test_a_starting_worker_removes_a_dead_workers_containers(
    image: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    import docker

    client = docker.from_env()
    worker = Worker(WorkerConfig(grid_url="http://127.0.0.1:9", state_dir=tmp_path / "w"))
    label = worker.account.address.lower()
    parent = psutil.Process().parent()
    assert parent is not None
    running = f"{parent.pid} {parent.create_time():.3f}"  # a process that runs, not this one
    left = _labelled(client, label, "4194999 1.000")  # its worker process is gone
    alive = _labelled(client, label, running)  # another worker process with this label still runs
    other = _labelled(client, "0xsomeoneelse", "4194999 1.000")  # another worker's
    try:
        await worker.capabilities()
        assert worker.docker is not None  # Docker answers: its leftovers were looked for
        ids = {c.id for c in client.containers.list(all=True)}
        assert left.id not in ids
        assert alive.id in ids and other.id in ids
    finally:
        for container in (left, alive, other):
            try:
                await asyncio.to_thread(container.remove, force=True)
            except docker.errors.NotFound:
                pass


HOLDER = """
import asyncio, sys
from deskgrid.worker.docker_runner import DockerRunner
from deskgrid.worker.runner import Job
from tests.integration.worker.test_docker_runner import sh_app

async def main():
    execution = await DockerRunner().start(Job("j", sh_app("sleep 600"), {}))
    print(execution.container_id, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


async def test_a_killed_workers_container_is_removed(image: str) -> None:  # noqa: F811
    import docker

    client = docker.from_env()
    worker = subprocess.Popen(
        [sys.executable, "-c", HOLDER], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    container_id = ""
    try:
        assert worker.stdout is not None
        container_id = (await asyncio.to_thread(worker.stdout.readline)).strip()
        assert client.containers.get(container_id).status == "running"
        worker.kill()  # SIGKILL: the worker cleans nothing up
        worker.wait(timeout=30)
        await poll(lambda: not _exists(client, container_id), "the container to be removed")
    finally:
        worker.kill()
        worker.wait(timeout=30)
        if container_id and _exists(client, container_id):
            client.containers.get(container_id).remove(force=True)


def _exists(client, container_id: str) -> bool:
    import docker

    try:
        client.containers.get(container_id)
        return True
    except docker.errors.NotFound:
        return False

"""The Docker runner against a real daemon and a local busybox image (no registry)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from deskgrid.apps.sdk import AppSpec, Resources
from deskgrid.paths import sub_dir
from deskgrid.worker.docker_runner import DockerRunner, docker_available
from deskgrid.worker.runner import (
    Job,
    Limits,
    ProgressEvent,
    RunnerError,
    Status,
    memory_stop_message,
    run_job,
)
from tests.conftest import require

pytestmark = pytest.mark.integration

IMAGE = "deskgrid-test-busybox:1"
BUSYBOX = Path("/bin/busybox")


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    require(docker_available(), "Docker: a running daemon (start it with .ci/start-docker)")
    require(BUSYBOX.exists(), "a static busybox at /bin/busybox (Debian's busybox-static)")
    import docker

    context = tmp_path_factory.mktemp("image")
    shutil.copy(BUSYBOX, context / "busybox")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY busybox /bin/busybox\n")
    docker.from_env().images.build(path=str(context), tag=IMAGE, rm=True)
    return IMAGE


def sh_app(script: str, image: str = IMAGE, **resources: object) -> AppSpec:
    return AppSpec(
        name="sh",
        version="0",
        description="a shell script in busybox",
        params_schema={"type": "object"},
        validate=lambda p: p,
        resources=Resources(docker=True, **resources),  # type: ignore[arg-type]
        image=image,
        command=("/bin/busybox", "sh", "-c", script),
    )


def job(script: str, **kw: object) -> Job:
    return Job("job-1", sh_app(script), kw.pop("params", {"n": 1}), **kw)  # type: ignore[arg-type]


def jobs_left() -> list[Path]:
    return list((sub_dir("worker") / "jobs").glob("*"))


async def test_result_progress_params_and_inputs(image: str) -> None:
    script = (
        'echo \'{"progress": 0.5, "step": 1}\'; '
        "cat /job/params.json /job/in.txt > $DESKGRID_RESULT; "
        "echo '{\"progress\": 1.0}'"
    )
    events: list[ProgressEvent] = []
    outcome = await run_job(
        DockerRunner(), job(script, inputs={"in.txt": b"-input"}), events.append
    )
    assert outcome.ok, outcome.message
    assert outcome.result == json.dumps({"n": 1}).encode() + b"-input"
    assert [e.fraction for e in events] == [0.5, 1.0]
    assert events[0].figures == {"step": 1}
    assert jobs_left() == []


async def test_no_network_at_all(image: str) -> None:
    # Only the loopback interface and no route: no packet can leave the container.
    script = (
        "ls /sys/class/net > /job/result; /bin/busybox tail -n +2 /proc/net/route >> /job/result"
    )
    outcome = await run_job(DockerRunner(), job(script))
    assert outcome.ok, outcome.message
    assert outcome.result == b"lo\n"


async def test_a_job_that_tries_the_network_fails(image: str) -> None:
    # With no interface, connect() fails inside the container before any packet is sent.
    # 192.0.2.1 is TEST-NET-1 (documentation only); the attempt never leaves the container.
    script = "/bin/busybox nc -w 2 192.0.2.1 80 < /dev/null > /job/result"
    outcome = await run_job(DockerRunner(), job(script))
    assert outcome.status is Status.ERROR
    assert "Network is unreachable" in outcome.message


async def test_writing_outside_the_job_directory_fails(image: str) -> None:
    outcome = await run_job(DockerRunner(), job("/bin/busybox touch /bin/evil"))
    assert outcome.status is Status.ERROR
    assert "Read-only file system" in outcome.message


async def test_non_root_without_capabilities_and_only_the_job_mounted(image: str) -> None:
    script = (
        "/bin/busybox id -u > /job/result; "
        "/bin/busybox grep CapEff /proc/self/status >> /job/result; "
        "/bin/busybox grep -c ' /job ' /proc/self/mountinfo >> /job/result; "
        "/bin/busybox grep NoNewPrivs /proc/self/status >> /job/result"
    )
    outcome = await run_job(DockerRunner(), job(script))
    assert outcome.ok, outcome.message
    uid, caps, job_mounts, nnp = (outcome.result or b"").decode().splitlines()
    assert uid != "0"
    assert caps.split() == ["CapEff:", "0000000000000000"]
    assert job_mounts == "1"
    assert nnp.split() == ["NoNewPrivs:", "1"]


async def test_memory_limit(image: str) -> None:
    # `tail` keeps the whole newline-free stream in memory: far more than 32 MiB.
    script = "/bin/busybox head -c 300000000 /dev/zero | /bin/busybox tail > /dev/null"
    outcome = await run_job(DockerRunner(), job(script, limits=Limits(memory_mb=32)))
    assert outcome.status is Status.ERROR
    assert "memory" in outcome.message.lower() or "killed" in outcome.message.lower()


async def test_a_job_over_the_volunteers_memory_limit_says_so(image: str) -> None:
    script = "/bin/busybox head -c 300000000 /dev/zero | /bin/busybox tail > /dev/null"
    limits = Limits(memory_mb=48, memory_by_volunteer=True)
    outcome = await run_job(DockerRunner(), job(script, limits=limits))
    assert outcome.status is Status.ERROR
    assert outcome.message == memory_stop_message(limits)
    assert "48 MiB, the memory this volunteer allows" in outcome.message


async def test_wall_clock_limit(image: str) -> None:
    outcome = await run_job(
        DockerRunner(), job("/bin/busybox sleep 60", limits=Limits(wall_seconds=1))
    )
    assert outcome.status is Status.TIMEOUT
    assert jobs_left() == []


async def test_pause_resume_and_cancel(image: str) -> None:
    import docker

    execution = await DockerRunner().start(job("/bin/busybox sleep 60"))
    await execution.pause()
    assert execution.paused
    container = docker.from_env().containers.get(execution.container_id)
    assert container.status == "paused"
    await execution.resume()
    container.reload()
    assert container.status == "running"
    await execution.cancel()
    outcome = await execution.wait()
    assert outcome.status is Status.CANCELLED
    with pytest.raises(docker.errors.NotFound):
        docker.from_env().containers.get(execution.container_id)
    assert jobs_left() == []


async def test_missing_image_is_a_sentence(image: str) -> None:
    with pytest.raises(RunnerError, match="not on this computer: pull it"):
        await DockerRunner().start(Job("j", sh_app("true", image="deskgrid-absent:0"), {}))
    assert jobs_left() == []


async def test_pids_limit(image: str) -> None:
    script = "for i in $(/bin/busybox seq 40); do /bin/busybox sleep 5 & done; wait"
    execution = await DockerRunner().start(job(script, limits=Limits(pids=8, wall_seconds=30)))
    outcome = await asyncio.wait_for(execution.wait(), 60)
    assert outcome.status is Status.ERROR
    assert "fork" in outcome.message.lower() or "resource" in outcome.message.lower()

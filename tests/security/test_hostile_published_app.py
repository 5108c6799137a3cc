"""A hostile published app, run the way a worker runs one: its image (FROM scratch, Debian's
static busybox) saved with `docker save`, stored in a real grid's data store, fetched through
the worker's image cache and run from its lease (`spec_from_lease`) by the worker's Docker
runner, against a real daemon. It cannot read the worker's files or keys, reach the network
(the host's loopback included) or outlive its job; an archive that is not what the lease names
never runs."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from deskgrid.grid.docker_apps import spec_from_lease
from deskgrid.grid.models import DockerApp, Lease
from deskgrid.worker.docker_runner import JOB_LABEL, DockerRunner
from deskgrid.worker.identity import KEY_FILE
from deskgrid.worker.image_cache import ImageCache, ImageRefused
from deskgrid.worker.runner import Job, Status, run_job
from deskgrid.worker.worker import ALWAYS_RUN, Worker, WorkerConfig
from tests.integration.worker.app_images import (
    AppImage,
    build_app_image,
    image_present,
    remove_image,
    serve_archive,
)
from tests.live_grid import until

pytestmark = pytest.mark.integration


class Published:
    """A hostile app's image in the grid's data store, and the worker's cache to fetch it."""

    def __init__(self, grid, folder: Path) -> None:
        self.server, self.submitter = grid
        self.folder = folder
        self.worker_dir = folder / "worker"
        self.worker = Worker(
            WorkerConfig(grid_url=self.server.url, state_dir=self.worker_dir, poll_interval=0.1)
        )
        self.images: list[AppImage] = []

    async def image(self, script: str) -> AppImage:
        built = build_app_image(self.folder, script, uuid.uuid4().hex[:10])
        self.images.append(built)
        await self.submitter.upload_file(built.archive)
        return built

    async def run(self, script: str, job_id: str) -> tuple[Job, DockerRunner, ImageCache]:
        """The job of a lease of the app whose command is `script`, its image fetched."""
        built = await self.image(script)
        app = built.docker_app(memory_mb=64, max_seconds=60)
        cache = ImageCache(self.worker_dir, client_factory=_docker)
        await cache.ensure(app, self.submitter)
        spec = spec_from_lease("hostile.13", "1.0.0", app)
        runner = DockerRunner(worker_label=self.worker.account.address.lower())
        return Job(job_id, spec, {"n": 1}), runner, cache

    def clean(self) -> None:
        for built in self.images:
            remove_image(built.image_id)


@pytest.fixture
async def published(grid, tmp_path: Path) -> AsyncIterator[Published]:
    from tests.integration.worker.app_images import require_docker

    require_docker()
    made = Published(grid, tmp_path)
    try:
        yield made
    finally:
        made.clean()


async def test_the_app_cannot_see_the_workers_files_keys_or_environment(
    published: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKGRID_KEY_PASSWORD", "the volunteer's secret")
    worker_dir = published.worker_dir
    assert (worker_dir / KEY_FILE).exists()  # the worker's key is there, on the host
    secrets_on_host = [worker_dir, worker_dir / KEY_FILE, Path.home(), Path("/etc/shadow")]
    checks = " ".join(
        f'[ -e "{p}" ] && echo "present {p}" || echo "absent {p}";' for p in secrets_on_host
    )
    script = (
        f"{{ {checks} /bin/busybox env | /bin/busybox grep -c KEY_PASSWORD; "
        "/bin/busybox ls / ; /bin/busybox id -u; } > /job/result 2>&1"
    )
    job, runner, _ = await published.run(script, "files")
    outcome = await run_job(runner, job)
    assert outcome.ok, outcome.message
    lines = (outcome.result or b"").decode().splitlines()
    assert lines[: len(secrets_on_host)] == [f"absent {p}" for p in secrets_on_host]
    assert lines[len(secrets_on_host)] == "0"  # no KEY_PASSWORD in its environment
    # its root holds only the image, the job's folder and the kernel's file systems
    listed = set(lines[len(secrets_on_host) + 1 : -1])
    assert listed <= {"bin", "dev", "etc", "job", "marker", "padding", "proc", "sys", "tmp"}
    assert lines[-1] != "0"  # not root


async def test_the_app_cannot_reach_the_network_not_even_the_hosts_loopback(
    published: Published,
) -> None:
    knocks: list[str] = []

    async def knocked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        knocks.append(str(writer.get_extra_info("peername")))
        writer.close()

    listener = await asyncio.start_server(knocked, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    grid_port = published.server.url.rsplit(":", 1)[1].strip("/")
    script = (
        f"/bin/busybox nc -w 2 127.0.0.1 {port} </dev/null > /dev/null 2>&1;"
        " echo nc $? > /job/result;"
        f"/bin/busybox wget -q -T 2 -O - http://127.0.0.1:{grid_port}/health >> /job/result 2>&1;"
        " echo wget $? >> /job/result;"
        " /bin/busybox wget -q -T 2 -O - http://192.0.2.1/ >> /job/result 2>&1;"
        " echo far $? >> /job/result"
    )
    try:
        job, runner, _ = await published.run(script, "net")
        outcome = await run_job(runner, job)
    finally:
        listener.close()
        await listener.wait_closed()
    assert outcome.ok, outcome.message
    result = (outcome.result or b"").decode()
    codes = [line for line in result.splitlines() if line.split(" ")[0] in ("nc", "wget", "far")]
    assert [line.split(" ")[0] for line in codes] == ["nc", "wget", "far"]
    assert all(line.split(" ")[1] != "0" for line in codes), result
    assert '"ok"' not in result and "version" not in result  # no answer from the grid
    assert knocks == []


def _marked(mark: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if mark in (process.info["cmdline"] or []):
            found.append(process)
    return found


def _containers_of(job_id: str) -> list[object]:
    return _docker().containers.list(all=True, filters={"label": f"{JOB_LABEL}={job_id}"})


async def test_a_process_the_app_leaves_behind_ends_with_its_job(published: Published) -> None:
    mark = str(600_000 + secrets.randbelow(300_000))  # a sleep of its own length
    script = (
        f"( /bin/busybox setsid /bin/busybox sleep {mark} & ) ; "
        f"/bin/busybox nohup /bin/busybox sleep {mark} > /dev/null 2>&1 & "
        "echo done > /job/result"
    )
    job, runner, _ = await published.run(script, "leftover")
    outcome = await run_job(runner, job)
    assert outcome.ok, outcome.message
    await until(lambda: not _marked(mark), "the job's leftover processes to be gone")
    assert _containers_of("leftover") == []


async def test_a_cancelled_job_takes_its_processes_and_container_with_it(
    published: Published,
) -> None:
    mark = str(600_000 + secrets.randbelow(300_000))
    script = f"( /bin/busybox setsid /bin/busybox sleep {mark} & ) ; /bin/busybox sleep {mark}"
    job, runner, _ = await published.run(script, "cancelled")
    execution = await runner.start(job)
    await until(lambda: len(_marked(mark)) == 2, "the job's two processes to run")
    await execution.cancel()
    outcome = await execution.wait()
    assert outcome.status is Status.CANCELLED
    await until(lambda: not _marked(mark), "the cancelled job's processes to be gone")
    assert _containers_of("cancelled") == []


async def test_an_archive_whose_bytes_are_not_its_sha256_never_runs(
    published: Published,
) -> None:
    built = await published.image("echo ran > /job/result")
    stored = published.server.service.data.locate(built.sha256)
    assert isinstance(stored, Path)
    swapped = await published.image("echo swapped > /job/result")  # a grid that serves other bytes
    stored.write_bytes(swapped.archive.read_bytes())
    cache = ImageCache(published.worker_dir, client_factory=_docker)
    with pytest.raises(ImageRefused, match="has another sha256"):
        await cache.ensure(built.docker_app(), published.submitter)
    assert not image_present(built.image_id) and not image_present(swapped.image_id)


async def test_a_lease_whose_archive_holds_another_image_is_refused_and_nothing_stays(
    published: Published,
) -> None:
    named = await published.image("echo named > /job/result")
    other = await published.image("echo other > /job/result")
    lying = DockerApp(image_id=named.image_id, archive_sha256=other.sha256)
    serve_archive(published.server, other)  # a served archive, not the image the lease names
    worker = published.worker
    worker.preferences = ALWAYS_RUN.model_copy(update={"run_docker_apps": True})
    await worker.capabilities()
    job = await published.submitter.submit(
        "checksum", {"text": "t"}, policy={"max_error_results": 1}
    )
    from deskgrid.grid.client import GridClient
    from deskgrid.grid.models import Capabilities

    async with GridClient(published.server.url) as client:
        await client.authenticate(worker.account, capabilities=Capabilities(apps=["checksum"]))
        [lease] = (await client.request_work(1)).leases
        lease = Lease.model_validate(
            {**lease.model_dump(), "app": "hostile.13", "docker": lying.model_dump()}
        )
        await worker._work(client, lease, asyncio.Event())  # noqa: SLF001 - the lease path
    assert "not the image" in (worker.status.last_error or "")
    view = await published.submitter.wait_job(job.id, timeout=20)
    assert view.state == "ERROR"
    assert not image_present(named.image_id) and not image_present(other.image_id)
    assert worker.images.index.images == {}


def _docker():
    import docker

    return docker.from_env(timeout=60)

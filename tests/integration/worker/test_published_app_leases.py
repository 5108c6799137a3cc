"""A worker computes a published (Docker) app's lease against a real grid and a real Docker
daemon: the image comes from the grid's data store through the image cache, the app runs in
the sandbox, and the result reaches the grid encrypted to the requester, identically from two
workers (so the grid's vote still agrees on a result it cannot read). Only a worker whose
volunteer allowed published apps, with Docker, takes them or tells the grid `docker: true`.

The grid's leases are real (a job of a native test app, leased by the grid); the worker is
handed them as a published app's lease (`docker`, `result_key`), as a grid serving published
apps sends them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskgrid.crypto.ecies import (
    check_convergent,
    decrypt,
    encryption_context,
    public_key_of,
)
from deskgrid.grid.client import GridClient
from deskgrid.grid.models import Capabilities, DockerApp, Lease
from deskgrid.worker.docker_runner import NO_DOCKER_FOR_APPS
from deskgrid.worker.worker import ALWAYS_RUN, Worker, WorkerConfig
from tests.integration.worker.app_images import (
    AppImage,
    build_app_image,
    remove_image,
    serve_archive,
)
from tests.live_grid import DEADLINE, until

pytestmark = pytest.mark.integration

REQUESTER_KEY = hashlib.sha256(b"the requester's wallet").digest()
RESULT_KEY = public_key_of(REQUESTER_KEY).hex()
TASK_ID = "0x" + "5a" * 32
SCRIPT = "cat /job/params.json /job/text > /job/result"
ALLOWED = ALWAYS_RUN.model_copy(update={"run_docker_apps": True})


@pytest.fixture
def app_image(tmp_path: Path) -> Iterator[AppImage]:
    built = build_app_image(tmp_path, SCRIPT, uuid.uuid4().hex[:8])
    try:
        yield built
    finally:
        remove_image(built.image_id)


def make_worker(url: str, folder: Path, *, allowed: bool = True) -> Worker:
    worker = Worker(WorkerConfig(grid_url=url, state_dir=folder, poll_interval=0.1))
    if allowed:
        worker.preferences = ALLOWED
    return worker


async def leased(
    worker: Worker, client: GridClient, app: DockerApp, external_id: str | None = None
) -> Lease:
    """The grid's next lease for `worker`, as a published app's lease (of the oracle's task
    `external_id`)."""
    await client.authenticate(worker.account, capabilities=Capabilities(apps=["checksum"]))
    reply = await client.request_work(1)
    assert len(reply.leases) == 1, reply
    return reply.leases[0].model_copy(
        update={
            "app": "catter.7",
            "app_version": "1.0.0",
            "docker": app,
            "result_key": RESULT_KEY,
            "heartbeat_interval": 3600.0,  # the job takes a moment: no heartbeat needed
            "external_id": external_id,
        }
    )


async def test_two_workers_upload_the_same_ciphertext_and_the_grid_agrees(
    grid, app_image: AppImage, tmp_path: Path
) -> None:
    server, submitter = grid
    text = await submitter.upload_data(b"words words words\n")
    await submitter.upload_file(app_image.archive)
    serve_archive(server, app_image)
    job = await submitter.submit(
        "checksum",
        {"text": "t"},
        inputs=[{"name": "text", "sha256": text.sha256}],
        policy={"target_nresults": 2, "min_quorum": 2, "adaptive": False},
        external_id=TASK_ID,
    )
    stop = asyncio.Event()
    for n in range(2):
        worker = make_worker(server.url, tmp_path / f"w{n}")
        async with GridClient(server.url) as client:
            lease = await leased(worker, client, app_image.docker_app(memory_mb=64), TASK_ID)
            assert (await worker.capabilities()).docker
            await worker._work(client, lease, stop)  # noqa: SLF001 - the worker's lease path
        assert worker.status.last_error is None, worker.status.last_error
    done = await submitter.wait_job(job.id, timeout=DEADLINE)
    assert done.state == "COMPLETED"
    view = await submitter.get_job(job.id)
    digests = {lease.result_sha256 for lease in view.leases or [] if lease.state == "VALID"}
    assert len(digests) == 1  # both replicas: the same bytes
    sealed = await submitter.download_result(job.id)
    assert sealed[:4] == b"DGEC"
    assert decrypt(REQUESTER_KEY, sealed) == json.dumps({"text": "t"}).encode() + b"words " * 2 + (
        b"words\n"
    )
    assert check_convergent(REQUESTER_KEY, sealed, encryption_context(TASK_ID, job.id))


async def test_a_worker_whose_volunteer_did_not_allow_published_apps_refuses_them(
    grid, app_image: AppImage, tmp_path: Path
) -> None:
    server, submitter = grid
    await submitter.upload_file(app_image.archive)
    job = await submitter.submit("checksum", {"text": "t"}, policy={"max_error_results": 1})
    worker = make_worker(server.url, tmp_path / "w", allowed=False)
    assert not (await worker.capabilities()).docker
    async with GridClient(server.url) as client:
        lease = await leased(worker, client, app_image.docker_app())
        await worker._work(client, lease, asyncio.Event())  # noqa: SLF001
    assert "does not run apps from other developers" in (worker.status.last_error or "")
    view = await submitter.wait_job(job.id, timeout=DEADLINE)
    assert view.state == "ERROR"
    assert not worker.images.index.images  # nothing was fetched


async def test_allowing_published_apps_is_told_to_the_grid_live(grid, tmp_path: Path) -> None:
    server, _ = grid
    worker = make_worker(server.url, tmp_path / "w", allowed=False)
    caps = await worker.capabilities()
    assert not caps.docker
    worker.preferences = ALLOWED
    assert worker._current_capabilities(caps).docker is (worker.docker is not None)  # noqa: SLF001
    worker.preferences = ALWAYS_RUN
    assert not worker._current_capabilities(caps).docker  # noqa: SLF001


async def test_without_docker_a_published_apps_lease_is_refused_with_a_sentence(
    grid, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, submitter = grid
    await submitter.submit("checksum", {"text": "t"}, policy={"max_error_results": 1})
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    worker = make_worker(server.url, tmp_path / "w")
    assert not (await worker.capabilities()).docker
    async with GridClient(server.url) as client:
        app = DockerApp(image_id="sha256:" + "3" * 64, archive_sha256="4" * 64)
        await worker._work(client, await leased(worker, client, app), asyncio.Event())  # noqa: SLF001
    assert worker.status.last_error == NO_DOCKER_FOR_APPS


async def test_the_lease_is_kept_alive_while_its_image_is_fetched(grid, tmp_path: Path) -> None:
    server, submitter = grid
    job = await submitter.submit("checksum", {"text": "t"})
    worker = make_worker(server.url, tmp_path / "w")
    async with GridClient(server.url) as client:
        app = DockerApp(image_id="sha256:" + "3" * 64, archive_sha256="4" * 64)
        lease = (await leased(worker, client, app)).model_copy(update={"heartbeat_interval": 0.05})
        beats = asyncio.create_task(worker._heartbeats_while_fetching(client, lease))  # noqa: SLF001

        async def heard() -> bool:
            view = await submitter.get_job(job.id)
            return any(seen.heartbeat_at for seen in view.leases or [])

        try:
            await until(heard, "a heartbeat of the lease while its image is fetched")
        finally:
            beats.cancel()
            await asyncio.gather(beats, return_exceptions=True)

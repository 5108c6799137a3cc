"""Long-polled work requests and event reads on a real grid server over loopback: a waiting
request is answered when another client submits a job, waiters are bounded per worker, and a
client that does not ask to wait gets the immediate answer it always got."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from eth_account import Account

from deskgrid.grid.client import GridClient
from deskgrid.grid.config import GridConfig
from deskgrid.grid.longpoll import PER_CALLER
from deskgrid.grid.models import Capabilities
from deskgrid.grid.server import GridServer
from tests.grid_fixtures import catalog
from tests.live_grid import DEADLINE, until

pytestmark = pytest.mark.integration
IDLE_RETRY = 7.0  # what a worker that may not wait is told


@pytest.fixture(params=["sqlite", "postgresql"])
async def served(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[GridServer, GridClient, GridClient]]:
    # on PostgreSQL the store calls run in threads: the bell is rung from them
    db_url = request.getfixturevalue("pg_grid_url") if request.param == "postgresql" else None
    config = GridConfig(data_dir=tmp_path / "grid", idle_retry_s=IDLE_RETRY, db_url=db_url)
    server = GridServer(config, catalog())
    url = await server.start()
    submitter = GridClient(url, token=server.submitter_token)
    worker = GridClient(url)
    await worker.authenticate(Account.create(), capabilities=Capabilities(apps=["echo"]))
    try:
        yield server, submitter, worker
    finally:
        await worker.aclose()
        await submitter.aclose()
        await server.stop()


def _waiting(server: GridServer) -> int:
    assert server.service is not None
    return server.service.longpoll.waiting


async def test_a_waiting_work_request_gets_the_job_another_client_submits(served) -> None:
    server, submitter, worker = served
    asked = asyncio.ensure_future(worker.request_work(1, wait=25))
    await until(lambda: _waiting(server) == 1, "the work request to wait on the server")
    assert not asked.done()
    job = await submitter.submit("echo", {"message": "woken"})
    reply = await asyncio.wait_for(asked, DEADLINE)
    assert [lease.job_id for lease in reply.leases] == [job.id]
    assert reply.retry_after is None
    assert _waiting(server) == 0


async def test_an_old_client_is_answered_at_once(served) -> None:
    _server, _submitter, worker = served
    reply = await worker.request_work(1)  # no wait asked: today's reply
    assert reply.leases == [] and reply.retry_after == IDLE_RETRY


async def test_waiters_are_bounded_per_worker(served) -> None:
    server, submitter, worker = served
    held = [asyncio.ensure_future(worker.request_work(1, wait=25)) for _ in range(PER_CALLER)]
    await until(lambda: _waiting(server) == PER_CALLER, "the worker's waiting requests")
    extra = await worker.request_work(1, wait=25)  # past the bound: answered at once
    assert extra.leases == [] and extra.retry_after == IDLE_RETRY
    assert not any(request.done() for request in held)
    other = GridClient(server.url)  # another worker still may wait
    try:
        await other.authenticate(Account.create(), capabilities=Capabilities(apps=["echo"]))
        third = asyncio.ensure_future(other.request_work(1, wait=25))
        await until(lambda: _waiting(server) == PER_CALLER + 1, "the other worker to wait")
        for n in range(PER_CALLER + 1):
            await submitter.submit("echo", {"message": f"job {n}"})
        replies = await asyncio.wait_for(asyncio.gather(*held, third), DEADLINE)
        assert sorted(len(reply.leases) for reply in replies) == [1] * (PER_CALLER + 1)
    finally:
        await other.aclose()


async def test_a_waiting_events_read_returns_when_a_job_is_submitted(served) -> None:
    server, submitter, _worker = served
    since = (await submitter.events()).last_seq
    read = asyncio.ensure_future(submitter.events(since, wait=25))
    await until(lambda: _waiting(server) == 1, "the events read to wait on the server")
    assert not read.done()
    job = await submitter.submit("echo", {"message": "seen"})
    page = await asyncio.wait_for(read, DEADLINE)
    assert [(event.kind, event.job_id) for event in page.events] == [("submitted", job.id)]

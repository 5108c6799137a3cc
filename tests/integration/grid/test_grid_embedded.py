"""The embeddable server in this test's own loop, used through GridClient over loopback."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from eth_account import Account

from deskgrid.grid.client import GridClient, LeaseGone, NotAuthorized
from deskgrid.grid.config import GridConfig
from deskgrid.grid.models import Capabilities
from deskgrid.grid.server import GridServer
from tests.grid_fixtures import catalog, echo_result

pytestmark = pytest.mark.integration


async def test_embedded_server_and_client_round_trip(tmp_path) -> None:
    server = GridServer(GridConfig(data_dir=tmp_path, reap_interval_s=0.05), catalog())
    url = await server.start()
    assert url.startswith("http://127.0.0.1:")
    assert (tmp_path / "submitter.token").read_text().strip() == server.submitter_token
    submitter = GridClient(url, token=server.submitter_token)
    worker = GridClient(url)
    try:
        assert (await submitter.health()).status == "ok"
        assert {a.name for a in await submitter.apps()} == set(catalog())
        stream = submitter.stream_events(since=0)
        first = asyncio.ensure_future(stream.__anext__())

        data = await submitter.upload_data(b"input")
        job = await submitter.submit(
            "echo",
            {"message": "embedded"},
            inputs=[{"name": "in", "sha256": data.sha256}],
            external_id="task-42",
            policy={"delay_bound": 5.0},
        )
        assert (
            await submitter.submit("echo", {"message": "embedded"}, external_id="task-42")
        ).id == job.id
        assert (await asyncio.wait_for(first, 10)).kind == "submitted"

        account = Account.create()
        login = await worker.authenticate(account, capabilities=Capabilities(apps=["echo"]))
        assert login.address == account.address
        (lease,) = (await worker.request_work(4)).leases
        assert await worker.download_data(lease.inputs[0].sha256) == b"input"
        target = tmp_path / "dl" / "in"
        await worker.download_data_to(lease.inputs[0].sha256, target)
        assert target.read_bytes() == b"input"
        beat = await worker.heartbeat(lease.lease_id, progress=0.25, keys_per_s=5.0)
        assert beat.keep_going
        ack = await worker.upload_result(lease.lease_id, echo_result(lease.params))
        assert ack.job_state == "COMPLETED"
        with pytest.raises(LeaseGone):
            await worker.upload_result(lease.lease_id, b"again")
        done = await submitter.wait_job(job.id, timeout=10)
        assert await submitter.download_result(job.id) == echo_result(lease.params)
        assert done.result_sha256 == hashlib.sha256(echo_result(lease.params)).hexdigest()
        assert (await submitter.find_job("task-42")).id == job.id

        kinds = ["submitted"]
        async with asyncio.timeout(10):
            while kinds[-1] != "completed":
                kinds.append((await stream.__anext__()).kind)
        assert kinds == ["submitted", "leased", "progress", "result", "completed"]
        resumed = await submitter.events(since=2)
        assert [e.kind for e in resumed.events] == kinds[2:]
        with pytest.raises(NotAuthorized):
            await worker.list_jobs()
        metrics = await submitter.metrics()
        assert metrics.jobs_by_state["COMPLETED"] == 1 and metrics.workers_online == 1
        await stream.aclose()
    finally:
        await submitter.aclose()
        await worker.aclose()
        await server.stop()


async def test_lost_lease_is_reaped_by_the_running_server(tmp_path) -> None:
    async with GridServer(GridConfig(data_dir=tmp_path, reap_interval_s=0.05), catalog()) as server:
        async with GridClient(server.url, token=server.submitter_token) as submitter:
            job = await submitter.submit("echo", {"message": "x"}, policy={"delay_bound": 0.2})
            async with GridClient(server.url) as lost, GridClient(server.url) as other:
                caps = Capabilities(apps=["echo"])
                await lost.authenticate(Account.create(), capabilities=caps)
                await other.authenticate(Account.create(), capabilities=caps)
                (first,) = (await lost.request_work()).leases
                async with asyncio.timeout(10):
                    while not (reply := await other.request_work()).leases:
                        await asyncio.sleep(0.05)
                await other.upload_result(reply.leases[0].lease_id, b"r")
                assert not (await lost.heartbeat(first.lease_id)).keep_going
            final = await submitter.get_job(job.id)
            assert final.state == "COMPLETED" and final.n_errors == 1
            assert [x.state for x in final.leases or []] == ["EXPIRED", "VALID"]


async def test_worker_token_is_renewed_when_refused(tmp_path) -> None:
    config = GridConfig(data_dir=tmp_path, worker_token_ttl_s=0.3)
    async with GridServer(config, catalog()) as server, GridClient(server.url) as worker:
        await worker.authenticate(Account.create(), capabilities=Capabilities(apps=["echo"]))
        old = worker.token
        await asyncio.sleep(0.4)
        assert (await worker.me()).apps == ["echo"]
        assert worker.token != old


async def test_a_port_in_use_is_a_sentence(tmp_path) -> None:
    async with GridServer(GridConfig(data_dir=tmp_path), catalog()) as server:
        port = int(server.url.rsplit(":", 1)[1])
        clash = GridServer(GridConfig(data_dir=tmp_path / "b", port=port), catalog())
        with pytest.raises(Exception, match="another --port"):
            await clash.start()
        await clash.stop()

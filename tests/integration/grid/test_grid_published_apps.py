"""A `deskgrid grid serve` process following the hub of the embedded chain (served over
JSON-RPC on loopback) with an operator's policy file: a published app appears in `GET /apps`
without a restart when the policy allows it, and leaves it when the policy file changes or its
developer retires it; its jobs go to a worker with Docker only, their leases carrying the image
and the result key; bad options or a bad policy file stop the start with a sentence."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from eth_account import Account

from deskgrid.chain.rpc_server import ChainRpcServer
from deskgrid.grid.client import GridClient
from deskgrid.grid.models import Capabilities, JobSubmit
from tests.conftest import REPO_ROOT
from tests.published_apps import image_id, publish_example
from tests.unit.chain.conftest import deployed_chain, market  # noqa: F401 - fixtures

from .processes import TOKEN, _env, start_server

pytestmark = pytest.mark.integration
KEY = "02" + "6a" * 32


@pytest.fixture
def rpc_url(market):  # noqa: F811 - the fixture imported above
    server = ChainRpcServer(market.chain)
    yield server.start()
    server.stop()


def serve_following(market, rpc_url: str, tmp_path, policy: str, *extra: str):  # noqa: F811
    """A grid process following `market`'s hub with the policy file `policy` (written to
    tmp_path/policy.json, returned with the process and its URL)."""
    path = tmp_path / "policy.json"
    path.write_text(policy)
    server, url = start_server(
        f"sqlite:///{tmp_path / 'grid.db'}", tmp_path / "grid", 0,
        "--chain-rpc", rpc_url, "--hub", market.hub.address, "--app-policy", str(path), *extra,
    )  # fmt: skip
    return server, url, path


async def served_apps(grid: GridClient) -> set[str]:
    return {app.name for app in await grid.apps()}


async def until_apps(grid: GridClient, check) -> set[str]:
    async with asyncio.timeout(30):
        while not check(names := await served_apps(grid)):
            await asyncio.sleep(0.1)
    return names


async def test_published_apps_come_and_go_with_the_chain_and_the_policy(
    market,  # noqa: F811
    rpc_url,
    tmp_path,
) -> None:
    words, _ = publish_example(market.hub, market.sender(5), "wordfreq", image_id(1))
    server, url, policy = serve_following(
        market, rpc_url, tmp_path, '{"docker_apps": "all"}', "--catalog-refresh", "0.2"
    )
    try:
        server.wait_line(r"published apps: every published app")
        async with GridClient(url, token=TOKEN) as grid:
            assert f"wordfreq.{words}" in await served_apps(grid)  # read before serving
            carlo, _ = publish_example(market.hub, market.sender(6), "montecarlo", image_id(2))
            names = await until_apps(grid, lambda names: f"montecarlo.{carlo}" in names)
            assert {"echo", f"wordfreq.{words}"} <= names
            (info,) = [app for app in await grid.apps() if app.name == f"montecarlo.{carlo}"]
            assert info.uri == "docker:" + image_id(2) and info.resources["docker"] is True

            policy.write_text(f'{{"docker_apps": "allow-list", "apps": [{words}]}}')
            await until_apps(grid, lambda names: f"montecarlo.{carlo}" not in names)
            market.hub.retire_app(market.sender(5), words)
            names = await until_apps(grid, lambda names: f"wordfreq.{words}" not in names)
            assert "echo" in names
    finally:
        server.stop()


async def test_a_docker_job_is_leased_to_a_docker_worker_with_its_image_and_result_key(
    market,  # noqa: F811
    rpc_url,
    tmp_path,
) -> None:
    words, _ = publish_example(market.hub, market.sender(5), "wordfreq", image_id(3))
    owner = market.account(5).address
    policy = f'{{"docker_apps": "allow-list", "owners": ["{owner}"]}}'
    server, url, _ = serve_following(market, rpc_url, tmp_path, policy)
    try:
        async with (
            GridClient(url, token=TOKEN) as submitter,
            GridClient(url) as plain,
            GridClient(url) as docker,
        ):
            job = await submitter.submit(
                submitter_job(f"wordfreq.{words}", external_id="0x" + "12" * 32)
            )
            await plain.authenticate(Account.create(), capabilities=Capabilities(apps=["echo"]))
            assert (await plain.request_work(4)).leases == []
            await docker.authenticate(
                Account.create(), capabilities=Capabilities(apps=[], docker=True)
            )
            (lease,) = (await docker.request_work(4)).leases
            assert lease.job_id == job.id and lease.app == f"wordfreq.{words}"
            assert lease.result_key == KEY and lease.external_id == "0x" + "12" * 32
            assert lease.docker is not None and lease.docker.image_id == image_id(3)
            assert lease.docker.memory_mb == 128 and lease.docker.max_seconds == 300
    finally:
        server.stop()


def submitter_job(app: str, external_id: str) -> JobSubmit:
    return JobSubmit(app=app, params={"top": 3}, external_id=external_id, result_key=KEY)


def serve_fails(*options: str) -> str:
    """The standard error of `deskgrid grid serve OPTIONS`, which must exit 2."""
    done = subprocess.run(
        [sys.executable, "-m", "deskgrid.cli", "grid", "serve", "--port", "0", *options],
        cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done
    return done.stderr


def test_the_policy_needs_the_chain_and_a_bad_policy_file_stops_the_start(
    market,  # noqa: F811
    rpc_url,
    tmp_path,
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text('{"docker_apps": "any"}')
    data = ["--data-dir", str(tmp_path / "grid")]
    assert "--app-policy needs --chain-rpc and --hub" in serve_fails(
        *data, "--app-policy", str(policy)
    )
    stderr = serve_fails(
        *data, "--app-policy", str(policy), "--chain-rpc", rpc_url, "--hub", market.hub.address
    )
    assert 'docker_apps must be "none", "all" or "allow-list"' in stderr

"""An embedded chain with the default deployment, a real grid server on loopback, an oracle,
and a small in-process volunteer that computes built-in apps through the grid API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from deskgrid.apps.registry import builtin_apps
from deskgrid.apps.sdk import AppSpec, RunContext
from deskgrid.chain.connection import Chain, connect
from deskgrid.chain.contracts import HubContract, RLCToken, TaskRequest, VanityRequesterContract
from deskgrid.chain.deployment import Deployment, Roles, deploy
from deskgrid.chain.transactions import TxSender
from deskgrid.grid.client import GridClient, GridClientError
from deskgrid.grid.config import GridConfig, JobDefaults
from deskgrid.grid.models import Capabilities
from deskgrid.grid.server import GridServer
from deskgrid.grid.stakes import HubStakes
from deskgrid.oracle.oracle import Oracle, OracleConfig
from deskgrid.oracle.store import OracleStore


async def volunteer(
    url: str, account, stop: asyncio.Event, apps=None, payout=None, tamper=None
) -> None:
    """Pull leases and compute them in a thread with the app's own run function; `payout`
    is the address the worker names to be paid (None: its own); `tamper`, when given, turns
    each result into what this volunteer uploads instead (a dishonest one)."""
    catalog = builtin_apps()
    async with GridClient(url) as client:
        caps = Capabilities(apps=list(apps or catalog), cores=1, memory_mb=1024)
        await client.authenticate(account, capabilities=caps, payout=payout)
        while not stop.is_set():
            reply = await client.request_work(1, caps)
            if not reply.leases:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.2)
                continue
            for lease in reply.leases:
                spec = catalog[lease.app]
                try:
                    with tempfile.TemporaryDirectory() as tmp:
                        ctx = RunContext(Path(tmp), 1)
                        run = spec.load_run_function()
                        result = await asyncio.to_thread(run, lease.params, ctx)
                    if tamper is not None:
                        result = tamper(result)
                    await client.upload_result(lease.lease_id, result)
                except GridClientError:
                    raise
                except Exception as exc:  # the app failed: tell the grid
                    await client.report_error(lease.lease_id, str(exc)[:400])


@dataclass
class Setup:
    chain: Chain
    roles: Roles
    deployment: Deployment
    hub: HubContract
    rlc: RLCToken
    requester: VanityRequesterContract
    server: GridServer
    grid: GridClient
    store_path: Path

    def oracle(self, **options) -> Oracle:
        """An oracle on this setup's store; `options` are further OracleConfig fields."""
        return Oracle(
            self.chain,
            self.hub,
            TxSender(self.chain, self.roles.scheduler),
            self.grid,
            OracleStore(self.store_path),
            builtin_apps(),
            OracleConfig(
                pool_id=self.deployment.pool_id,
                poll_interval=0.1,
                start_block=self.deployment.block,
                **options,
            ),
        )

    def pay(
        self,
        app: str | int,
        params: dict | str,
        *,
        who: int = 3,
        callback: str | None = None,
        trust: int = 1,
    ) -> bytes:
        """Pay a task of `app` (a deployed app's name, or an app id) with `params` (an
        object, or the request's params text as is)."""
        user = self.chain.dev_accounts[who]
        app_id = self.deployment.apps[app] if isinstance(app, str) else app
        price = self.hub.price_of(app_id, self.deployment.pool_id, trust)
        self.rlc.transfer(TxSender(self.chain, self.roles.faucet), user.address, price)
        request = TaskRequest(
            app_id,
            self.deployment.pool_id,
            params if isinstance(params, str) else json.dumps(params),
            price,
            0,
            callback or self.requester.address,
            trust=trust,
        )
        return self.hub.pay_and_request(TxSender(self.chain, user), self.rlc, request)


async def complete_task(setup: Setup, worker_key, payout: str | None, text: str) -> bytes:
    """Pay an echo task and run the oracle and a volunteer (signed in with `worker_key`,
    naming `payout`) until the hub finalizes it; returns the task id."""
    from deskgrid.chain.contracts import TaskStatus

    task_id = setup.pay("echo", {"text": text})
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(setup.oracle().run(stop)),
        asyncio.create_task(volunteer(setup.server.url, worker_key, stop, payout=payout)),
    ]
    try:
        async with asyncio.timeout(90):
            while setup.hub.task_status(task_id) is not TaskStatus.COMPLETED:
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    return task_id


@pytest.fixture
def grid_options() -> dict:
    """GridConfig fields of the setup's grid server; a test module overrides this fixture."""
    return {}


@pytest.fixture
def grid_catalog() -> Mapping[str, AppSpec]:
    """The apps of the setup's grid server; a test module overrides this fixture."""
    return builtin_apps()


@pytest.fixture
async def setup(tmp_path, grid_options, grid_catalog):
    chain = await asyncio.to_thread(connect, "embedded")
    roles = Roles.dev(chain)
    deployment = await asyncio.to_thread(deploy, chain, roles, with_test_apps=True)
    hub, rlc = HubContract(chain, deployment.hub), RLCToken(chain, deployment.rlc)
    server = GridServer(
        GridConfig(
            **{"data_dir": tmp_path / "grid", "defaults": JobDefaults(delay_bound=10.0)}
            | grid_options
        ),
        grid_catalog,
        stakes=HubStakes(hub),  # staked jobs go to the hub's stakeholders
    )
    await server.start()
    grid = GridClient(server.url, token=server.submitter_token)
    requester = VanityRequesterContract(chain, deployment.vanity_requester)
    yield Setup(
        chain, roles, deployment, hub, rlc, requester, server, grid, tmp_path / "oracle.sqlite"
    )
    await grid.aclose()
    await server.stop()
    chain.close()

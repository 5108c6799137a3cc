"""End to end on anvil with every part a real process: a grid server, two workers and the
oracle. The oracle is killed with SIGKILL once the grid has the result; a restarted oracle
finalizes the task exactly once and the requester combines the key."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import httpx
import pytest

from deskgrid.chain.anvil import AnvilNode, find_anvil, free_port
from deskgrid.chain.connection import connect
from deskgrid.chain.contracts import HubContract, RLCToken, TaskStatus
from deskgrid.chain.deployment import Roles, ensure_deployment
from deskgrid.chain.transactions import TxSender
from deskgrid.grid.client import GridClient
from deskgrid.node.requester import VanityOrder, VanityRun
from tests.conftest import require

pytestmark = pytest.mark.integration
TOKEN = "test-submitter-token-0123456789"


def spawn(home, *args: str) -> subprocess.Popen:
    env = dict(os.environ, DESKGRID_HOME=str(home))
    return subprocess.Popen(
        [sys.executable, "-m", "deskgrid.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )


async def until(predicate, timeout: float, what: str):
    async with asyncio.timeout(timeout):
        while not (value := await predicate()):
            await asyncio.sleep(0.2)
    assert value, what
    return value


async def test_anvil_two_workers_and_an_oracle_killed_before_finalize(tmp_path):
    require(find_anvil() is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    anvil = AnvilNode().start()
    procs: list[subprocess.Popen] = []
    try:
        chain = connect(anvil.url)
        roles = Roles.dev(chain)
        deployment, _ = ensure_deployment(chain, roles)
        port = free_port()
        grid_url = f"http://127.0.0.1:{port}"
        procs.append(
            spawn(
                tmp_path / "grid", "grid", "serve", "--port", str(port), "--submitter-token", TOKEN
            )
        )

        async def grid_up():
            try:
                return httpx.get(f"{grid_url}/api/v1/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        await until(grid_up, 60, "the grid server answers")
        for i in range(2):
            # Paid to the worker's own new key: no stake (a verified VanityGen result pays
            # any worker).
            procs.append(spawn(tmp_path / f"worker{i}", "worker", "--grid", grid_url, "--quiet"))
        oracle_args = (
            "oracle",
            "--chain",
            anvil.url,
            "--hub",
            deployment.hub,
            "--grid",
            grid_url,
            "--grid-token",
            TOKEN,
            "--confirmations",
            "0",
            "--poll",
            "3",
            "--db",
            str(tmp_path / "oracle.sqlite"),
        )
        oracle = spawn(tmp_path / "oracle", *oracle_args)
        procs.append(oracle)

        hub, rlc = HubContract(chain, deployment.hub), RLCToken(chain, deployment.rlc)
        user = chain.dev_accounts[3]
        rlc.transfer(TxSender(chain, roles.faucet), user.address, 10 * 10**9)
        run = VanityRun(
            chain,
            hub,
            rlc,
            TxSender(chain, user),
            app_id=deployment.apps["vanity"],
            pool_id=deployment.pool_id,
            callback=deployment.vanity_requester,
        )
        order = VanityOrder(["1A"])
        task_id = run.pay(order)

        async with GridClient(grid_url, token=TOKEN) as grid:

            async def completed_on_grid():
                job = await grid.find_job("0x" + task_id.hex())
                return job is not None and job.state == "COMPLETED"

            await until(completed_on_grid, 120, "the grid computed the task")
        os.killpg(oracle.pid, signal.SIGKILL)
        oracle.wait(timeout=10)
        procs.append(spawn(tmp_path / "oracle", *oracle_args))

        async def finalized():
            return hub.task_status(task_id) is TaskStatus.COMPLETED

        await until(finalized, 120, "the restarted oracle finalized the task")
        await asyncio.sleep(4)  # a further oracle step must not finalize again
        assert len(hub.logs("TaskFinalized", deployment.block, taskId=task_id)) == 1
        outcome = run.outcome(order)
        assert outcome.address.startswith("1A") and outcome.wif
        paid = [w for w in hub.logs("Rewarded", deployment.block) if w["args"]["role"] == 2]
        assert len(paid) == 1 and paid[0]["args"]["amount"] == 10**9 * 7 // 10
        assert hub.stake_of(paid[0]["args"]["account"]) == 0  # paid without any stake
        chain.close()
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        anvil.stop()

"""`deskgrid oracle -v` as a real process, through one task: one INFO line per lifecycle step
in order (seen, submitted to the grid, computed, finalized with its transaction and gas), no
HTTP client lines, and a line on SIGTERM saying what a restart picks up."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from deskgrid.chain.contracts import TaskStatus
from deskgrid.chain.keyfile import PASSWORD_ENV, write_key_file
from deskgrid.chain.rpc_server import ChainRpcServer

from .conftest import volunteer

pytestmark = pytest.mark.integration


def oracle_process(setup, rpc_url: str, tmp_path) -> subprocess.Popen:
    key = write_key_file(setup.roles.scheduler, tmp_path / "scheduler.json", "pw")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deskgrid",
            "oracle",
            "-v",
            "--chain",
            rpc_url,
            "--hub",
            setup.deployment.hub,
            "--grid",
            setup.server.url,
            "--grid-token",
            setup.server.submitter_token,
            "--key-file",
            str(key),
            "--confirmations",
            "0",
            "--poll",
            "0.2",
            "--db",
            str(tmp_path / "oracle.sqlite"),
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, DESKGRID_HOME=str(tmp_path / "home"), **{PASSWORD_ENV: "pw"}),
    )


async def test_oracle_logs_each_step_of_a_task_and_its_shutdown(setup, tmp_path):
    rpc = ChainRpcServer(setup.chain)
    rpc_url = await asyncio.to_thread(rpc.start)
    proc = oracle_process(setup, rpc_url, tmp_path)
    stop = asyncio.Event()
    worker = asyncio.create_task(
        volunteer(setup.server.url, setup.chain.dev_accounts[6], stop, apps=["echo"])
    )
    try:
        task_id = await asyncio.to_thread(setup.pay, "echo", {"text": "hello"})
        hex_id = "0x" + task_id.hex()
        async with asyncio.timeout(120):
            while setup.hub.task_status(task_id) is not TaskStatus.COMPLETED:
                assert proc.poll() is None, proc.communicate()
                await asyncio.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.to_thread(proc.communicate, timeout=60)
    finally:
        stop.set()
        await worker
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await asyncio.to_thread(rpc.stop)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    steps = [line for line in err.splitlines() if f"task {hex_id} " in line]
    expected = ("seen in block", "submitted to the grid: job", "computed: job", "finalized: tx")
    assert len(steps) == len(expected), steps
    for line, step in zip(steps, expected, strict=True):
        assert line.startswith("INFO deskgrid.oracle") and step in line, steps
    assert "app echo, price" in steps[0]
    assert ", gas " in steps[3]
    assert "HTTP Request" not in err and "httpx" not in err
    assert out.splitlines()[-1] == "oracle stopped; no task in flight"


async def test_oracle_stopped_with_a_task_on_the_grid_says_a_restart_picks_it_up(setup, tmp_path):
    rpc = ChainRpcServer(setup.chain)
    rpc_url = await asyncio.to_thread(rpc.start)
    proc = oracle_process(setup, rpc_url, tmp_path)
    try:
        task_id = await asyncio.to_thread(setup.pay, "echo", {"text": "later"})
        async with asyncio.timeout(120):  # no worker: the job waits on the grid
            while await setup.grid.find_job("0x" + task_id.hex()) is None:
                assert proc.poll() is None, proc.communicate()
                await asyncio.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.to_thread(proc.communicate, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await asyncio.to_thread(rpc.stop)
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert out.splitlines()[-1] == (
        "oracle stopped; 1 task(s) in flight will be picked up on restart"
    )

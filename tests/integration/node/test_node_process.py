"""The local node's child process (`python -m deskgrid.node.process`) as a real process: it
boots, serves the embedded chain over JSON-RPC and the grid, says so in one JSON line, stops
cleanly on SIGTERM, and exits by itself when its parent is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from deskgrid.chain.connection import connect
from deskgrid.chain.contracts import HubContract, RLCToken
from deskgrid.chain.transactions import TxSender
from deskgrid.desktop.node_backend import node_command
from deskgrid.node.info import NodeInfo, NodeLine

pytestmark = pytest.mark.integration

BOOT_TIMEOUT = 120.0

# A parent that starts the node with a pipe on its standard input (as the desktop app does),
# passes the node's lines on, and then waits to be killed.
PARENT = textwrap.dedent(
    """
    import subprocess, sys, time
    child = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for line in child.stdout:
        sys.stdout.buffer.write(line)
        sys.stdout.flush()
        if b'"event":"ready"' in line:
            time.sleep(3600)
    """
)


def read_ready(stream, lines: list[NodeLine]) -> NodeInfo:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        raw = stream.readline()
        assert raw, f"the node stopped while booting after {lines}"
        line = NodeLine.loads(raw)
        if line is None:
            continue
        lines.append(line)
        assert line.event != "error", line.message
        if line.event == "ready":
            assert line.node is not None
            return line.node
    raise AssertionError("the node did not boot in time")


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_the_node_serves_rpc_and_grid_and_dies_with_its_parent(tmp_path):
    env = dict(os.environ, DESKGRID_HOME=str(tmp_path))
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, *node_command(workers=1)],
        stdout=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    child_pid = None
    try:
        lines: list[NodeLine] = []
        info = read_ready(parent.stdout, lines)
        child_pid = info.pid
        progress = [line.message for line in lines if line.event == "progress"]
        assert progress[0].startswith("starting the embedded chain") and progress[-1] == "ready"
        assert info.rpc_url.startswith("http://127.0.0.1:") and info.chain_kind == "embedded"
        assert info.workers == 1 and len(info.dev_keys) == 10

        # The embedded chain over JSON-RPC: the marketplace is there, a transfer is mined,
        # a refusal comes back as a sentence, the clock moves.
        chain = connect(info.rpc_url, dev_keys=info.dev_keys)
        assert chain.kind == "dev" and chain.is_dev
        deployment = info.deployment
        assert chain.chain_id == deployment["chain_id"]
        hub = HubContract(chain, deployment["hub"])
        assert "vanity" in [app.name for app in hub.apps()]
        rlc = RLCToken(chain, deployment["rlc"])
        user = chain.dev_accounts[info.demo_user_index].address
        before = rlc.balance_of(user)
        rlc.transfer(TxSender(chain, chain.dev_accounts[1]), user, 10**9)
        assert rlc.balance_of(user) == before + 10**9
        with pytest.raises(Exception, match="no task"):
            hub.claim(TxSender(chain, chain.dev_accounts[3]), b"\x01" * 32)
        now = chain.timestamp()
        chain.advance_time(3600)
        assert chain.timestamp() >= now + 3600

        # The grid: public health, and the job list with the submitter token.
        api = info.grid_url + "/api/v1"
        assert httpx.get(api + "/health").json()["status"] == "ok"
        jobs = httpx.get(api + "/jobs", headers={"Authorization": f"Bearer {info.grid_token}"})
        assert jobs.status_code == 200
        assert httpx.get(api + "/jobs").status_code in (401, 403)

        # The parent dies without a word: the node notices its closed input and exits.
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        assert wait_gone(child_pid, 30), "the node outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        if child_pid is not None and alive(child_pid):
            os.kill(child_pid, signal.SIGKILL)


def test_sigterm_stops_the_node_cleanly(tmp_path):
    env = dict(os.environ, DESKGRID_HOME=str(tmp_path))
    node = subprocess.Popen(
        node_command(workers=0),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        info = read_ready(node.stdout, [])
        node.send_signal(signal.SIGTERM)
        out, _ = node.communicate(timeout=30)
        assert node.returncode == 0
        last = [json.loads(line) for line in out.decode().splitlines() if line.strip()][-1]
        assert last == {"event": "stopped"}
        with pytest.raises(httpx.TransportError):
            httpx.get(info.grid_url + "/api/v1/health", timeout=2)
    finally:
        if node.poll() is None:
            node.kill()

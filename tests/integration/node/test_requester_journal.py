"""The requester journal against real processes: `deskgrid run vanity` is killed with SIGKILL
before sending, after sending, while its task runs, and after its task was finalized but before
it combined the key; `deskgrid tasks` then recovers the key every time, and the hub shows
exactly one paid task per order (none when the payment never went out).

One `deskgrid demo --headless --workers 0` node serves the chain over JSON-RPC for the whole
module; with no worker, a paid task stays active until a test starts `deskgrid worker`. The kill
points are made observable without any hook in the product: the requester talks to the chain
through a small JSON-RPC relay in this test, which holds the one request that marks the point
(`eth_sendRawTransaction`: the payment never reaches the node; `eth_getTransactionReceipt`: the
node accepted it and the journal says `sent`), or the test watches the journal file itself
(`active`: the task id is written)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deskgrid.apps.vanity.keys import address_from_private_key, wif_decode

pytestmark = pytest.mark.integration

PASSWORD = "deskgrid-demo"  # the demo user's throw-away key file
PRICE = 5_000_000_000  # VanityGen 4 RLC + the pool's 1 RLC


def deskgrid(*args: str, home: Path, **kw) -> subprocess.Popen:
    env = dict(os.environ, DESKGRID_HOME=str(home), DESKGRID_KEY_PASSWORD=PASSWORD)
    return subprocess.Popen(
        [sys.executable, "-m", "deskgrid", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kw,
    )


def stop(proc: subprocess.Popen, sig: int = signal.SIGINT) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class Node:
    rpc: str
    hub: str
    grid: str
    key_file: str
    requester: str

    def args(self, rpc: str | None = None) -> list[str]:
        return ["--chain", rpc or self.rpc, "--hub", self.hub, "--key-file", self.key_file]


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[Node]:
    home = tmp_path_factory.mktemp("node")
    proc = deskgrid("demo", "--headless", "--workers", "0", home=home)
    facts: dict[str, str] = {}
    ready = False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and not ready:
            line = proc.stdout.readline()
            if not line:
                break
            key, _, value = line.partition(" ")
            facts.setdefault(key, value.strip())
            ready = line.startswith("ready")
        if not ready:
            stop(proc, signal.SIGKILL)
            pytest.fail(f"the node did not start: {proc.stderr.read()}")
        yield Node(
            rpc=facts["rpc"],
            hub=facts["hub"],
            grid=facts["grid"],
            key_file=str(home / "demo" / "demo-user.json"),
            requester=facts["demo"].split()[1],  # "demo user  0x… (funded)"
        )
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def chain(node):
    from deskgrid.chain.connection import connect
    from deskgrid.chain.contracts import HubContract, RLCToken

    c = connect(node.rpc)
    hub = HubContract(c, node.hub)
    return c, hub, RLCToken(c, hub.token())


@contextlib.contextmanager
def worker(node: Node, home: Path) -> Iterator[None]:
    proc = deskgrid("worker", "--grid", node.grid, "--quiet", home=home)
    try:
        yield
    finally:
        stop(proc)


class Relay:
    """A JSON-RPC relay to the node that holds (never forwards, never answers) the first
    request of one method, and says when it arrived."""

    def __init__(self, upstream: str, hold: str) -> None:
        self.upstream, self.hold = upstream, hold
        self.arrived = threading.Event()
        self.release = threading.Event()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if json.loads(body).get("method") == relay.hold and not relay.arrived.is_set():
                    relay.arrived.set()
                    relay.release.wait(60)
                    return
                request = urllib.request.Request(
                    relay.upstream, body, {"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=30) as answer:
                    data = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def journal_files(home: Path) -> list[Path]:
    return sorted((home / "journal").glob("*/*/*.json"))


def journal_state(home: Path) -> dict | None:
    files = journal_files(home)
    if not files:
        return None
    with contextlib.suppress(ValueError, OSError):
        return json.loads(files[0].read_text())
    return None


def run_vanity(node: Node, home: Path, rpc: str | None = None) -> subprocess.Popen:
    return deskgrid("run", "vanity", "--pattern", "1A", *node.args(rpc), home=home)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def tasks(node: Node, home: Path, *args: str, timeout: float = 60) -> object:
    proc = deskgrid("tasks", *args, *node.args(), "--json", home=home)
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def paid_tasks(chain, requester: str, public_key: str) -> list[bytes]:
    """The hub's TaskRequested events of this order (its public key is in the params)."""
    _c, hub, _rlc = chain
    return [
        bytes(e["args"]["taskId"])
        for e in hub.logs("TaskRequested", 0, requester=requester)
        if public_key in e["args"]["params"]
    ]


def assert_key_recovered(doc: dict) -> None:
    assert doc["state"] == "completed", doc
    key, compressed = wif_decode(doc["wif"])
    assert address_from_private_key(key, compressed) == doc["address"]
    assert doc["address"].startswith("1A")


def kill_at(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_killed_before_sending_nothing_is_paid_and_the_order_is_abandoned(node, chain, tmp_path):
    _c, _hub, rlc = chain
    before = rlc.balance_of(node.requester)
    relay = Relay(node.rpc, hold="eth_sendRawTransaction")
    try:
        proc = run_vanity(node, tmp_path, relay.url)
        assert relay.arrived.wait(60), proc.communicate(timeout=5)
        entry = journal_state(tmp_path)
        assert entry["state"] == "prepared" and entry["tx_hash"] and entry["task_id"] is None
        kill_at(proc)
    finally:
        relay.close()
    [doc] = tasks(node, tmp_path)
    assert doc["state"] == "abandoned" and "nothing was paid" in doc["reason"]
    assert paid_tasks(chain, node.requester, doc["params"]["public_key"]) == []
    assert rlc.balance_of(node.requester) == before
    # a second resume changes nothing, and still pays nothing
    [again] = tasks(node, tmp_path)
    assert again["state"] == "abandoned"
    assert rlc.balance_of(node.requester) == before


def test_killed_after_sending_the_task_id_comes_from_the_tx_hash(node, chain, tmp_path):
    _c, _hub, rlc = chain
    before = rlc.balance_of(node.requester)
    relay = Relay(node.rpc, hold="eth_getTransactionReceipt")
    try:
        proc = run_vanity(node, tmp_path, relay.url)
        assert relay.arrived.wait(60), proc.communicate(timeout=5)
        entry = journal_state(tmp_path)
        assert entry["state"] == "sent" and entry["task_id"] is None
        kill_at(proc)
    finally:
        relay.close()
    [doc] = tasks(node, tmp_path)  # no worker yet: the task is paid and waits
    assert doc["state"] == "active"
    assert doc["task_id"] == doc["expected_task_id"]
    with worker(node, tmp_path / "worker"):
        shown = tasks(node, tmp_path, "combine", doc["order_id"], timeout=90)
    assert_key_recovered(shown)
    paid = paid_tasks(chain, node.requester, doc["params"]["public_key"])
    assert ["0x" + t.hex() for t in paid] == [doc["task_id"]]
    assert before - rlc.balance_of(node.requester) == PRICE


def test_killed_while_the_task_runs_tasks_combine_follows_it_to_the_key(node, chain, tmp_path):
    _c, hub, rlc = chain
    before = rlc.balance_of(node.requester)
    proc = run_vanity(node, tmp_path)
    try:
        entry = wait_for(
            lambda: (e := journal_state(tmp_path)) and e["state"] == "active" and e, 90, "active"
        )
    finally:
        kill_at(proc)
    task_id = bytes.fromhex(entry["task_id"][2:])
    assert hub.task_status(task_id).name == "ACTIVE"  # no worker: it is still running
    follow = deskgrid("tasks", "combine", entry["order_id"], *node.args(), "--json", home=tmp_path)
    try:
        with worker(node, tmp_path / "worker"):
            out, err = follow.communicate(timeout=90)
    finally:
        stop(follow, signal.SIGKILL)
    assert follow.returncode == 0, err
    assert_key_recovered(json.loads(out.strip().splitlines()[-1]))
    assert len(paid_tasks(chain, node.requester, entry["params"]["public_key"])) == 1
    assert before - rlc.balance_of(node.requester) == PRICE


def test_finalized_while_the_requester_was_dead_the_key_is_combined_on_resume(
    node, chain, tmp_path
):
    _c, hub, rlc = chain
    before = rlc.balance_of(node.requester)
    proc = run_vanity(node, tmp_path)
    try:
        entry = wait_for(
            lambda: (e := journal_state(tmp_path)) and e["state"] == "active" and e, 90, "active"
        )
    finally:
        kill_at(proc)
    task_id = bytes.fromhex(entry["task_id"][2:])
    with worker(node, tmp_path / "worker"):
        wait_for(lambda: hub.task_status(task_id).name == "COMPLETED", 90, "the finalize")
    assert journal_state(tmp_path)["state"] == "active"  # the key was never combined
    [listed] = tasks(node, tmp_path)
    assert listed["state"] == "completed" and "wif" not in listed  # list shows no keys
    assert_key_recovered(tasks(node, tmp_path, "show", entry["order_id"]))
    assert len(paid_tasks(chain, node.requester, entry["params"]["public_key"])) == 1
    assert before - rlc.balance_of(node.requester) == PRICE


def test_ctrl_c_during_run_says_the_task_is_safe_and_how_to_resume(node, tmp_path):
    proc = run_vanity(node, tmp_path)
    try:
        wait_for(lambda: (e := journal_state(tmp_path)) and e["state"] == "active", 90, "active")
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        stop(proc, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "the task is safe" in err and "Traceback" not in err
    order = journal_state(tmp_path)["order_id"]
    assert (
        f"Resume it with: deskgrid tasks combine {order} --chain {node.rpc} --hub {node.hub}" in err
    )
    [doc] = tasks(node, tmp_path)
    assert doc["state"] == "active"

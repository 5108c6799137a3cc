"""The node's JSON-RPC server (ChainRpcServer, as the node process runs it) against hostile
requests: JSON nested 80,000 deep (it used to kill the node), malformed calls and batches,
a lying Content-Length. Each gets a JSON-RPC error; the node keeps answering."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.grid.processes import Proc, _env

from .netharness import http_request, port_of

pytestmark = pytest.mark.integration


def rpc_post(body: bytes, length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def chain_id(url: str) -> str:
    call = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    request = urllib.request.Request(
        url, data=call.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())["result"]


def test_the_node_rpc_server_survives_hostile_requests() -> None:
    popen = subprocess.Popen(
        [sys.executable, "-m", "tests.security.rpc_node"],
        cwd=REPO_ROOT, env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    proc = Proc(popen)
    try:
        url = proc.wait_line(r"RPC (http://\S+)", timeout=120).group(1)
        port = port_of(url)
        before = chain_id(url)
        hostile = {
            "deep": rpc_post(b"[" * 80_000),
            "deep object": rpc_post(b'{"a":' * 40_000),
            "deep params": rpc_post(
                b'{"jsonrpc":"2.0","id":1,"method":"eth_call","params":' + b"[" * 80_000
            ),
            "not json": rpc_post(b"{nope"),
            "nan": rpc_post(b'{"jsonrpc":"2.0","id":1,"method":"eth_nope","params":[NaN]}'),
            "scalar call": rpc_post(b"7"),
            "batch of junk": rpc_post(b'[1, "x", null, {"params": 5}]'),
            "empty batch": rpc_post(b"[]"),
            "huge batch": rpc_post(b"[" + b",".join([b"{}"] * 5000) + b"]"),
            "bad length": rpc_post(b"{}", length=-1),
            "huge length": rpc_post(b"{}", length=1 << 40),
        }
        for name, raw in hostile.items():
            status, body = http_request(port, raw)
            assert popen.poll() is None, f"{name}: the node died"
            assert status == 200, (name, status, body[:200])
            replies = json.loads(body)
            replies = replies if isinstance(replies, list) else [replies]
            assert all("error" in reply for reply in replies), (name, body[:300])
        assert chain_id(url) == before
    finally:
        if popen.stdin:
            popen.stdin.close()
        proc.stop()

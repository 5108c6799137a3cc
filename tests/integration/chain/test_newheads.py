"""New-block signals: the embedded chain rings in-process; the served embedded chain (the
node's JSON-RPC server, in its own process) answers a long-polled `deskgrid_waitForBlock`;
anvil pushes new heads over its websocket."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request

import pytest

from deskgrid.chain.anvil import find_anvil
from deskgrid.chain.connection import connect
from deskgrid.chain.newheads import EmbeddedHeads, LongPolledHeads, SubscribedHeads, new_heads
from tests.conftest import REPO_ROOT, require
from tests.integration.grid.processes import Proc, _env
from tests.live_grid import DEADLINE

pytestmark = pytest.mark.integration


def _rpc(url: str, method: str, params: list) -> object:
    call = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    request = urllib.request.Request(url, call.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())["result"]


async def test_the_embedded_chain_rings_when_another_thread_mines() -> None:
    chain = await asyncio.to_thread(connect, "embedded")
    heads = await new_heads(chain)
    assert isinstance(heads, EmbeddedHeads)
    try:
        woken = asyncio.ensure_future(heads.next())
        await asyncio.sleep(0)
        assert not woken.done()
        await asyncio.to_thread(chain.mine)
        await asyncio.wait_for(woken, DEADLINE)
    finally:
        await heads.aclose()
        chain.close()


async def test_the_served_chain_answers_a_waiting_client_when_a_block_is_mined() -> None:
    popen = subprocess.Popen(
        [sys.executable, "-m", "tests.security.rpc_node"],
        cwd=REPO_ROOT, env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    proc = Proc(popen)
    try:
        url = proc.wait_line(r"RPC (http://\S+)", timeout=120).group(1)
        start = int(str(await asyncio.to_thread(_rpc, url, "eth_blockNumber", [])), 16)
        heads = LongPolledHeads(url, start)
        assert await asyncio.to_thread(heads.supported)
        woken = asyncio.ensure_future(heads.next())
        await asyncio.sleep(0)
        assert not woken.done()
        await asyncio.to_thread(_rpc, url, "evm_mine", [])  # another client mines
        await asyncio.wait_for(woken, DEADLINE)
        assert heads.number == start + 1
        # a waiter with nothing newer is answered after its seconds, with the same number
        number = await asyncio.to_thread(_rpc, url, "deskgrid_waitForBlock", [start + 1, 0])
        assert number == hex(start + 1)
    finally:
        proc.popen.stdin.close()
        proc.stop()


async def test_anvil_pushes_new_heads_over_its_websocket() -> None:
    require(find_anvil() is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    chain = await asyncio.to_thread(connect, "anvil")
    try:
        heads = await new_heads(chain)
        assert isinstance(heads, SubscribedHeads)
        try:
            woken = asyncio.ensure_future(heads.next())
            await asyncio.sleep(0)
            assert not woken.done()
            await asyncio.to_thread(chain.mine)
            await asyncio.wait_for(woken, DEADLINE)
        finally:
            await heads.aclose()
    finally:
        chain.close()

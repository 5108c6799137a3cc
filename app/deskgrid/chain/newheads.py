"""Being told of new blocks instead of asking for them.

* The embedded chain mines a block for each transaction, in this process: `on_new_block`
  hooks a callback into its block filters (called in the mining thread).
* The embedded chain served by `chain.rpc_server` (the local node's child process) answers
  `deskgrid_waitForBlock [number, seconds]`: the reply comes when a block after `number`
  is mined, or after `seconds` (a long poll over plain HTTP).
* anvil pushes new heads over a websocket on its own port (`eth_subscribe newHeads`).
* Other nodes (a network's node at an http URL) get no signal here: their followers keep
  polling.

`new_heads(chain)` gives the signal a chain offers, or None; `await heads.next()` returns
when a block newer than the last one seen was mined (it may also return spuriously).
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol

from deskgrid import boundedjson
from deskgrid.chain.connection import Chain

log = logging.getLogger(__name__)

WAIT_METHOD = "deskgrid_waitForBlock"
LONG_POLL_S = 20.0  # what one long poll asks a node to hold (below web3's 30 s timeout)


class NewHeads(Protocol):
    async def next(self) -> None:
        """Return when a new block was mined (or spuriously); raise when the signal broke."""

    async def aclose(self) -> None: ...


def on_new_block(chain: Chain, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback()` (in the mining thread, under the chain's lock) after each block the
    embedded chain mines; returns the function that removes the hook."""
    if chain.kind != "embedded":
        raise ValueError("only the embedded chain mines in this process")
    tester = chain._tester

    def seen(_block_hash: Any) -> bool:
        callback()
        return False  # nothing kept: the filter only rings

    with chain.lock:
        filter_id = tester.create_block_filter()
        raw = tester.normalizer.normalize_inbound_filter_id(filter_id)
        tester._block_filters[raw].filter_fn = seen

    def remove() -> None:
        with chain.lock:
            tester.delete_filter(filter_id)

    return remove


class EmbeddedHeads:
    """New blocks of the embedded chain in this process, as an asyncio signal."""

    def __init__(self, chain: Chain) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._remove = on_new_block(chain, self._ring)

    def _ring(self) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._event.set)

    async def next(self) -> None:
        await self._event.wait()
        self._event.clear()

    async def aclose(self) -> None:
        self._remove()


class LongPolledHeads:
    """New blocks of a node that answers `deskgrid_waitForBlock` (the served embedded chain)."""

    def __init__(self, url: str, number: int) -> None:
        self.url = url
        self.number = number

    def _call(self, params: list[Any], timeout: float) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": WAIT_METHOD, "params": params})
        request = urllib.request.Request(
            self.url, body.encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 - http(s)
            answer = boundedjson.loads(reply.read(65536), max_depth=8, max_bytes=65536)
        if not isinstance(answer, dict) or "result" not in answer:
            raise ConnectionError(f"the node does not answer {WAIT_METHOD}")
        return answer["result"]

    def supported(self) -> bool:
        try:
            self.number = int(self._call([self.number, 0], 10.0), 16)
        except (OSError, ValueError, ConnectionError, TypeError):
            return False
        return True

    async def next(self) -> None:
        while True:
            found = await asyncio.to_thread(
                self._call, [self.number, LONG_POLL_S], LONG_POLL_S + 10.0
            )
            number = int(found, 16)
            if number > self.number:
                self.number = number
                return

    async def aclose(self) -> None:
        return None  # nothing held between calls


class SubscribedHeads:
    """New blocks a node pushes over a websocket (`eth_subscribe newHeads`): anvil."""

    def __init__(self, url: str) -> None:
        self.url = "ws" + url[len("http") :] if url.startswith("http") else url
        self._w3: Any = None
        self._stream: Any = None

    async def start(self) -> bool:
        from web3 import AsyncWeb3, WebSocketProvider
        from web3.exceptions import Web3Exception

        try:
            self._w3 = await AsyncWeb3(WebSocketProvider(self.url, max_connection_retries=1))
            await self._w3.eth.subscribe("newHeads")
        except (OSError, TimeoutError, Web3Exception) as exc:
            log.info("no new-head subscription at %s (%s)", self.url, exc)
            await self.aclose()
            return False
        self._stream = self._w3.socket.process_subscriptions()
        return True

    async def next(self) -> None:
        await self._stream.__anext__()

    async def aclose(self) -> None:
        w3, self._w3 = self._w3, None
        if w3 is not None:
            await w3.provider.disconnect()


async def new_heads(chain: Chain) -> NewHeads | None:
    """The new-block signal `chain` offers, or None (keep polling)."""
    if chain.kind == "embedded":
        return EmbeddedHeads(chain)
    if chain.kind == "dev" and chain.url:
        number = await asyncio.to_thread(chain.block_number)
        heads = LongPolledHeads(chain.url, number)
        if await asyncio.to_thread(heads.supported):
            return heads
    if chain.kind == "anvil" and chain.url:
        pushed = SubscribedHeads(chain.url)
        if await pushed.start():
            return pushed
    return None

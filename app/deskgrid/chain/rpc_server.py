"""Serve an embedded chain over HTTP JSON-RPC on loopback, so another process can use it.

The node child process runs the embedded EVM; the desktop app talks to it with web3's
HTTPProvider like to any node. Requests are forwarded to the EthereumTesterProvider (with its
own request/result formatting) one at a time under `Chain.lock`; a revert is answered as
geth and anvil answer it (code 3, the revert data in `data`), so web3 raises the same
exceptions as on a real node. The development methods anvil offers are served too:
`evm_increaseTime`, `evm_mine`, `evm_snapshot`, `evm_revert`; and `deskgrid_waitForBlock
[number, seconds]`, a long poll: it answers the latest block number as soon as it is past
`number`, or after `seconds` (at most MAX_WAIT_S; at most MAX_WAITERS wait at once, the others
are answered at once), so a follower in another process is told of new blocks.

A request is read within bounds whoever sends it: a body of at most MAX_BODY bytes, JSON
nested at most MAX_DEPTH deep (`deskgrid.boundedjson`; deeper JSON would crash the process),
a batch of at most MAX_BATCH calls, and a socket that goes quiet for TIMEOUT_S is closed.
What falls outside gets a JSON-RPC error reply.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from deskgrid import boundedjson
from deskgrid.chain.connection import Chain
from deskgrid.chain.newheads import WAIT_METHOD, on_new_block
from deskgrid.chain.reverts import revert_data

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024 * 1024
MAX_DEPTH = 32
MAX_BATCH = 1000
TIMEOUT_S = 30.0
MAX_WAIT_S = 25.0
MAX_WAITERS = 16


class _JsonEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, bytes | bytearray):
            return "0x" + bytes(o).hex()
        if hasattr(o, "to_0x_hex"):
            return o.to_0x_hex()
        if hasattr(o, "items"):
            return dict(o.items())
        return super().default(o)


class ChainRpcServer:
    """`start()` returns the URL (http://127.0.0.1:<free port>); `stop()` closes it."""

    def __init__(self, chain: Chain, host: str = "127.0.0.1", port: int = 0) -> None:
        if chain.kind != "embedded":
            raise ValueError("only an embedded chain needs serving; other chains have a URL")
        self.chain = chain
        self.host, self.port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._request = self._make_request_func()
        self._mined = threading.Condition()
        self._blocks_seen = 0  # blocks mined since start (under `_mined`)
        self._waiters = 0
        self._unhook: Callable[[], None] | None = None

    def _make_request_func(self) -> Any:
        from web3.datastructures import NamedElementOnion

        w3 = self.chain.w3
        return w3.provider.request_func(w3, NamedElementOnion([]))

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> str:
        self._unhook = on_new_block(self.chain, self._block_mined)
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="chain-rpc", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._unhook is not None:
            self._unhook()
            self._unhook = None

    def _block_mined(self) -> None:
        with self._mined:
            self._blocks_seen += 1
            self._mined.notify_all()

    def wait_for_block(self, after: int, seconds: float) -> int:
        """The latest block number, once it is past `after` or `seconds` have passed."""
        with self._mined:
            if self._waiters >= MAX_WAITERS:
                seconds = 0.0
            self._waiters += 1
        try:
            deadline = time.monotonic() + min(max(0.0, seconds), MAX_WAIT_S)
            while True:
                with self._mined:
                    seen = self._blocks_seen
                number = self.chain.block_number()
                left = deadline - time.monotonic()
                if number > after or left <= 0:
                    return number
                with self._mined:
                    if self._blocks_seen == seen:
                        self._mined.wait(left)
        finally:
            with self._mined:
                self._waiters -= 1

    # -- one call -----------------------------------------------------------------------

    def call(self, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict):
            return _error(None, -32600, "Invalid request: a call is a JSON object.")
        rid = request.get("id")
        if not isinstance(rid, int | str | None) or isinstance(rid, bool):
            rid = None
        method = str(request.get("method", ""))
        params = request.get("params") or []
        if not isinstance(params, list):
            return _error(rid, -32602, "Invalid params: send them as an array.")
        if method == WAIT_METHOD:  # waits without the chain's lock
            try:
                number = self.wait_for_block(_quantity(params[0]), float(params[1]))
            except (IndexError, TypeError, ValueError):
                return _error(rid, -32602, "Invalid params: send [block number, seconds].")
            return {"jsonrpc": "2.0", "id": rid, "result": hex(number)}
        try:
            with self.chain.lock:
                result = self._dispatch(method, params)
        except Exception as exc:
            data = revert_data(exc)
            if data is not None:
                error = {"code": 3, "message": "execution reverted", "data": "0x" + data.hex()}
            else:
                error = {"code": -32000, "message": str(exc) or type(exc).__name__}
            return {"jsonrpc": "2.0", "id": rid, "error": error}
        if "error" in result:
            return {"jsonrpc": "2.0", "id": rid, "error": result["error"]}
        return {"jsonrpc": "2.0", "id": rid, "result": result.get("result")}

    def _dispatch(self, method: str, params: list[Any]) -> dict[str, Any]:
        tester = self.chain._tester
        if method == "evm_increaseTime":
            seconds = _quantity(params[0])
            now = int(self.chain.w3.eth.get_block("latest")["timestamp"])
            tester.time_travel(now + seconds)
            return {"result": hex(seconds)}
        if method == "evm_mine":
            tester.mine_blocks(1)
            return {"result": "0x0"}
        if method == "evm_snapshot":
            return {"result": hex(tester.take_snapshot())}
        if method == "evm_revert":
            tester.revert_to_snapshot(_quantity(params[0]))
            return {"result": True}
        if method in ("eth_call", "eth_estimateGas") and params and isinstance(params[0], dict):
            call = params[0]
            if int(call.get("from") or "0x0", 16) == 0:
                # web3 over HTTP sends calls from the zero address, which eth-tester makes pay
                # for gas (geth and anvil do not): let the provider use its coinbase instead.
                params = [{k: v for k, v in call.items() if k != "from"}, *params[1:]]
        return self._request(method, params)


def _error(rid: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}


def _quantity(value: int | str) -> int:
    return int(value, 0) if isinstance(value, str) else int(value)


def _handler_for(server: ChainRpcServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # the headers and the body go out in two writes: without TCP_NODELAY the body waits
        # for the client's delayed ACK of the headers (about 40 ms per call on Linux)
        disable_nagle_algorithm = True
        timeout = TIMEOUT_S  # a socket quiet this long is closed (slow or stuck clients)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            declared = self.headers.get("Content-Length") or "0"
            if not declared.isdigit() or int(declared) > MAX_BODY:
                self.close_connection = True
                self._reply(_error(None, -32600, f"Send a Content-Length of 0-{MAX_BODY}."))
                return
            try:
                body = boundedjson.loads(
                    self.rfile.read(int(declared)),
                    max_depth=MAX_DEPTH,
                    max_bytes=MAX_BODY,
                    strict_numbers=False,  # as a node reads them
                )
            except ValueError as exc:
                self._reply(_error(None, -32700, f"Parse error: {exc}"))
                return
            if isinstance(body, list):
                if not body or len(body) > MAX_BATCH:
                    self._reply(_error(None, -32600, f"A batch holds 1-{MAX_BATCH} calls."))
                    return
                self._reply([server.call(item) for item in body])
            else:
                self._reply(server.call(body))

        def _reply(self, payload: object) -> None:
            data = json.dumps(payload, cls=_JsonEncoder).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("rpc: " + format, *args)

    return Handler

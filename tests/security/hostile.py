"""A hostile grid for the worker's tests: a proxy on loopback in front of a real grid server.

Everything is forwarded to the real grid, except what the test scripts: the answer to
`GET /api/v1/data/<sha>` (`data`: a function that writes its own answer: a huge or endless
body, other bytes, a redirect, a compressed body...) and the leases of a `/work` answer
(`rewrite_lease`: change an input's name or data id). Every loop that sends bytes is bounded.
"""

from __future__ import annotations

import gzip
import http.client
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

MIB = 2**20
DataAnswer = Callable[[BaseHTTPRequestHandler, str, "HostileGrid"], None]


class HostileGrid:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.data: DataAnswer | None = None  # None: the real grid's answer
        self.rewrite_lease: Callable[[dict[str, Any]], None] | None = None  # once
        self.sent = 0  # bytes of scripted data bodies written before the worker hung up
        self.data_requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> str:
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes | None):
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def write_bytes(self, handler: BaseHTTPRequestHandler, total: int, byte: bytes = b"\0") -> None:
        """Write `total` bytes (1 MiB at a time) until done or the worker hangs up."""
        chunk = byte * MIB
        try:
            for _ in range(total // MIB):
                handler.wfile.write(chunk)
                self.sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass


HOP = {"host", "connection", "content-length", "transfer-encoding", "keep-alive"}


def _handler(grid: HostileGrid) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if method == "GET" and self.path.startswith("/api/v1/data/"):
                grid.data_requests += 1
                if grid.data is not None:
                    grid.data(self, self.path.rsplit("/", 1)[-1], grid)
                    return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            status, answer_headers, data = grid.forward(method, self.path, headers, body)
            work = self.path.split("?")[0] == "/api/v1/work"  # with or without a long poll
            if work and grid.rewrite_lease is not None and status == 200:
                reply = json.loads(data)
                if reply.get("leases"):
                    rewrite, grid.rewrite_lease = grid.rewrite_lease, None
                    for lease in reply["leases"]:
                        rewrite(lease)
                    data = json.dumps(reply).encode()
            self.send_response(status)
            for key, value in answer_headers:
                if key.lower() not in HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - the http.server names
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._serve("PUT")

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve("HEAD")

    return Handler


# -- scripted answers to GET /data/<sha> ---------------------------------------------------------
def huge(size: int) -> DataAnswer:
    """`size` bytes of zeros, declared honestly in Content-Length."""

    def answer(handler: BaseHTTPRequestHandler, _sha: str, grid: HostileGrid) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        grid.write_bytes(handler, size)

    return answer


def endless(limit: int) -> DataAnswer:
    """A body without Content-Length that goes on (up to `limit` bytes: loops are bounded)."""

    def answer(handler: BaseHTTPRequestHandler, _sha: str, grid: HostileGrid) -> None:
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        grid.write_bytes(handler, limit)

    return answer


def other_bytes(body: bytes) -> DataAnswer:
    """Content that is not the one asked for (its own, honest, Content-Length)."""

    def answer(handler: BaseHTTPRequestHandler, _sha: str, _grid: HostileGrid) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def redirect(location: Callable[[str], str]) -> DataAnswer:
    """302 to `location(sha)`."""

    def answer(handler: BaseHTTPRequestHandler, sha: str, _grid: HostileGrid) -> None:
        handler.send_response(302)
        handler.send_header("Location", location(sha))
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def compressed(content: bytes) -> DataAnswer:
    """The right content, gzip-compressed although the worker asked for none."""
    body = gzip.compress(content)

    def answer(handler: BaseHTTPRequestHandler, _sha: str, _grid: HostileGrid) -> None:
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def dribble(count: int, pause: float) -> DataAnswer:
    """One byte every `pause` seconds, `count` times (declared as `count` bytes)."""

    def answer(handler: BaseHTTPRequestHandler, _sha: str, grid: HostileGrid) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(count))
        handler.end_headers()
        try:
            for _ in range(count):
                handler.wfile.write(b"\0")
                handler.wfile.flush()
                grid.sent += 1
                time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass

    return answer

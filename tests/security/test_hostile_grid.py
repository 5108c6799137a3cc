"""A hostile grid (a small HTTP server written here, on loopback) answers a GridClient with
JSON nested 80,000 deep, bodies far over any sane size (declared, and streamed without
end), an event stream with a deep event or an endless line, and error replies of the same
kinds. The client, in its own process, turns every one into a GridClientError, stays alive
and keeps its memory bounded."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.grid.processes import _env

pytestmark = pytest.mark.integration

DEEP = b"[" * 80_000
STREAM_CAP = 160 << 20  # the hostile server stops after this much (it is bounded too)


class Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._answer()

    def _answer(self) -> None:
        path = self.path.split("?")[0].removeprefix("/api/v1")
        if path == "/events/stream":
            if self.headers.get("X-Variant") == "/long":
                self._endless(b"data: " + b"x" * 65536, "text/event-stream")
            else:
                self._send(200, b"retry: 10\n\nid: 1\nevent: e\ndata: " + DEEP + b"\n\n")
        elif path in ("/health", "/workers/challenge", "/work"):
            self._send(200, DEEP)
        elif path == "/metrics":  # declares a body far over the limit
            self.send_response(200)
            self.send_header("Content-Length", str(10 << 30))
            self.end_headers()
            self._stream(b"{" * 65536)
        elif path in ("/apps", "/jobs"):  # no length: the body runs until the server stops
            self._endless(b"[" + b'"x",' * 65536, "application/json")
        elif path.startswith("/jobs/1"):
            self._endless(b"\0" * 65536, "application/octet-stream")
        elif path.startswith("/jobs/2"):
            self._send(500, b'{"detail": ' + DEEP + b"}")
        elif path.startswith("/jobs/3"):
            self._endless(b'{"detail": "' + b"x" * 65536, "application/json", status=400)
        else:
            self._send(200, b'{"id": 7, "unexpected": ' + b"[" * 100 + b"]" * 100 + b"}")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _endless(self, piece: bytes, kind: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self._stream(piece)

    def _stream(self, piece: bytes) -> None:
        sent = 0
        try:
            while sent < STREAM_CAP:
                self.wfile.write(piece)
                sent += len(piece)
        except OSError:  # the client stopped reading: what it should do
            pass
        self.close_connection = True


@pytest.fixture
def hostile_grid() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_hostile_grid_gets_clear_errors_not_a_crash(hostile_grid: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.security.hostile_client", hostile_grid],
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr[-2000:])
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    expected = {
        "health", "metrics", "apps", "jobs", "job", "work", "login", "events", "long_line",
        "result", "error_deep", "error_huge",
    }  # fmt: skip
    assert expected <= set(lines), done.stdout
    for call in expected - {"login"}:
        assert lines[call].startswith(("GridClientError:", "GridUnavailable:")), (call, lines)
    # a sign-in challenge that is not DeskGrid's fixed form is refused before anything is signed
    assert lines["login"].startswith("SignInRefused:") and "Nothing was signed" in lines["login"]
    assert "nested deeper" in lines["health"] and "larger than" in lines["metrics"]
    assert "larger than" in lines["apps"] and "longer than" in lines["long_line"]
    assert "nested deeper" in lines["events"]
    # the error replies keep their status; their bodies were not believed
    assert lines["error_deep"].startswith("GridUnavailable") or "500" in lines["error_deep"]
    # memory: the 64 MiB reply limit and what Python holds besides, never the 10 GiB offered
    assert int(lines["RSS"]) < 600 * 1024, lines["RSS"]

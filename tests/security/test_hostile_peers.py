"""JSON from other peers than the grid, within bounds: a hostile chain RPC node (a small
HTTP server written here, on loopback) answering JSON nested 80,000 deep, and a job process
printing such a line as its progress. Each parse is done in a child process, so that a crash
(the decoder recursing until the C stack overflows) shows as one."""

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


class DeepNode(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(DEEP)))
        self.end_headers()
        self.wfile.write(DEEP)


@pytest.fixture
def deep_node() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), DeepNode)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_child(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=_env(), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def test_a_hostile_chain_node_gets_a_chain_error(deep_node: str) -> None:
    done = run_child(
        "from deskgrid.chain.connection import connect\n"
        "from deskgrid.chain.reverts import ChainError\n"
        "try:\n"
        f"    connect({deep_node!r}, timeout=10)\n"
        "except ChainError as exc:\n"
        "    print('ChainError', exc)\n"
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.startswith("ChainError Cannot reach the chain"), done.stdout


def test_a_deep_progress_line_is_not_progress() -> None:
    done = run_child(
        "import sys\n"
        "from deskgrid.worker.runner import parse_progress\n"
        "print(parse_progress(b'[' * 80000), parse_progress(b'{\"progress\": 0.5}'))\n"
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.split()[0] == "None" and "0.5" in done.stdout

"""Helpers for the network-attack tests: a real `deskgrid grid serve` process on loopback, an
honest worker doing real work through GridClient, raw sockets from other loopback addresses
(all of 127.0.0.0/8 is this machine), and the server's open file descriptors.

Every loop here is bounded in count and in time, and every socket goes to 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from eth_account import Account

from deskgrid.grid.client import GridClient
from deskgrid.grid.models import Capabilities
from tests.grid_fixtures import echo_result
from tests.integration.grid.processes import TOKEN, Proc, start_server

HOST = "127.0.0.1"


@contextlib.contextmanager
def grid_process(tmp_path: Path, *flags: str) -> Iterator[tuple[Proc, str]]:
    """A grid server process (SQLite) with these extra `grid serve` flags; stopped after."""
    data = tmp_path / "grid"
    data.mkdir(exist_ok=True)
    proc, url = start_server(f"sqlite:///{data / 'grid.db'}", data, 0, *flags)
    try:
        yield proc, url
    finally:
        proc.stop()


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def honest_round(url: str, message: str = "honest") -> str:
    """A submitter submits an echo job; a fresh worker logs in, leases it and uploads the
    right result. Returns the job's final state (COMPLETED when all went well)."""
    async with GridClient(url, token=TOKEN, timeout=20.0) as submitter:
        job = await submitter.submit("echo", {"message": message})
        async with GridClient(url, timeout=20.0) as worker:
            caps = Capabilities(apps=["echo"])
            await worker.authenticate(Account.create(), capabilities=caps)
            reply = await worker.request_work(max_leases=1)
            assert reply.leases, "the honest worker got no work"
            for lease in reply.leases:
                await worker.upload_result(lease.lease_id, echo_result(lease.params))
        return (await submitter.wait_job(job.id, timeout=30.0)).state


def connect_from(port: int, source: str, timeout: float = 5.0) -> socket.socket:
    """A TCP connection to the server from loopback address `source` (e.g. 127.0.0.7)."""
    sock = socket.create_connection((HOST, port), timeout=timeout, source_address=(source, 0))
    return sock


def is_closed(sock: socket.socket, wait_s: float) -> bool:
    """Did the server close (or reset) this connection within `wait_s`? Reads and drops what
    the server sent (e.g. a 408)."""
    deadline = time.monotonic() + wait_s
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(min(left, 0.5))
        try:
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:  # reset
            return True
    return False


def http_request(
    port: int, raw: bytes, source: str = HOST, wait_s: float = 15.0
) -> tuple[int, bytes]:
    """Send `raw` on a fresh connection; the reply's status and body (0 if none came)."""
    with connect_from(port, source, timeout=wait_s) as sock:
        # in pieces, stopping when the server answers early (a refusal before the body)
        with contextlib.suppress(OSError):
            for start in range(0, len(raw), 65536):
                if select.select([sock], [], [], 0)[0]:
                    break
                sock.sendall(raw[start : start + 65536])
        data = b""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if len(body) >= length:
                    break
    if not data.startswith(b"HTTP/1.1 "):
        return 0, b""
    return int(data[9:12]), data.partition(b"\r\n\r\n")[2]


def post(path: str, body: bytes, token: str | None = None, extra: str = "") -> bytes:
    """A raw HTTP/1.1 POST with a JSON body."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n{auth}"
        f"{extra}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body

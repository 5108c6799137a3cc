"""Slow and greedy connections against a real grid server process: slowloris (hundreds of
sockets sending half a header, a line now and then), more connections than allowed from one
address and in all, a trickled upload, an endless header. Honest requests are answered all
along, the server's file descriptors stay bounded, and the slow connections are closed once
their time is up. Attack sockets come from other loopback addresses (127.0.0.2 and up)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import pytest

from .netharness import (
    connect_from,
    grid_process,
    honest_round,
    http_request,
    is_closed,
    open_fds,
    port_of,
)

pytestmark = pytest.mark.integration

HEADER_TIMEOUT = 2.0
FLAGS = (
    "--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", "2", "--min-body-rate", "2000",
    "--max-connections", "400", "--max-connections-per-address", "40",
)  # fmt: skip
ROUND_S = 0.5
MAX_ROUNDS = 16  # the attack stops itself after 8 seconds at most


def attackers(port: int, count: int, addresses: int, first: int = 2) -> list[socket.socket]:
    """`count` connections spread over `addresses` loopback addresses, each having sent
    the start of a request (and no end to its headers)."""
    opened = []
    for n in range(count):
        source = f"127.0.0.{first + n % addresses}"
        try:
            sock = connect_from(port, source)
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        except OSError:
            continue  # refused at once: also a defence
        opened.append(sock)
    return opened


def trickle(socks: list[socket.socket], rounds: int) -> int:
    """Send one more header line on every socket each round; how many still accept bytes."""
    alive = socks
    for _ in range(rounds):
        still = []
        for sock in alive:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
                still.append(sock)
            except OSError:
                pass
        alive = still
        time.sleep(ROUND_S)
    return len(alive)


def read_until_closed(sock: socket.socket, wait_s: float) -> bytes:
    """What the server sent before it closed the connection (within `wait_s`)."""
    data = b""
    deadline = time.monotonic() + wait_s
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def close_all(socks: list[socket.socket]) -> None:
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.close()


async def test_slowloris_does_not_starve_honest_workers(tmp_path) -> None:
    with grid_process(tmp_path, *FLAGS) as (proc, url):
        port, pid = port_of(url), proc.popen.pid
        baseline = open_fds(pid)
        socks = await asyncio.to_thread(attackers, port, 300, 20)
        try:
            attack = asyncio.create_task(asyncio.to_thread(trickle, socks, MAX_ROUNDS))
            during = await honest_round(url, "during the attack")
            fds_during = open_fds(pid)
            alive = await attack
            assert during == "COMPLETED"
            assert fds_during <= baseline + 400 + 16, (baseline, fds_during)
            # trickling a header line never buys more than the header timeout
            assert alive == 0, f"{alive} slow connections were still open after the attack"
            left = [s for s in socks if not is_closed(s, HEADER_TIMEOUT + 5)]
            assert not left
        finally:
            close_all(socks)
        assert await honest_round(url, "after the attack") == "COMPLETED"


async def test_connection_caps_bound_file_descriptors(tmp_path) -> None:
    with grid_process(tmp_path, *FLAGS) as (proc, url):
        port, pid = port_of(url), proc.popen.pid
        baseline = open_fds(pid)
        # one address asks for 60 connections: 40 are allowed
        greedy = await asyncio.to_thread(attackers, port, 60, 1, 60)
        flood: list[socket.socket] = []
        try:
            # the 20 over the cap are told so at once (503, Retry-After); the 40 let in are cut
            # when their headers run out of time (408)
            answers = [read_until_closed(s, HEADER_TIMEOUT + 5)[:12] for s in greedy]
            assert answers.count(b"HTTP/1.1 503") == 20, answers
            assert answers.count(b"HTTP/1.1 408") == 40, answers
            # 25 addresses x 24: more than the 400 allowed in all
            flood = await asyncio.to_thread(attackers, port, 600, 25, 100)
            open_now = open_fds(pid)
            assert open_now <= baseline + 400 + 16, (baseline, open_now)
            # the honest worker still gets in: waiting connections make room for it
            assert await honest_round(url, "beside the flood") == "COMPLETED"
        finally:
            close_all(greedy + flood)


def test_trickled_upload_and_endless_header_are_cut(tmp_path) -> None:
    with grid_process(tmp_path, *FLAGS) as (proc, url):
        port = port_of(url)
        slow = connect_from(port, "127.0.0.9")
        try:
            slow.sendall(
                b"POST /api/v1/workers/challenge HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
            )
            cut = False
            for _ in range(MAX_ROUNDS * 2):  # 10 bytes each half second: 20 B/s < 2000 B/s
                try:
                    slow.sendall(b" " * 10)
                except OSError:
                    cut = True
                    break
                if is_closed(slow, ROUND_S):
                    cut = True
                    break
            assert cut, "a body trickled at 20 bytes/s was not cut"
        finally:
            slow.close()
        endless = b"GET /api/v1/health HTTP/1.1\r\nX-Long: " + b"a" * (256 * 1024)
        status, _ = http_request(port, endless, source="127.0.0.10")
        assert status == 431
        assert proc.popen.poll() is None
        status, body = http_request(port, b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 200, body

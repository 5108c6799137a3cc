"""Connection hygiene for the grid's HTTP server: what uvicorn does not bound by itself.

* A request's headers must arrive within `header_timeout_s` of the connection opening (or of
  its previous reply) and within `max_header_bytes`: slowloris connections are cut, and an
  endless header is refused (431) instead of buffered.
* A request body may pause at most `body_timeout_s`, and must average `min_body_rate` bytes/s
  once that long has passed: a trickled upload is cut (time the server itself held the reading
  back does not count).
* A reply the client leaves unread for `send_timeout_s` ends the connection.
* At most `max_connections_per_address` connections per socket address (IPv6: per /64;
  trusted proxies are exempt) and `max_connections` in all. When the total is reached, the
  longest-waiting connection that is not inside a request (idle or still sending headers)
  makes room; if every connection is inside a request, the new one is closed at once.

One guard serves one server; a sweep runs every `interval` while connections are open.
`guarded_protocol(guard)` is the uvicorn HTTP protocol class (httptools) to serve with."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from deskgrid.grid.clientaddr import TrustedProxies, address_key, parse_ip

IDLE, HEADERS, BODY, REPLYING = "idle", "headers", "body", "replying"


def _refusal(status: str, detail: str) -> bytes:
    body = json.dumps({"detail": detail}).encode()
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\n"
    return head.encode() + f"content-length: {len(body)}\r\n\r\n".encode() + body


_408 = _refusal("408 Request Timeout", "The request took too long to arrive; send it faster.")
_431 = _refusal("431 Request Header Fields Too Large", "The request headers are too large.")
_503 = _refusal(
    "503 Service Unavailable\r\nretry-after: 5",
    "Too many connections from your address or in all; retry later with fewer.",
)


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    min_body_rate: int = 4096
    send_timeout_s: float = 60.0
    max_header_bytes: int = 64 * 1024
    max_connections: int = 2048
    max_connections_per_address: int = 128
    trusted_proxies: tuple[str, ...] = ()


@dataclass
class GuardStats:
    refused: int = 0  # closed on arrival: over a cap
    evicted: int = 0  # idle or header-waiting connections closed to make room
    header_timeouts: int = 0
    body_timeouts: int = 0
    send_timeouts: int = 0
    oversized_headers: int = 0
    peak: int = 0


@dataclass
class _Conn:
    """What the guard tracks of one connection."""

    protocol: Any
    key: str | None  # per-address key; None: not capped (a trusted proxy)
    phase: str = IDLE
    since: float = 0.0  # when the phase began
    header_bytes: int = 0
    tail: bytes = b""  # the last bytes of the headers seen (to find their end)
    body_bytes: int = 0  # since `window`
    window: float = 0.0  # start of the body-rate window
    last_data: float = 0.0
    write_paused: float | None = None


class ConnectionGuard:
    def __init__(
        self,
        limits: ConnectionLimits,
        *,
        now: Callable[[], float] = time.monotonic,
        interval: float | None = None,
    ) -> None:
        self.limits = limits
        self.now = now
        self.interval = interval or max(
            0.05, min(1.0, limits.header_timeout_s / 4, limits.body_timeout_s / 4)
        )
        self.proxies = TrustedProxies(limits.trusted_proxies)
        self.stats = GuardStats()
        self._conns: dict[Any, _Conn] = {}
        self._waiting: dict[Any, None] = {}  # idle/header connections, longest waiting first
        self._per_key: dict[str, int] = {}
        self._sweep: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._conns)

    # -- arrivals and departures ---------------------------------------------------------

    def admit(self, protocol: Any, peer: str | None) -> bool:
        """A new connection: track it, or False to close it at once."""
        limits = self.limits
        ip = parse_ip(peer) if peer else None
        key = None if self.proxies.trusts(ip) else address_key(str(ip) if ip else "unknown")
        if key is not None and self._per_key.get(key, 0) >= limits.max_connections_per_address:
            self.stats.refused += 1
            return False
        if len(self._conns) >= limits.max_connections and not self._evict_one():
            self.stats.refused += 1
            return False
        now = self.now()
        conn = _Conn(protocol, key, since=now, last_data=now)
        self._conns[protocol] = conn
        self._waiting[protocol] = None
        if key is not None:
            self._per_key[key] = self._per_key.get(key, 0) + 1
        self.stats.peak = max(self.stats.peak, len(self._conns))
        self._arm()
        return True

    def forget(self, protocol: Any) -> None:
        conn = self._conns.pop(protocol, None)
        self._waiting.pop(protocol, None)
        if conn is not None and conn.key is not None:
            left = self._per_key.get(conn.key, 1) - 1
            if left > 0:
                self._per_key[conn.key] = left
            else:
                self._per_key.pop(conn.key, None)

    def _evict_one(self) -> bool:
        for protocol in self._waiting:
            self.stats.evicted += 1
            self._close(protocol, None)
            return True
        return False

    # -- phases (called by the protocol) ---------------------------------------------------

    def data(self, protocol: Any, data: bytes) -> bool:
        """Bytes arrived; False when they overflow the header limit (the connection is then
        answered 431 and closed)."""
        conn = self._conns.get(protocol)
        if conn is None:
            return True
        conn.last_data = self.now()
        if conn.phase in (IDLE, HEADERS):
            seen = conn.tail + data
            end = seen.find(b"\r\n\r\n")
            counted = len(data) if end < 0 else max(0, end + 4 - len(conn.tail))
            conn.header_bytes += counted
            conn.tail = seen[-3:]
            if conn.header_bytes > self.limits.max_header_bytes:
                self.stats.oversized_headers += 1
                self._close(protocol, _431)
                return False
        elif conn.phase == BODY:
            conn.body_bytes += len(data)
        return True

    def message_begin(self, protocol: Any) -> None:
        conn = self._conns.get(protocol)
        if conn is None or conn.phase == HEADERS:
            return
        if conn.phase == IDLE:
            # the header time counts from when the connection became idle (opened, or
            # answered its last request): waiting before the first byte buys nothing
            conn.phase = HEADERS
            return
        conn.header_bytes, conn.tail = 0, b""  # pipelined behind the previous request
        self._enter(conn, HEADERS)

    def headers_complete(self, protocol: Any) -> None:
        conn = self._conns.get(protocol)
        if conn is not None:
            self._enter(conn, BODY)
            conn.body_bytes, conn.window = 0, conn.since

    def message_complete(self, protocol: Any) -> None:
        conn = self._conns.get(protocol)
        if conn is not None:
            self._enter(conn, REPLYING)

    def response_complete(self, protocol: Any) -> None:
        conn = self._conns.get(protocol)
        if conn is not None and conn.phase == REPLYING:
            self._enter(conn, IDLE)
            conn.header_bytes, conn.tail = 0, b""

    def writing(self, protocol: Any, paused: bool) -> None:
        conn = self._conns.get(protocol)
        if conn is not None:
            conn.write_paused = self.now() if paused else None

    def _enter(self, conn: _Conn, phase: str) -> None:
        conn.phase, conn.since = phase, self.now()
        self._waiting.pop(conn.protocol, None)
        if phase in (IDLE, HEADERS):
            self._waiting[conn.protocol] = None

    # -- the sweep -----------------------------------------------------------------------

    def _arm(self) -> None:
        if self._sweep is None and self._conns:
            loop = asyncio.get_running_loop()
            self._sweep = loop.call_later(self.interval, self.sweep)

    def sweep(self) -> None:
        """Close the connections that ran out of time; runs every `interval`."""
        self._sweep = None
        now, limits = self.now(), self.limits
        for protocol, conn in list(self._conns.items()):
            if conn.write_paused is not None and now - conn.write_paused > limits.send_timeout_s:
                self.stats.send_timeouts += 1
                self._close(protocol, None)
            elif conn.phase in (IDLE, HEADERS):
                # idle between requests: uvicorn's keep-alive timeout usually comes first, but
                # bytes that start no request (bare CRLFs) would keep cancelling that one
                if now - conn.since > limits.header_timeout_s:
                    self.stats.header_timeouts += 1
                    self._close(protocol, _408 if conn.phase == HEADERS else None)
            elif conn.phase == BODY:
                if protocol.reading_paused:  # the server is holding the body back
                    conn.window, conn.body_bytes, conn.last_data = now, 0, now
                    continue
                if now - conn.last_data > limits.body_timeout_s or (
                    limits.min_body_rate > 0
                    and now - conn.window > limits.body_timeout_s
                    and conn.body_bytes < limits.min_body_rate * (now - conn.window)
                ):
                    self.stats.body_timeouts += 1
                    self._close(protocol, None)
        self._arm()

    def _close(self, protocol: Any, reply: bytes | None) -> None:
        self.forget(protocol)
        transport = protocol.transport
        if transport is None or transport.is_closing():
            return
        if reply is not None:
            try:
                transport.write(reply)
            except Exception:  # noqa: BLE001 - the peer is gone; closing is all that is left
                pass
            transport.close()
        else:
            transport.abort()

    def stop(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None


def guarded_protocol(guard: ConnectionGuard) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, reporting to `guard`."""

    class GuardedProtocol(HttpToolsProtocol):
        _guard = guard
        _refused = False

        @property
        def reading_paused(self) -> bool:
            return bool(self.flow is not None and self.flow.read_paused)

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            peer = transport.get_extra_info("peername")
            host = str(peer[0]) if isinstance(peer, tuple | list) and peer else None
            self.transport = transport
            if not self._guard.admit(self, host):
                self._refused = True
                transport.write(_503)  # before any request: nothing of it was read
                transport.close()
                return
            super().connection_made(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._refused:
                return
            self._guard.forget(self)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused or not self._guard.data(self, data):
                return
            super().data_received(data)

        def on_message_begin(self) -> None:
            self._guard.message_begin(self)
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._guard.headers_complete(self)
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._guard.message_complete(self)
            super().on_message_complete()

        def on_response_complete(self) -> None:
            self._guard.response_complete(self)
            super().on_response_complete()

        def pause_writing(self) -> None:
            self._guard.writing(self, True)
            super().pause_writing()

        def resume_writing(self) -> None:
            self._guard.writing(self, False)
            super().resume_writing()

    return GuardedProtocol

"""A hostile grid for the tests: a small HTTP server on loopback that answers the worker
sign-in routes as an attacker would (relaying another grid's challenge, or forging fields),
and records every login it receives (a login carries the worker's signature). A forged
answer given as bytes is sent as they are (not JSON)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

Forge = Callable[[dict[str, Any]], dict[str, Any]]


class HostileGrid:
    """Answers `POST /api/v1/workers/challenge` with `forge(challenge)`, where `challenge` is
    what the real grid at `relay_to` answered for the same address (or a plausible one of
    this server's own when there is no real grid). `POST /api/v1/workers/login` bodies are
    kept in `logins` and, when relaying, sent on to the real grid (its answer in
    `relayed`)."""

    def __init__(
        self,
        forge: Forge,
        relay_to: str | None = None,
        login_reply: tuple[int, object] | Callable[[dict[str, Any]], tuple[int, object]] = (
            401,
            {"detail": "no"},
        ),
    ) -> None:
        self.forge = forge
        self.relay_to = relay_to
        self.login_reply = login_reply  # the answer to a login when not relaying
        self.logins: list[dict[str, Any]] = []
        self.relayed: list[httpx.Response] = []
        grid = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = min(int(self.headers.get("content-length") or 0), 1 << 16)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path == "/api/v1/workers/challenge":
                    forged = grid.forge(grid.challenge(body["address"]))
                    if isinstance(forged, tuple):  # (status, payload)
                        self._answer(*forged)
                    else:
                        self._answer(200, forged)
                elif self.path == "/api/v1/workers/login":
                    grid.logins.append(body)
                    if grid.relay_to is None:
                        reply = grid.login_reply
                        self._answer(*(reply(body) if callable(reply) else reply))
                        return
                    reply = httpx.post(f"{grid.relay_to}/api/v1/workers/login", json=body)
                    grid.relayed.append(reply)
                    self._answer(reply.status_code, reply.json())
                else:
                    self._answer(404, {"detail": "Not Found"})

            def do_GET(self) -> None:  # noqa: N802 - every worker call: the token is refused
                self._answer(401, {"detail": "Unknown or revoked worker token; log in again."})

            def _answer(self, status: int, payload: object) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def challenge(self, address: str) -> dict[str, Any]:
        if self.relay_to is not None:
            reply = httpx.post(
                f"{self.relay_to}/api/v1/workers/challenge", json={"address": address}
            )
            reply.raise_for_status()
            return reply.json()
        import time

        now = int(time.time())
        return {
            "version": 1,
            "grid_url": self.url,
            "grid_id": "ab" * 16,
            "chain_id": None,
            "address": address,
            "nonce": "cd" * 16,
            "issued_at": now,
            "expires_at": now + 300,
        }

    def __enter__(self) -> HostileGrid:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

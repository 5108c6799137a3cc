"""The first ASGI layer of every request: who is calling, and may they, before any of the body
is read.

* The client's address: the socket's peer, or (from a trusted proxy only) the right-most
  untrusted X-Forwarded-For hop; it replaces the scope's `client`.
* A rate limit per client address (IPv6 grouped by /64), for every request.
* For a request with a body to a route that needs a token: the token is checked (and a
  worker's own rate limit charged) here, so a stranger's body is never read or parsed.

Refusals are the API's usual JSON sentences (401, 429 with Retry-After); the connection is
kept (the server skips the unread body) unless the body is larger than a JSON body may be."""

from __future__ import annotations

from typing import Any

from deskgrid.grid.api.deps import CALLER, KEY, UNKNOWN_SUBMITTER, bearer_token, identify
from deskgrid.grid.api.limits import API, reply
from deskgrid.grid.clientaddr import TrustedProxies, address_key
from deskgrid.grid.errors import GridError, RateLimited, Unauthorized
from deskgrid.grid.service import GridService

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# routes that take a body from anyone: signing in
PUBLIC_BODY_PATHS = frozenset(
    {
        API + "/workers/challenge",
        API + "/workers/login",
        API + "/requesters/challenge",
        API + "/requesters/login",
    }
)
SUBMITTER_PATHS = (API + "/jobs",)


class ClientGuard:
    def __init__(self, app: Any, *, grid: GridService) -> None:
        self.app = app
        self.grid = grid
        self.proxies = TrustedProxies(grid.config.trusted_proxies)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        peer = scope.get("client") or ("unknown", 0)
        host = str(peer[0])
        if self.proxies:
            forwarded = [
                value.decode("latin-1")
                for name, value in scope.get("headers", ())
                if name == b"x-forwarded-for"
            ]
            host = self.proxies.client(host, forwarded)
            scope["client"] = (host, peer[1])
        state[KEY] = key = address_key(host)
        try:
            self.grid.address_limiter.check(key)
            path = scope.get("path", "")
            if scope.get("method") in BODY_METHODS and path not in PUBLIC_BODY_PATHS:
                state[CALLER] = self._identify(scope, path)
        except GridError as exc:
            headers = []
            if isinstance(exc, RateLimited):
                headers.append((b"retry-after", str(max(1, round(exc.retry_after + 0.5)))))
            await reply(send, exc.status, exc.message, headers, close=self._large(scope))
            return
        await self.app(scope, receive, send)

    def _large(self, scope: dict) -> bool:
        """Is the request's body more than the server would skip to keep the connection (a
        JSON body's limit), or of unknown length?"""
        if scope.get("method") not in BODY_METHODS:
            return False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                return not (value.isdigit() and int(value) <= self.grid.config.max_json_bytes)
        return True  # chunked: no telling how long

    def _identify(self, scope: dict, path: str) -> Any:
        authorization = ""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        token = bearer_token(authorization)
        try:
            return identify(self.grid, token)
        except Unauthorized:
            if path.startswith(SUBMITTER_PATHS):
                raise Unauthorized(UNKNOWN_SUBMITTER) from None
            raise

"""Request-scoped helpers: the grid service, and who is calling (bearer tokens). They are
coroutines so that FastAPI runs them inline, not in a thread pool.

A request with a body is identified (and its worker rate limited) by `ClientGuard` before the
body is read; the helpers here reuse that answer, and identify the other requests themselves."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from deskgrid.grid.auth import is_requester_token, token_hash
from deskgrid.grid.errors import Forbidden, Unauthorized
from deskgrid.grid.service import GridService
from deskgrid.grid.uploads import REQUESTER_IDENTITY

CALLER = "deskgrid.caller"  # key of the identified caller in the ASGI scope's state
KEY = "deskgrid.client_key"  # key of the caller's address key (for limits) in the same
UNKNOWN_SUBMITTER = "Unknown token; use the grid's submitter token."


REQUESTERS_MAY = "A requester token may only store and fetch data (PUT, GET and HEAD /data)"


@dataclass(frozen=True)
class Caller:
    """A submitter (address None), a worker (its address) or a requester (its wallet's
    address, `requester` True)."""

    submitter: bool
    address: str | None = None
    requester: bool = False


async def service(request: Request) -> GridService:
    return _grid(request)


def _grid(request: Request) -> GridService:
    return request.app.state.grid


def bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send a token: 'Authorization: Bearer <token>'.")
    return token.strip()


def identify(grid: GridService, token: str) -> Caller:
    """Who holds `token`; a worker is charged one request of its rate limit."""
    if grid.auth.is_submitter(token):
        return Caller(submitter=True)
    if is_requester_token(token):
        address = grid.auth.requester_address(token)
        grid.limiter.check("requester:" + address)
        return Caller(submitter=False, address=address, requester=True)
    address = grid.auth.worker_address(token)
    grid.limiter.check(address)
    return Caller(submitter=False, address=address)


def _known(request: Request) -> Caller | None:
    known = request.scope.get("state", {}).get(CALLER)
    return known if isinstance(known, Caller) else None


def _caller(request: Request) -> Caller:
    known = _known(request)
    if known is not None:
        return known
    return identify(_grid(request), bearer_token(request.headers.get("authorization", "")))


async def bearer(request: Request) -> str:
    """The bearer token of the call, as sent."""
    return bearer_token(request.headers.get("authorization", ""))


async def submitter(request: Request) -> str:
    """Require a submitter (operator / oracle) token."""
    caller = _known(request)
    if caller is None:
        token = bearer_token(request.headers.get("authorization", ""))
        try:
            caller = identify(_grid(request), token)
        except Unauthorized:
            raise Unauthorized(UNKNOWN_SUBMITTER) from None
    if caller.requester:
        raise Forbidden(f"{REQUESTERS_MAY}; this needs a submitter token.")
    if not caller.submitter:
        raise Forbidden("Workers may not do this; it needs a submitter token.")
    return "submitter"


async def worker(request: Request) -> str:
    """Require a worker token; returns the worker's address. Rate limited per worker."""
    caller = _caller(request)
    if caller.requester:
        raise Forbidden(f"{REQUESTERS_MAY}; this is a worker call.")
    if caller.submitter or caller.address is None:
        raise Forbidden("This is a worker call; log in as a worker to get a worker token.")
    return caller.address


async def anyone_known_caller(request: Request) -> Caller:
    """A submitter, a worker or a requester (data access: what each may read is decided by
    the route). Workers and requesters are rate limited."""
    return _caller(request)


async def client_address(request: Request) -> str:
    """The caller's network address (the socket's peer, or the client a trusted proxy names;
    `ClientGuard` resolved it), rate limited for sign-in calls."""
    host = request.client.host if request.client else "unknown"
    key = "ip:" + request.scope.get("state", {}).get(KEY, host)
    grid = _grid(request)
    grid.limiter.check(key)
    grid.login_limiter.check(key)
    return host


def signing_in(grid: GridService, address: str) -> None:
    """Sign-in calls are also limited per address they name, so one worker's (or
    requester's) logins cannot be flooded from many network addresses."""
    grid.login_limiter.check("id:" + address.lower())


async def uploader(request: Request) -> str:
    """Require a submitter or a requester token (workers store no data); returns its
    identity for the upload quota: one per submitter token, one per requester address."""
    grid = _grid(request)
    token = bearer_token(request.headers.get("authorization", ""))
    if grid.auth.is_submitter(token):
        return "submitter:" + token_hash(token)[:16]
    caller = _caller(request)  # Unauthorized if it is no token at all
    if caller.requester:
        return REQUESTER_IDENTITY + str(caller.address)
    raise Forbidden(
        "Workers may not store data; a worker uploads only the result of a lease it holds "
        "(PUT /leases/{id}/result)."
    )

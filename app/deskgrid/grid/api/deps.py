"""Request-scoped helpers: the grid service, and who is calling (bearer tokens). They are
coroutines so that FastAPI runs them inline, not in a thread pool."""

from __future__ import annotations

from fastapi import Request

from deskgrid.grid.auth import token_hash
from deskgrid.grid.errors import Forbidden, Unauthorized
from deskgrid.grid.service import GridService


async def service(request: Request) -> GridService:
    return _grid(request)


def _grid(request: Request) -> GridService:
    return request.app.state.grid


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send a token: 'Authorization: Bearer <token>'.")
    return token.strip()


async def submitter(request: Request) -> str:
    """Require a submitter (operator / oracle) token."""
    grid = _grid(request)
    token = _bearer(request)
    if not grid.auth.is_submitter(token):
        try:
            grid.auth.worker_address(token)
        except Unauthorized:
            raise Unauthorized("Unknown token; use the grid's submitter token.") from None
        raise Forbidden("Workers may not do this; it needs a submitter token.")
    return token


async def worker(request: Request) -> str:
    """Require a worker token; returns the worker's address. Rate limited per worker."""
    grid = _grid(request)
    token = _bearer(request)
    if grid.auth.is_submitter(token):
        raise Forbidden("This is a worker call; log in as a worker to get a worker token.")
    address = grid.auth.worker_address(token)
    grid.limiter.check(address)
    return address


async def anyone_known(request: Request) -> str:
    """A submitter or a worker (data access). Workers are rate limited."""
    grid = _grid(request)
    token = _bearer(request)
    if grid.auth.is_submitter(token):
        return "submitter"
    address = grid.auth.worker_address(token)
    grid.limiter.check(address)
    return address


async def client_address(request: Request) -> str:
    """Rate limit unauthenticated calls by the caller's network address."""
    host = request.client.host if request.client else "unknown"
    _grid(request).limiter.check("ip:" + host)
    return host


async def uploader(request: Request) -> str:
    """Require a submitter token (only submitters store data); returns its identity for
    the upload quota: one per token."""
    grid = _grid(request)
    token = _bearer(request)
    if grid.auth.is_submitter(token):
        return "submitter:" + token_hash(token)[:16]
    grid.auth.worker_address(token)  # Unauthorized if it is no token at all
    raise Forbidden(
        "Workers may not store data; a worker uploads only the result of a lease it holds "
        "(PUT /leases/{id}/result)."
    )

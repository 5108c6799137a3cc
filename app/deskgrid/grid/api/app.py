"""The FastAPI application: routes under /api/v1, the OpenAPI document at
/api/v1/openapi.json, and every refusal as a 4xx JSON body `{"detail": "<sentence>"}`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from deskgrid import __version__
from deskgrid.grid.api import data, events, jobs, misc, requesters, workers
from deskgrid.grid.api.clientguard import ClientGuard
from deskgrid.grid.api.limits import API, BodyLimit, JsonBounds, _TooLarge
from deskgrid.grid.errors import GridError, RateLimited
from deskgrid.grid.service import GridService

log = logging.getLogger(__name__)


def create_app(grid: GridService, *, housekeeping: bool = True) -> FastAPI:
    """The ASGI app for `grid`; with `housekeeping`, its lifespan runs the lease reaper."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(grid.housekeeping()) if housekeeping else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="DeskGrid grid API",
        version=__version__,
        description="Jobs, leases, replication and data of a DeskGrid desktop grid.",
        openapi_url=API + "/openapi.json",
        docs_url=API + "/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.grid = grid
    for module in (misc, jobs, events, workers, requesters, data):
        app.include_router(module.router, prefix=API)
    _install_error_handlers(app)
    # outermost last: who and how often (no body read) -> how large -> how deep -> FastAPI
    app.add_middleware(JsonBounds, max_depth=grid.config.max_json_depth)
    app.add_middleware(
        BodyLimit,
        json_bytes=grid.config.max_json_bytes,
        upload_bytes=max(grid.config.max_data_bytes, grid.config.max_result_bytes),
    )
    app.add_middleware(ClientGuard, grid=grid)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GridError)
    async def grid_error(_request: Request, exc: GridError) -> JSONResponse:
        headers = None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(max(1, round(exc.retry_after + 0.5)))}
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors()[:20]:
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            problems.append({"field": where, "problem": str(error.get("msg", ""))[:300]})
        sentence = "; ".join(f"{p['field'] or 'body'}: {p['problem']}" for p in problems[:5])
        return JSONResponse(
            {"detail": f"The request is not valid: {sentence}.", "errors": problems},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "The request was refused."
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such endpoint; see /api/v1/openapi.json."
        return JSONResponse({"detail": detail}, status_code=exc.status_code)

    @app.exception_handler(OperationalError)
    async def busy(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database error: %s", exc)
        return JSONResponse(
            {"detail": "The grid's database is busy or unreachable; retry in a moment."},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(_TooLarge)
    async def too_large(_request: Request, _exc: _TooLarge) -> JSONResponse:
        return JSONResponse({"detail": "The request body is too large."}, status_code=413)

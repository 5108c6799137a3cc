"""Running the grid's HTTP API: embedded in any running asyncio loop (`GridServer`, used by
the local demo node and the tests) or as the `deskgrid grid serve` process (`serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator, Mapping

import uvicorn

from deskgrid.apps.sdk import AppSpec
from deskgrid.errors import DeskGridError
from deskgrid.grid.api.app import create_app
from deskgrid.grid.auth import bound_url
from deskgrid.grid.catalog import LiveCatalog, builtin_catalog
from deskgrid.grid.clock import Clock
from deskgrid.grid.config import GridConfig
from deskgrid.grid.connguard import ConnectionGuard, ConnectionLimits, guarded_protocol
from deskgrid.grid.service import GridService
from deskgrid.grid.stakes import StakeBook

log = logging.getLogger(__name__)


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise DeskGridError(
            f"Cannot listen on {host}:{port} ({exc.strerror}); choose another --port."
        ) from exc
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the host's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def connection_guard(config: GridConfig) -> ConnectionGuard:
    """The connection limits of `config` (see deskgrid.grid.connguard)."""
    return ConnectionGuard(
        ConnectionLimits(
            header_timeout_s=config.header_timeout_s,
            body_timeout_s=config.body_timeout_s,
            min_body_rate=config.min_body_rate,
            send_timeout_s=config.send_timeout_s,
            max_header_bytes=config.max_header_bytes,
            max_connections=config.max_connections,
            max_connections_per_address=config.max_connections_per_address,
            trusted_proxies=config.trusted_proxies,
        )
    )


def _uvicorn_config(
    app: object, log_level: str, config: GridConfig, guard: ConnectionGuard
) -> uvicorn.Config:
    """No logging configuration of uvicorn's own: its records (at `log_level`) go where the
    process logs (`deskgrid.logs`), with the redaction of secrets, not to a stream of its own."""
    return uvicorn.Config(
        app,
        http=guarded_protocol(guard),
        ws="none",  # no WebSocket routes: no upgrades
        log_level=log_level,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=3,
        timeout_keep_alive=config.keep_alive_s,  # type: ignore[arg-type] # a float works
        server_header=False,
        # the client address is the socket's, unless the operator trusts proxies (ClientGuard)
        proxy_headers=False,
        backlog=2048,
    )


def raise_open_file_limit(wanted: int) -> None:
    """Let the process hold `wanted` files (connections) if the hard limit allows."""
    try:
        import resource
    except ImportError:  # Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class GridServer:
    """A grid server inside the current asyncio loop, on a loopback port (free by default).
    `catalog` is the apps it serves (default: the built-in apps).

        server = GridServer(GridConfig(), catalog)
        await server.start()      # server.url -> "http://127.0.0.1:54321"
        ...
        await server.stop()
    """

    def __init__(
        self,
        config: GridConfig | None = None,
        catalog: Mapping[str, AppSpec] | None = None,
        *,
        clock: Clock | None = None,
        log_level: str = "warning",
        stakes: StakeBook | None = None,
    ) -> None:
        self.config = config or GridConfig()
        self.stakes = stakes  # None: nobody has stake (no chain)
        self.catalog = LiveCatalog.of(builtin_catalog() if catalog is None else catalog)
        self.clock = clock
        self.log_level = log_level
        self.service: GridService | None = None
        self._server: _QuietServer | None = None
        self.guard: ConnectionGuard | None = None
        self._task: asyncio.Task[None] | None = None
        self._port: int | None = None

    @property
    def url(self) -> str:
        if self._port is None:
            raise DeskGridError("The grid server is not started.")
        return bound_url(self.config.host, self._port)

    @property
    def submitter_token(self) -> str:
        if self.service is None:
            raise DeskGridError("The grid server is not started.")
        return self.service.submitter_tokens[0]

    async def start(self) -> str:
        """Open the database, bind the port and serve; returns the base URL."""
        if self._task is not None:
            return self.url
        self.service = await asyncio.to_thread(
            GridService, self.config, self.catalog, clock=self.clock, stakes=self.stakes
        )
        sock = bind_socket(self.config.host, self.config.port)
        self._port = sock.getsockname()[1]
        if self.config.public_url is None:
            self.service.auth.set_origin(self.url)
        self.guard = connection_guard(self.config)
        self._server = _QuietServer(
            _uvicorn_config(create_app(self.service), self.log_level, self.config, self.guard)
        )
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise DeskGridError("The grid server stopped while starting.")
            await asyncio.sleep(0.01)
        log.info("grid server on %s (%s database)", self.url, self.service.db.dialect)
        return self.url

    async def stop(self) -> None:
        """Stop serving, finish the requests in flight, close the database."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._server, self._task = None, None
        if self.guard is not None:
            self.guard.stop()
        if self.service is not None:
            self.service.close()
            self.service = None

    async def __aenter__(self) -> GridServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()


def serve(
    config: GridConfig,
    catalog: Mapping[str, AppSpec],
    *,
    on_ready: Callable[[str, GridService], None] | None = None,
    log_level: str = "warning",
    stakes: StakeBook | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (the `deskgrid grid serve` process)."""
    service = GridService(config, catalog, stakes=stakes)
    raise_open_file_limit(config.max_connections + 256)
    sock = bind_socket(config.host, config.port)
    port = sock.getsockname()[1]
    guard = connection_guard(config)
    server = uvicorn.Server(_uvicorn_config(create_app(service), log_level, config, guard))
    url = bound_url(config.host, port)
    if config.public_url is None:
        service.auth.set_origin(url)

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            log.info("grid server on %s (%s database)", url, service.db.dialect)
        if server.started and on_ready is not None:
            on_ready(url, service)
        await task
        guard.stop()

    try:
        _run(main())
    finally:
        service.close()


def _run(coro: object) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)  # type: ignore[arg-type]
    else:
        uvloop.run(coro)  # type: ignore[arg-type]

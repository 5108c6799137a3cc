from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from deskgrid.grid.client import GridClient
from tests.live_grid import grid  # noqa: F401 - a fixture
from tests.security.hostile import HostileGrid


@pytest.fixture
async def hostile(grid) -> AsyncIterator[tuple[object, GridClient, HostileGrid]]:  # noqa: F811
    """(grid server, its submitter client, a hostile proxy in front of it)."""
    server, submitter = grid
    proxy = HostileGrid(server.url)
    proxy.start()
    # The grid sits behind the proxy, as behind an operator's reverse proxy (--public-url):
    # its sign-ins name the proxy's URL, the one the worker connects to.
    server.service.auth.set_origin(proxy.url)
    try:
        yield server, submitter, proxy
    finally:
        proxy.stop()

"""A real grid server on loopback for worker tests, and a polling helper with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from deskgrid.grid.client import GridClient
from deskgrid.grid.config import GridConfig
from deskgrid.grid.server import GridServer

DEADLINE = 20.0


async def until(check: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    """Poll `check` (plain or awaitable) until true; fail after the deadline."""
    loop = asyncio.get_running_loop()
    end = loop.time() + DEADLINE
    while True:
        value = check()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        if loop.time() > end:
            pytest.fail(f"Timed out waiting for {what}.")
        await asyncio.sleep(0.05)


@pytest.fixture
async def grid(tmp_path: Path) -> AsyncIterator[tuple[GridServer, GridClient]]:
    """A started GridServer with quick retries and its submitter client."""
    config = GridConfig(data_dir=tmp_path / "grid", idle_retry_s=0.1, reap_interval_s=0.1)
    server = GridServer(config)
    url = await server.start()
    submitter = GridClient(url, token=server.submitter_token)
    try:
        yield server, submitter
    finally:
        await submitter.aclose()
        await server.stop()

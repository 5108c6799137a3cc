"""A GridClient against a (hostile) grid, in its own process so that a crash shows as one:
each call prints `<call> <ExceptionClass>: <message>` or `<call> OK`, then `RSS <KiB>`.

    python -m tests.security.hostile_client URL
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from eth_account import Account

from deskgrid.grid.client import GridClient


async def main(url: str) -> None:
    async with GridClient(url, token="t", timeout=20.0) as client:
        calls = {
            "health": client.health,
            "metrics": client.metrics,
            "apps": client.apps,
            "jobs": client.list_jobs,
            "job": lambda: client.get_job("0" * 32),
            "work": client.request_work,
            "login": lambda: client.authenticate(Account.create()),
            "events": lambda: _first_event(client),
            "long_line": lambda: _first_event(client, "/long"),
            "result": lambda: client.download_result("1" * 32),
            "error_deep": lambda: client.cancel("2" * 32),
            "error_huge": lambda: client.cancel("3" * 32),
        }
        for name, call in calls.items():
            try:
                await call()
            except Exception as exc:  # noqa: BLE001 - the point is to print what it was
                print(f"{name} {type(exc).__name__}: {str(exc)[:200]}", flush=True)
            else:
                print(f"{name} OK", flush=True)
    print(f"RSS {peak_rss_kib()}", flush=True)


def peak_rss_kib() -> int:
    """This process's own peak resident memory (VmHWM), in KiB. Not getrusage's ru_maxrss:
    on Linux that keeps the peak of the process before its exec, here the test runner's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


async def _first_event(client: GridClient, variant: str = "") -> None:
    client._http.headers["X-Variant"] = variant  # the hostile grid serves two streams
    try:
        async for _event in client.stream_events(reconnect=False):
            return
    finally:
        client._http.headers.pop("X-Variant", None)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

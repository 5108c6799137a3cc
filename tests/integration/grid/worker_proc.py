"""A minimal worker process for the grid's integration tests and benchmark: it logs in with
fresh Ethereum keys, pulls echo jobs, heartbeats while it "computes", and uploads the
sha256 of the message. It survives the server going away (retries) and prints one line per
result accepted: `DONE <lease_id> <job_id> <job_state>`.

    python -m tests.integration.grid.worker_proc URL [--workers N] [--slow F] [--max-leases K]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from eth_account import Account

from deskgrid.grid.client import GridClient, GridClientError, GridUnavailable, LeaseGone
from deskgrid.grid.models import Capabilities, Lease
from tests.grid_fixtures import echo_result


async def _retrying(call, *args, **kwargs):
    """Call until the grid answers (a restarting server is only a pause)."""
    while True:
        try:
            return await call(*args, **kwargs)
        except GridUnavailable:
            await asyncio.sleep(0.2)


async def compute(client: GridClient, lease: Lease, slow: float) -> None:
    seconds = float(lease.params.get("seconds", 0)) * slow
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (left := end - loop.time()) > 0:
        await asyncio.sleep(min(left, lease.heartbeat_interval))
        if loop.time() < end:
            try:
                beat = await client.heartbeat(lease.lease_id, progress=0.5, keys_per_s=1000.0)
            except GridUnavailable:
                continue
            except LeaseGone:
                return
            if not beat.keep_going:
                return
    try:
        ack = await _retrying(client.upload_result, lease.lease_id, echo_result(lease.params))
    except LeaseGone:
        return
    print(f"DONE {lease.lease_id} {lease.job_id} {ack.job_state}", flush=True)


async def one_worker(url: str, args: argparse.Namespace) -> None:
    account = Account.create()
    caps = Capabilities(apps=args.apps.split(","), cores=4, memory_mb=8192)
    async with GridClient(url, timeout=10.0) as client:
        await _retrying(client.authenticate, account, capabilities=caps)
        print(f"LOGIN {account.address}", flush=True)
        while True:
            try:
                reply = await client.request_work(args.max_leases)
            except GridUnavailable:
                await asyncio.sleep(0.2)
                continue
            except GridClientError as exc:  # e.g. rate limited
                await asyncio.sleep(exc.retry_after or 0.5)
                continue
            if not reply.leases:
                await asyncio.sleep(reply.retry_after or 0.5)
                continue
            await asyncio.gather(*(compute(client, lease, args.slow) for lease in reply.leases))


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--apps", default="echo")
    parser.add_argument("--slow", type=float, default=1.0)
    parser.add_argument("--max-leases", type=int, default=1)
    args = parser.parse_args(argv)
    await asyncio.gather(*(one_worker(args.url, args) for _ in range(args.workers)))


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1:]))
    except KeyboardInterrupt:
        pass

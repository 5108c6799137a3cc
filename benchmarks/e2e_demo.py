"""End-to-end figures of the offline demo: node boot time and one paid VanityGen task.

Prints JSON: boot seconds, then per pattern the seconds from payment to the combined key.
Usage: python benchmarks/e2e_demo.py [PATTERN ...]   (default: 1A 1Ab 1Abc)
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import tempfile
import time


async def main(patterns: list[str]) -> dict[str, object]:
    from deskgrid.chain.faucet import DemoFaucet
    from deskgrid.chain.transactions import TxSender
    from deskgrid.node.local import LocalNode, NodeConfig
    from deskgrid.node.requester import VanityOrder, VanityRun

    started = time.perf_counter()
    node = await LocalNode(NodeConfig(workers=1)).start()
    boot = time.perf_counter() - started
    figures: dict[str, object] = {"boot_seconds": round(boot, 2), "tasks": []}
    try:
        d = node.deployment
        await asyncio.to_thread(
            DemoFaucet(node.chain, d.rlc, d.faucet).fund, node.demo_account.address
        )
        for pattern in patterns:
            order = VanityOrder([pattern])
            run = VanityRun(
                node.chain,
                node.hub,
                node.rlc,
                TxSender(node.chain, node.demo_account),
                app_id=d.apps["vanity"],
                pool_id=d.pool_id,
                callback=d.vanity_requester,
                grid=node.grid,
            )
            t0 = time.perf_counter()
            await asyncio.to_thread(run.pay, order)
            async for _ in run.follow(0.1):
                pass
            outcome = await asyncio.to_thread(run.outcome, order)
            figures["tasks"].append(
                {
                    "pattern": pattern,
                    "status": outcome.status,
                    "seconds": round(time.perf_counter() - t0, 2),
                }
            )
    finally:
        await node.stop()
    figures["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    return figures


if __name__ == "__main__":
    os.environ.setdefault("DESKGRID_HOME", tempfile.mkdtemp(prefix="deskgrid-bench-"))
    print(json.dumps(asyncio.run(main(sys.argv[1:] or ["1A", "1Ab", "1Abc"])), indent=1))

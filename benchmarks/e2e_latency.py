"""End-to-end latency of paid tasks on a local node: from the payment transaction to the
verified key in the requester's hands, over many tasks.

A trivial task is a VanityGen search for "1" (every address matches: the search itself takes
no time, so the figure is DeskGrid's own overhead: chain, oracle, grid, worker, callback); a
3-character task searches for "1Ab". Tasks run one after another on a node that is already up
(its boot is reported apart).

Usage: python benchmarks/e2e_latency.py [--chain embedded|anvil] [--jobs N] [--vanity3-jobs N]
                                        [--load] [--json]
Prints JSON with `trivial_p50_s`, `trivial_p95_s`, `vanity3_p50_s` (and the rest, with the
machine's load average before and after: the figures depend on what else runs).
`--load` runs one CPU-bound process beside it for the whole measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time

from cpu_load import cpu_load  # benchmarks/ is the script's folder


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def load_average() -> str:
    """The machine's 1-minute load average (what else ran beside the measurement)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


async def measure(chain: str, jobs: int, vanity3_jobs: int) -> dict[str, object]:
    from deskgrid.chain.faucet import DemoFaucet
    from deskgrid.chain.transactions import TxSender
    from deskgrid.node.local import LocalNode, NodeConfig
    from deskgrid.node.requester import VanityOrder, VanityRun

    started = time.perf_counter()
    node = await LocalNode(NodeConfig(chain=chain, workers=1)).start()
    boot = time.perf_counter() - started
    d = node.deployment
    await asyncio.to_thread(DemoFaucet(node.chain, d.rlc, d.faucet).fund, node.demo_account.address)

    async def one(pattern: str) -> float:
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
        async for _ in run.follow(0.05):
            pass
        outcome = await asyncio.to_thread(run.outcome, order)
        if outcome.status != "COMPLETED":
            raise RuntimeError(f"a {pattern} task ended {outcome.status}: {outcome.reason}")
        return time.perf_counter() - t0

    try:
        await one("1")  # warm-up: first imports and caches, not counted
        trivial = [await one("1") for _ in range(jobs)]
        vanity3 = [await one("1Ab") for _ in range(vanity3_jobs)]
    finally:
        await node.stop()
    return {
        "chain": chain,
        "boot_s": round(boot, 2),
        "trivial_jobs": jobs,
        "trivial_p50_s": round(statistics.median(trivial), 3),
        "trivial_p95_s": round(percentile(trivial, 95), 3),
        "trivial_max_s": round(max(trivial), 3),
        "vanity3_jobs": vanity3_jobs,
        "vanity3_p50_s": round(statistics.median(vanity3), 3),
        "vanity3_p95_s": round(percentile(vanity3, 95), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", choices=("embedded", "anvil"), default="embedded")
    parser.add_argument("--jobs", type=int, default=30, help="trivial tasks (default 30)")
    parser.add_argument("--vanity3-jobs", type=int, default=10, help="1Ab tasks (default 10)")
    parser.add_argument("--load", action="store_true", help="a CPU-bound process beside it")
    parser.add_argument("--json", action="store_true", help="print only the JSON figures")
    args = parser.parse_args()
    if args.jobs < 1 or args.vanity3_jobs < 1:
        parser.error("--jobs and --vanity3-jobs need at least one task each")
    os.environ.setdefault("DESKGRID_HOME", tempfile.mkdtemp(prefix="deskgrid-bench-"))
    with cpu_load(args.load) as load:
        before = load_average()
        figures = asyncio.run(measure(args.chain, args.jobs, args.vanity3_jobs))
    figures["load"] = load
    figures["load_average"] = f"{before} before, {load_average()} after"  # 1-minute
    figures["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(json.dumps(figures) if args.json else json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How well the native runner holds a job to its memory limit without cgroups.

Runs the test app `hog` (allocates and touches N MiB as fast as it can, then holds them) in the
native runner with a memory limit below N, and samples the job's process-tree memory
(`proctree.tree_memory_bytes`, the same measure the runner uses) every 10 ms from outside, to
see how far past the limit a fast allocation gets before the runner's watcher (four checks a
second) stops it. Also times one check of a job's tree (`proctree.tree_memory_over`).

    python benchmarks/job_memory_limit.py [--limit-mb 128] [--hog-mb 1024] [--runs 3]

Prints JSON: per run, the seconds from start to the stopped outcome, the most memory seen,
and the overshoot past the limit; and the microseconds one check of a tree takes, under
the limit and near it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "app"), str(REPO)]
os.environ.setdefault("DESKGRID_APP_MODULES", "tests.testapps")  # the `hog` test app
os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO / "app"), str(REPO)])
MIB = 2**20


async def one_run(limit_mb: int, hog_mb: int) -> dict[str, float | str]:
    from deskgrid.apps.registry import get_app
    from deskgrid.worker.native_runner import NativeRunner
    from deskgrid.worker.proctree import tree_memory_bytes
    from deskgrid.worker.runner import Job, Limits

    app = get_app("hog")
    job = Job("bench", app, app.validate({"mib": hog_mb, "seconds": 60}),
              limits=Limits(memory_mb=limit_mb, memory_by_volunteer=True))  # fmt: skip
    started = time.monotonic()
    execution = await NativeRunner().start(job)
    peak = 0
    waiter = asyncio.ensure_future(execution.wait())
    while not waiter.done():
        peak = max(peak, await asyncio.to_thread(tree_memory_bytes, execution.pid))
        await asyncio.sleep(0.01)
    outcome = waiter.result()
    return {
        "seconds_to_stop": round(time.monotonic() - started, 3),
        "peak_mb_seen": round(peak / MIB, 1),
        "overshoot_mb": round(max(0, peak / MIB - limit_mb), 1),
        "message": outcome.message,
    }


def measure_cost(samples: int = 100) -> dict[str, float]:
    """Microseconds per check of a tree holding 256 MiB in two processes (a fork shares the
    pages): under the limit (resident set sizes only), and near it (proportional set sizes
    read too)."""
    import subprocess

    from deskgrid.worker.proctree import tree_memory_over

    holder = (
        "import os, time\n"
        "held = [bytearray(b'\\x01') * (1 << 20) for _ in range(256)]\n"
        "os.fork()\n"
        "os.write(1, b'.')\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        proc.stdout.read(2)
        costs = {}
        for name, limit in (("under_limit_us", 4096 * MIB), ("near_limit_us", 384 * MIB)):
            started = time.perf_counter()
            for _ in range(samples):
                tree_memory_over(proc.pid, limit)
            costs[name] = round((time.perf_counter() - started) / samples * 1e6, 1)
        return costs
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit-mb", type=int, default=128)
    parser.add_argument("--hog-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [asyncio.run(one_run(args.limit_mb, args.hog_mb)) for _ in range(args.runs)]
    print(
        json.dumps(
            {
                "limit_mb": args.limit_mb,
                "hog_mb": args.hog_mb,
                "runs": runs,
                "check_of_a_256_mib_tree": measure_cost(),
                "load_average": os.getloadavg(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

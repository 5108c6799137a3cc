"""The duty-cycle throttle holds a busy job near the set share of one core (psutil)."""

from __future__ import annotations

import asyncio
import time

import psutil
import pytest

from deskgrid.worker.policy import throttle
from deskgrid.worker.runner import Job

from .conftest import helper_app

pytestmark = pytest.mark.integration


def tree_cpu(pid: int) -> float:
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        times = proc.cpu_times()
        total += times.user + times.system
    return total


@pytest.mark.parametrize("limit", [30.0, 60.0])
async def test_busy_job_uses_the_set_percentage(helper_runner, limit: float) -> None:
    execution = await helper_runner.start(Job("j", helper_app("busy"), {"seconds": 600}))
    await asyncio.sleep(0.3)  # interpreter start-up is not part of the measure

    async def unthrottled() -> float:
        """What the job gets unthrottled (below 100 % when other work shares the cores: the
        job runs at nice 19); the throttle should give it `limit` % of that."""
        cpu0, wall0 = tree_cpu(execution.pid), time.monotonic()
        await asyncio.sleep(1.5)
        return 100 * (tree_cpu(execution.pid) - cpu0) / (time.monotonic() - wall0)

    before = await unthrottled()
    task = asyncio.create_task(throttle(execution, lambda: limit, period=0.5))
    cpu0, wall0 = tree_cpu(execution.pid), time.monotonic()
    await asyncio.sleep(4.0)
    share = 100 * (tree_cpu(execution.pid) - cpu0) / (time.monotonic() - wall0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert not execution.paused
    after = await unthrottled()  # other work may have come or gone meanwhile
    await execution.cancel()
    low, high = (limit * min(free, 100.0) / 100 for free in sorted((before, after)))
    assert low - 15 <= share <= high + 15, (
        f"the job used {share:.0f} % of a core, limit {limit} % of the "
        f"{before:.0f}–{after:.0f} % it gets"
    )

"""The oracle wakes on new blocks and on grid events: with a poll interval that never
elapses in the test, a paid task is still admitted, computed and finalized."""

from __future__ import annotations

import asyncio

import pytest

from deskgrid.chain.contracts import TaskStatus
from deskgrid.oracle.store import OracleStore
from tests.live_grid import until

from .conftest import volunteer

pytestmark = pytest.mark.integration
NEVER = 3600.0  # a poll interval no step in this test can be waiting for


async def test_a_task_is_finalized_on_signals_alone(setup) -> None:
    oracle = setup.oracle()
    oracle.config.poll_interval = NEVER
    stop = asyncio.Event()
    worker = setup.chain.dev_accounts[6]
    tasks = [
        asyncio.create_task(oracle.run(stop)),
        asyncio.create_task(volunteer(setup.server.url, worker, stop)),
    ]
    try:
        await until(lambda: oracle.steps == 1 and oracle.wakeup is not None, "the first step")
        assert oracle.wakeup is not None
        task_id = await asyncio.to_thread(setup.pay, "echo", {"text": "woken"})
        await until(
            lambda: setup.hub.task_status(task_id) is TaskStatus.COMPLETED, "the finalization"
        )
        reasons = list(oracle.wakeup.reasons)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    # the payment's block woke the oracle (it admitted the task), then the grid's events
    # (the job completed), and nothing else could have: the interval never elapsed
    assert reasons[0] == "block"
    assert "grid" in reasons[reasons.index("block") :]
    assert oracle.steps <= len(reasons) + 1
    kinds = [e["kind"] for e in OracleStore(setup.store_path).events("0x" + task_id.hex())]
    assert kinds[0] == "requested" and kinds[-1] == "finalized"
    assert kinds.index("queued") < kinds.index("completed") < kinds.index("finalized")

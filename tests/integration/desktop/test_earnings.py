"""Earnings are the hub's `Rewarded` events to the payout address: a real paid task, computed
by a volunteer that names a payout address, finalized by the oracle on an embedded chain.
The ledger's total equals the sum of the events and the escrow credit the task added; a new
ledger on the same file reads no block twice."""

from __future__ import annotations

import asyncio

import pytest
from eth_account import Account

from deskgrid.chain.hub_events import rewards_to
from deskgrid.desktop.earnings import EarningsLedger, ledger_path
from tests.integration.oracle.conftest import (  # noqa: F401 - fixtures
    complete_task,
    grid_catalog,
    grid_options,
    setup,
)

pytestmark = pytest.mark.integration


async def test_earnings_are_the_rewarded_events_to_the_payout(setup) -> None:  # noqa: F811
    worker_key = Account.create()
    payout = Account.create().address  # the volunteer's wallet, new: no other credit
    ledger = EarningsLedger.kept(setup.hub, payout)
    assert ledger.path == ledger_path(setup.hub, payout)
    assert await asyncio.to_thread(ledger.refresh) == [] and ledger.total == 0

    task_id = await complete_task(setup, worker_key, payout, "earned")
    head = setup.chain.block_number()
    events = rewards_to(setup.hub, payout, 0, head)
    assert [(r.task_id, r.role_name) for r in events] == [("0x" + task_id.hex(), "worker")]
    assert rewards_to(setup.hub, payout, 0, head, span=3) == events  # bounded ranges agree
    assert rewards_to(setup.hub, worker_key.address, 0, head) == []  # the key earns nothing

    found = await asyncio.to_thread(ledger.refresh)
    assert [e.reward for e in found] == events
    credit = setup.hub.balance_of(payout)
    assert ledger.total == sum(r.amount for r in events) == credit > 0
    assert ledger.per_task()[-1][1] == ledger.per_day()[-1][1] == credit

    # A restart: the rewards come from the file and the scan goes on from its cursor.
    again = EarningsLedger.kept(setup.hub, payout)
    assert again.total == credit
    assert await asyncio.to_thread(again.refresh) == []
    assert again.cursor is not None and again.cursor.block >= head

    # A second task: the new reward is added once, earnings grow with the credit.
    await complete_task(setup, worker_key, payout, "earned again")
    await asyncio.to_thread(again.refresh)
    assert again.total == setup.hub.balance_of(payout) == 2 * credit
    assert len(again.per_task()) == 2


async def test_a_reorg_drops_the_rewards_of_the_blocks_read_again(setup) -> None:  # noqa: F811
    worker_key, payout = Account.create(), Account.create().address
    ledger = EarningsLedger.kept(setup.hub, payout)
    await complete_task(setup, worker_key, payout, "kept")
    await asyncio.to_thread(ledger.refresh)
    kept = ledger.total
    fork = setup.chain.snapshot()
    await complete_task(setup, worker_key, payout, "on a branch that goes away")
    await asyncio.to_thread(ledger.refresh)
    assert ledger.total == 2 * kept

    setup.chain.revert(fork)  # the second task's blocks leave the chain
    for _ in range(12):  # and other blocks take their place
        setup.chain.mine()
    again = EarningsLedger.kept(setup.hub, payout)  # a restart after the reorg
    await asyncio.to_thread(again.refresh)
    head = setup.chain.block_number()
    assert again.total == kept == setup.hub.balance_of(payout)
    assert [e.reward for e in again.earned] == rewards_to(setup.hub, payout, 0, head)

"""The oracle end to end on the embedded chain with a real grid server on loopback."""

from __future__ import annotations

import asyncio

import pytest

from deskgrid.chain.contracts import StakeInfo, TaskStatus
from deskgrid.money import NRLC_PER_RLC as RLC
from deskgrid.oracle.store import OracleStore, OracleTaskState

from .conftest import volunteer

pytestmark = pytest.mark.integration


async def run_until(
    setup, oracle, task_id: bytes, status: TaskStatus, timeout=60.0, volunteers=(6,)
):
    """Run `oracle` and one volunteer per dev account index in `volunteers` (each its own
    stakeholder) until the task reaches `status`."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(oracle.run(stop))] + [
        asyncio.create_task(volunteer(setup.server.url, setup.chain.dev_accounts[i], stop))
        for i in volunteers
    ]
    try:
        async with asyncio.timeout(timeout):
            while setup.hub.task_status(task_id) is not status:
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_paid_task_is_finalized_and_everyone_is_paid(setup):
    task_id = setup.pay("echo", {"text": "hello grid"})
    await run_until(setup, setup.oracle(), task_id, TaskStatus.COMPLETED)
    task = setup.hub.task(task_id)
    assert task.results == b"hello grid"
    assert setup.requester.result_of(task_id) == b"hello grid"  # the callback got it
    app_price = task.app_price
    worker = setup.chain.dev_accounts[6].address
    assert setup.hub.balance_of(setup.roles.deployer.address) == app_price
    assert setup.hub.balance_of(worker) == RLC * 7 // 10
    assert setup.hub.balance_of(setup.roles.scheduler.address) == RLC - RLC * 7 // 10
    assert setup.hub.locked_of(setup.chain.dev_accounts[3].address) == 0
    # Nobody locked the worker's stake, so none of it moved; the pool's stake is unlocked.
    assert setup.hub.reputation_of(worker) == (0, 0)
    assert setup.hub.locked_stake_of(worker) == 0
    assert setup.hub.locked_stake_of(setup.roles.scheduler.address) == 0
    kinds = [e["kind"] for e in OracleStore(setup.store_path).events("0x" + task_id.hex())]
    assert kinds[0] == "requested" and "queued" in kinds and kinds[-1] == "finalized"


async def test_a_volunteer_without_stake_is_paid_for_a_verified_vanitygen_result(setup):
    """A new volunteer with no RLC at all computes a VanityGen task (its result is verified
    cryptographically by the oracle): the task is finalized and the volunteer is paid its
    share of the fee; no stake of it moves and its reputation stays empty."""
    from eth_account import Account

    from deskgrid.node.requester import VanityOrder

    newcomer = Account.create()
    order = VanityOrder(["1A"])
    task_id = setup.pay("vanity", order.params())
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(setup.oracle().run(stop)),
        asyncio.create_task(volunteer(setup.server.url, newcomer, stop)),
    ]
    try:
        async with asyncio.timeout(120):
            while setup.hub.task_status(task_id) is not TaskStatus.COMPLETED:
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert setup.hub.task(task_id).results  # the verified result reached the chain
    assert setup.hub.balance_of(newcomer.address) == RLC * 7 // 10
    assert setup.hub.balance_of(setup.roles.scheduler.address) == RLC - RLC * 7 // 10
    assert setup.hub.stake_info(newcomer.address) == StakeInfo(0, 0, 0, 0)


async def test_invalid_params_on_chain_are_refunded_with_the_reason(setup):
    task_id = setup.pay("vanity", {"patterns": ["1LoVE0"]})
    await run_until(setup, setup.oracle(), task_id, TaskStatus.FAILED)
    [event] = setup.hub.logs("TaskFailed", setup.deployment.block)
    assert "invalid params" in event["args"]["reason"]
    assert "0 (zero)" in event["args"]["reason"]
    assert setup.hub.balance_of(setup.chain.dev_accounts[3].address) == 5 * RLC


@pytest.mark.parametrize("grid_options", [{"assume_bad": 0.01, "spot_check_rate": 0.0}])
async def test_grid_failure_is_refunded(setup):
    # An error is a vote like a result: the job fails when two stakeholders agree on it with
    # the credibility of level 2 (one error report never fails a task, see test_grid_consensus;
    # with the grid assuming 1 % of bad workers, two agreeing fresh ones reach it).
    task_id = setup.pay("fail", {"message": "boom"})
    oracle = setup.oracle(allow_single_unverified=True)
    await run_until(setup, oracle, task_id, TaskStatus.FAILED, volunteers=(6, 7))
    [event] = setup.hub.logs("TaskFailed", setup.deployment.block)
    assert "the grid could not compute it" in event["args"]["reason"]
    user = setup.chain.dev_accounts[3].address
    assert setup.hub.balance_of(user) == setup.hub.task(task_id).price


async def test_a_result_that_would_be_a_private_key_in_clear_is_refused_and_refunded(setup):
    """On chain every result is public: a VanityGen task asking for the whole key (full_key)
    is refused before any worker computes it, and the requester gets the price back."""
    task_id = setup.pay("vanity", {"patterns": ["1A"], "full_key": True})
    await run_until(setup, setup.oracle(), task_id, TaskStatus.FAILED)
    [event] = setup.hub.logs("TaskFailed", setup.deployment.block)
    assert "private key in clear" in event["args"]["reason"]
    assert (await setup.grid.list_jobs()).total == 0  # nothing was sent to the grid
    user = setup.chain.dev_accounts[3].address
    assert setup.hub.balance_of(user) == setup.hub.task(task_id).price


async def test_a_restart_between_grid_completion_and_finalize_finalizes_once(setup):
    task_id = setup.pay("echo", {"text": "once"})
    hex_id = "0x" + task_id.hex()
    first = setup.oracle()

    async def die(_task):  # the oracle dies right before it would send finalize
        raise SystemExit("killed")

    first._settle = die
    stop = asyncio.Event()
    worker = asyncio.create_task(volunteer(setup.server.url, setup.chain.dev_accounts[6], stop))
    async with asyncio.timeout(60):
        while (t := first.store.task(hex_id)) is None or t.state is not OracleTaskState.FINALIZING:
            try:
                await first.step()
            except SystemExit:
                break
            await asyncio.sleep(0.1)
    stop.set()
    await worker
    assert first.store.task(hex_id).state is OracleTaskState.FINALIZING
    assert setup.hub.task_status(task_id) is TaskStatus.ACTIVE
    first.store.close()

    second = setup.oracle()
    await second.step()
    await second.step()  # a second pass must not send anything again
    assert setup.hub.task_status(task_id) is TaskStatus.COMPLETED
    assert len(setup.hub.logs("TaskFinalized", setup.deployment.block)) == 1
    assert second.store.task(hex_id).state is OracleTaskState.FINALIZED


async def test_a_task_nobody_runs_can_be_claimed_after_the_deadline(setup):
    task_id = setup.pay("echo", {"text": "nobody"})
    setup.chain.advance_time(601)
    from deskgrid.chain.transactions import TxSender

    setup.hub.claim(TxSender(setup.chain, setup.chain.dev_accounts[8]), task_id)
    assert setup.hub.task_status(task_id) is TaskStatus.FAILED
    oracle = setup.oracle()
    await oracle.step()
    await oracle.step()
    state = oracle.store.task("0x" + task_id.hex()).state
    assert state in (OracleTaskState.CLOSED, OracleTaskState.FAILED)

"""Stake behind unverified results, end to end: the embedded chain, a real grid server on
loopback, the oracle and volunteers on the grid API. A task of an app without a verifier is
paid only when enough stakeholders agree; each replica's stake is locked while it counts, an
out-voted one is slashed to the winners, one that ended without a vote is released, and a
restart of the oracle between lock and finalize neither locks twice nor forgets a lock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from eth_account import Account

from deskgrid.chain.contracts import TaskStatus
from deskgrid.chain.listings import DEV_WORKER_STAKE
from deskgrid.grid.client import GridClient
from deskgrid.grid.models import Capabilities
from deskgrid.oracle.store import OracleStore, OracleTaskState, StakeLockState

from .conftest import volunteer

pytestmark = pytest.mark.integration

HONEST = {"text": "agreed", "wrong_probability": 0.0}  # misbehave: an app without a verifier
ROLE_WORKER, ROLE_SLASHED_STAKE = 2, 3


@pytest.fixture
def grid_options() -> dict:
    # leases of lost workers expire soon; no hidden spot check adds a replica of its own;
    from deskgrid.grid.config import JobDefaults

    return {
        "defaults": JobDefaults(delay_bound=3.0),
        "reap_interval_s": 0.2,
        "idle_retry_s": 0.2,
        "spot_check_rate": 0.0,
        "assume_bad": 0.001,  # two fresh stakeholders agreeing are believed at level 2
    }


def garbage(_result: bytes) -> bytes:
    return b"garbage"


@dataclass
class Crowd:
    """An oracle and volunteers running until the block ends."""

    setup: object
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task] = field(default_factory=list)

    def add(self, account, **options) -> None:
        self.tasks.append(
            asyncio.create_task(
                volunteer(self.setup.server.url, account, self.stop, apps=["misbehave"], **options)
            )
        )

    async def until(self, check: Callable[[], object], what: str, timeout: float = 90.0) -> None:
        try:
            async with asyncio.timeout(timeout):
                while not await _value(check()):
                    for task in self.tasks:  # a volunteer or the oracle that died says why
                        if task.done() and task.exception() is not None:
                            raise task.exception()
                    await asyncio.sleep(0.1)
        except TimeoutError:
            pytest.fail(f"timed out waiting for {what}")


async def _value(value):
    return await value if asyncio.iscoroutine(value) else value


@contextlib.asynccontextmanager
async def crowd(setup, oracle=None) -> AsyncIterator[Crowd]:
    """Volunteers added to it, and `oracle` (when given) running its loop."""
    running = Crowd(setup)
    if oracle is not None:
        running.tasks.append(asyncio.create_task(oracle.run(running.stop)))
    try:
        yield running
    finally:
        running.stop.set()
        await asyncio.gather(*running.tasks, return_exceptions=True)


def dev(setup, index: int):
    return setup.chain.dev_accounts[index]


async def job_of(setup, task_id: bytes):
    found = await setup.grid.find_job("0x" + task_id.hex())
    return None if found is None else await setup.grid.get_job(found.id)


def locks(setup, task_id: bytes) -> list:
    store = OracleStore(setup.store_path)
    try:
        return store.stake_locks("0x" + task_id.hex())
    finally:
        store.close()


def completed(setup, task_id: bytes) -> Callable[[], bool]:
    return lambda: setup.hub.task_status(task_id) is TaskStatus.COMPLETED


def task_logs(setup, name: str, task_id: bytes) -> list:
    return setup.hub.logs(name, setup.deployment.block, taskId=task_id)


def worker_locks(setup, name: str, task_id: bytes) -> list[str]:
    """The accounts of the task's `StakeLocked` / `StakeUnlocked` events, but the pool
    owner's (the request locks its stake too)."""
    pool_owner = setup.roles.scheduler.address
    return [
        e["args"]["account"]
        for e in task_logs(setup, name, task_id)
        if e["args"]["account"] != pool_owner
    ]


async def test_a_level_2_result_is_paid_once_two_stakeholders_agree_each_locked_then_won(setup):
    task_id = setup.pay("misbehave", HONEST, trust=2)
    async with crowd(setup, setup.oracle()) as running:
        running.add(dev(setup, 6))
        running.add(dev(setup, 7))
        await running.until(completed(setup, task_id), "the task to be finalized")
    job = await job_of(setup, task_id)
    agreed = {lease.payout or lease.worker for lease in job.leases if lease.state == "VALID"}
    workers = {dev(setup, 6).address, dev(setup, 7).address}
    assert agreed == workers
    assert sorted(worker_locks(setup, "StakeLocked", task_id)) == sorted(workers)
    assert sorted(worker_locks(setup, "StakeUnlocked", task_id)) == sorted(workers)
    for worker in workers:
        assert setup.hub.reputation_of(worker) == (1, 0)
        assert setup.hub.locked_stake_of(worker) == 0
        assert setup.hub.stake_of(worker) == DEV_WORKER_STAKE
    paid = {
        e["args"]["account"]
        for e in task_logs(setup, "Rewarded", task_id)
        if e["args"]["role"] == ROLE_WORKER
    }
    assert paid == workers
    assert setup.hub.task(task_id).results == b"agreed"


async def test_a_staked_worker_returning_garbage_is_out_voted_and_slashed_to_the_winners(setup):
    task_id = setup.pay("misbehave", HONEST, trust=2)
    cheat = dev(setup, 8).address
    async with crowd(setup, setup.oracle()) as running:
        running.add(dev(setup, 8), tamper=garbage)  # first, so that its garbage is a vote

        def cheat_locked() -> bool:
            return any(
                lock.account == cheat and lock.state is StakeLockState.LOCKED
                for lock in locks(setup, task_id)
            )

        await running.until(cheat_locked, "the cheat's replica to be locked")
        lock = setup.hub.contribution_stake(task_id)
        running.add(dev(setup, 6))
        running.add(dev(setup, 7))
        await running.until(completed(setup, task_id), "the task to be finalized")
    assert setup.hub.stake_of(cheat) == DEV_WORKER_STAKE - lock
    assert setup.hub.locked_stake_of(cheat) == 0
    assert setup.hub.reputation_of(cheat) == (0, 1)
    [slashed] = task_logs(setup, "Slashed", task_id)
    assert slashed["args"]["account"] == cheat and slashed["args"]["amount"] == lock
    seized = [e for e in task_logs(setup, "Rewarded", task_id) if e["args"]["role"] == 3]
    winners = {dev(setup, 6).address, dev(setup, 7).address}
    assert {e["args"]["account"] for e in seized} <= winners | {setup.roles.scheduler.address}
    assert sum(e["args"]["amount"] for e in seized) == lock
    assert {e["args"]["account"] for e in seized} & winners == winners
    for winner in winners:
        assert setup.hub.reputation_of(winner) == (1, 0)
    assert setup.hub.balance_of(cheat) == 0  # never paid for garbage


async def test_an_identity_without_stake_gets_no_replica_of_a_staked_task(setup):
    task_id = setup.pay("misbehave", HONEST, trust=2)
    oracle = setup.oracle()
    hex_id = "0x" + task_id.hex()
    async with asyncio.timeout(30):
        while (t := oracle.store.task(hex_id)) is None or t.state is not OracleTaskState.SUBMITTED:
            await oracle.step()
    nobody = Account.create()  # signs in to the grid, holds no stake on the hub
    caps = Capabilities(apps=["misbehave"], cores=1, memory_mb=1024)
    async with GridClient(setup.server.url) as client:
        await client.authenticate(nobody, capabilities=caps)
        assert (await client.request_work(1, caps)).leases == []
    async with crowd(setup, oracle) as running:
        running.add(dev(setup, 6))
        running.add(dev(setup, 7))
        await running.until(completed(setup, task_id), "the task to be finalized")
    job = await job_of(setup, task_id)
    assert nobody.address not in {lease.worker for lease in job.leases}
    assert setup.hub.balance_of(nobody.address) == 0


async def test_level_1_for_an_app_without_verifier_is_refused_by_default(setup):
    task_id = setup.pay("misbehave", HONEST, trust=1)
    async with crowd(setup, setup.oracle()) as running:
        await running.until(
            lambda: setup.hub.task_status(task_id) is TaskStatus.FAILED, "the refusal"
        )
    [event] = task_logs(setup, "TaskFailed", task_id)
    assert "has no verifier" in event["args"]["reason"]
    assert "trust level 2 or more" in event["args"]["reason"]


async def test_level_1_for_an_app_without_verifier_is_taken_when_the_operator_allows_it(setup):
    task_id = setup.pay("misbehave", HONEST, trust=1)
    async with crowd(setup, setup.oracle(allow_single_unverified=True)) as running:
        running.add(dev(setup, 6))
        await running.until(completed(setup, task_id), "the task to be finalized")
    assert setup.hub.task(task_id).results == b"agreed"


async def test_a_pool_refuses_tasks_below_its_minimum_trust_level(setup):
    task_id = setup.pay("misbehave", HONEST, trust=2)
    async with crowd(setup, setup.oracle(min_trust=3)) as running:
        await running.until(
            lambda: setup.hub.task_status(task_id) is TaskStatus.FAILED, "the refusal"
        )
    [event] = task_logs(setup, "TaskFailed", task_id)
    assert "trust level 3 or more" in event["args"]["reason"]


async def test_a_lost_replica_has_its_lock_released_and_the_task_still_finalizes(setup):
    task_id = setup.pay("misbehave", HONEST, trust=2)
    lost = dev(setup, 9)
    caps = Capabilities(apps=["misbehave"], cores=1, memory_mb=1024)
    async with crowd(setup, setup.oracle()) as running, GridClient(setup.server.url) as client:
        await client.authenticate(lost, capabilities=caps)

        async def lease_taken() -> bool:
            return bool((await client.request_work(1, caps)).leases)

        await running.until(lease_taken, "the lost worker's replica")  # it never reports back
        await running.until(
            lambda: any(lock.account == lost.address for lock in locks(setup, task_id)),
            "the lost worker's stake to be locked",
        )
        running.add(dev(setup, 6))
        running.add(dev(setup, 7))
        await running.until(completed(setup, task_id), "the task to be finalized")
    assert setup.hub.locked_stake_of(lost.address) == 0
    assert setup.hub.stake_of(lost.address) == DEV_WORKER_STAKE
    assert setup.hub.reputation_of(lost.address) == (0, 0)
    assert lost.address in worker_locks(setup, "StakeUnlocked", task_id)
    events = OracleStore(setup.store_path).events("0x" + task_id.hex())
    assert any(e["kind"] == "stake_released" and lost.address in e["workers"] for e in events)


async def test_a_restart_between_lock_and_finalize_neither_locks_twice_nor_forgets(setup):
    task_id = setup.pay("misbehave", HONEST, trust=2)
    hex_id = "0x" + task_id.hex()
    first = setup.oracle()

    async def die(_task, _job):  # the oracle dies when the vote is in, before finalize
        raise SystemExit("killed")

    first._accept = die
    workers = {dev(setup, 6).address, dev(setup, 7).address}
    async with crowd(setup) as running:  # the oracle is stepped by hand
        running.add(dev(setup, 6))
        running.add(dev(setup, 7))

        async def stepped_until_killed() -> bool:
            try:
                await first.step()
            except SystemExit:
                return True
            return False

        await running.until(stepped_until_killed, "the vote to be in")
    assert {lock.account for lock in locks(setup, task_id)} == workers
    assert setup.hub.task(task_id).open_locks == 2
    first.store.close()

    second = setup.oracle()
    for _ in range(3):  # more passes must not send anything again
        await second.step()
    assert setup.hub.task_status(task_id) is TaskStatus.COMPLETED
    assert second.store.task(hex_id).state is OracleTaskState.FINALIZED
    assert sorted(worker_locks(setup, "StakeLocked", task_id)) == sorted(workers)
    for worker in workers:
        assert setup.hub.reputation_of(worker) == (1, 0)
        assert setup.hub.locked_stake_of(worker) == 0

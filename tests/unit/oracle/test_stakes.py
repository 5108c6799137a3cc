"""The oracle's stake bookkeeping: who wins, loses or is released when a vote is accepted, and
locks on a real embedded chain that survive a restart of the oracle's store."""

from eth_account import Account

from deskgrid.chain.contracts import TaskRequest
from deskgrid.chain.transactions import TxSender
from deskgrid.grid.models import LeaseView
from deskgrid.oracle.stakes import StakeKeeper, settlement
from deskgrid.oracle.store import OracleStore, StakeLockState, StakeOutcome
from tests.unit.chain.conftest import RLC

PRICE = RLC // 10 + RLC  # echo 0.1 RLC + pool fee 1 RLC
LOCK = PRICE * 3_000 // 10_000  # one contribution's stake: 30 % of the price


def lease(lease_id: str, worker: str, state: str, payout: str | None = None) -> LeaseView:
    return LeaseView(
        id=lease_id, worker=worker, payout=payout, state=state, leased_at=0.0, expires_at=0.0
    )


def test_valid_leases_win_by_count_invalid_locked_ones_lose_the_rest_is_released():
    leases = [
        lease("a", "0xA", "VALID"),
        lease("b", "0xB1", "VALID", payout="0xB"),  # two keys paid to one payout: one stakeholder
        lease("c", "0xB2", "VALID", payout="0xB"),
        lease("d", "0xD", "INVALID"),
        lease("e", "0xE", "EXPIRED"),
        lease("f", "0xF", "IN_PROGRESS"),
    ]
    locked = {"a": "0xA", "b": "0xB", "c": "0xB", "d": "0xD", "e": "0xE", "f": "0xF"}
    plan = settlement(leases, locked)
    assert plan.workers == [("0xA", 1), ("0xB", 2)]
    assert plan.outcomes == {
        "a": StakeOutcome.WIN,
        "b": StakeOutcome.WIN,
        "c": StakeOutcome.RELEASE,  # finalize settles one lock per winner listed
        "d": StakeOutcome.LOSE,
        "e": StakeOutcome.RELEASE,
        "f": StakeOutcome.RELEASE,
    }


def test_a_stakeholder_that_could_not_be_locked_is_paid_if_it_won_and_never_a_loser():
    leases = [
        lease("a", "0xA", "VALID"),
        lease("b", "0xB", "VALID"),
        lease("c", "0xC", "INVALID"),
    ]
    plan = settlement(leases, {"a": "0xA"})  # B and C had no free stake left to lock
    assert plan.workers == [("0xA", 1), ("0xB", 1)]
    assert plan.outcomes == {"a": StakeOutcome.WIN}


def echo_task(market, who=3) -> str:
    market.fund(who, PRICE)
    request = TaskRequest(market.deployment.apps["echo"], market.pool, '{"text":"x"}', PRICE)
    return "0x" + market.hub.pay_and_request(market.sender(who), market.rlc, request).hex()


def keeper(market, path) -> StakeKeeper:
    return StakeKeeper(
        market.hub, TxSender(market.chain, market.roles.scheduler), OracleStore(path)
    )


async def test_a_worker_without_free_stake_is_dropped_and_the_rest_locked(market, tmp_path):
    task_id = echo_task(market)
    staked = [market.account(6).address, market.account(7).address]
    unstaked = Account.create().address
    stakes = keeper(market, tmp_path / "oracle.sqlite")
    leases = [
        lease("1", staked[0], "IN_PROGRESS"),
        lease("2", unstaked, "IN_PROGRESS"),
        lease("3", staked[1], "SUCCESS"),
        lease("4", market.account(8).address, "EXPIRED"),  # ended before it was seen
    ]
    await stakes.lock_new(task_id, leases)
    states = {lock.lease_id: lock.state for lock in stakes.store.stake_locks(task_id)}
    assert states == {
        "1": StakeLockState.LOCKED,
        "2": StakeLockState.UNLOCKABLE,
        "3": StakeLockState.LOCKED,
    }
    assert [market.hub.locked_stake_of(a) for a in staked] == [LOCK, LOCK]
    await stakes.lock_new(task_id, leases)  # seen again next step: nothing locked twice
    assert [market.hub.locked_stake_of(a) for a in staked] == [LOCK, LOCK]
    assert market.hub.task(bytes.fromhex(task_id[2:])).open_locks == 2
    kinds = [e["kind"] for e in stakes.store.events(task_id)]
    assert kinds.count("stake_locked") == 1


async def test_a_restart_after_a_lock_was_sent_neither_locks_twice_nor_forgets(market, tmp_path):
    """The store says LOCKING for two leases; only the first transaction was mined before the
    crash. The restarted keeper takes the first as locked and locks the second again."""
    task_id = echo_task(market)
    workers = [market.account(6).address, market.account(7).address]
    path = tmp_path / "oracle.sqlite"
    before = keeper(market, path)
    before.store.add_stake_locks(
        task_id, [("1", workers[0]), ("2", workers[1])], StakeLockState.LOCKING
    )
    market.hub.lock_stake(before.scheduler, bytes.fromhex(task_id[2:]), [workers[0]])
    before.store.close()

    after = keeper(market, path)
    await after.reconcile(task_id)
    assert [(lock.lease_id, lock.state) for lock in after.store.stake_locks(task_id)] == [
        ("1", StakeLockState.LOCKED)
    ]
    await after.lock_new(
        task_id, [lease("1", workers[0], "SUCCESS"), lease("2", workers[1], "SUCCESS")]
    )
    assert [market.hub.locked_stake_of(a) for a in workers] == [LOCK, LOCK]
    assert market.hub.task(bytes.fromhex(task_id[2:])).open_locks == 2


async def test_a_restart_after_a_release_was_sent_takes_the_hub_count(market, tmp_path):
    task_id = echo_task(market)
    worker = market.account(6).address
    path = tmp_path / "oracle.sqlite"
    before = keeper(market, path)
    await before.lock_new(
        task_id, [lease("1", worker, "IN_PROGRESS"), lease("2", worker, "IN_PROGRESS")]
    )
    assert market.hub.locked_stake_of(worker) == 2 * LOCK
    before.store.set_stake_locks(["1", "2"], state=StakeLockState.RELEASING)
    market.hub.release_stake(before.scheduler, bytes.fromhex(task_id[2:]), [worker])  # one mined
    before.store.close()

    after = keeper(market, path)
    await after.reconcile(task_id)
    states = sorted(lock.state for lock in after.store.stake_locks(task_id))
    assert states == [StakeLockState.LOCKED, StakeLockState.RELEASED]
    assert market.hub.locked_stake_of(worker) == LOCK


async def test_the_locks_of_a_failed_task_are_all_released_once(market, tmp_path):
    from deskgrid.oracle.follower import ChainFollower
    from deskgrid.oracle.store import OracleTaskState

    task_id = echo_task(market)
    workers = [market.account(6).address, market.account(7).address]
    stakes = keeper(market, tmp_path / "oracle.sqlite")
    ChainFollower(
        market.chain, market.hub, stakes.store, pool_id=market.pool,
        start_block=market.deployment.block,
    ).poll()  # fmt: skip
    await stakes.lock_new(
        task_id, [lease("1", workers[0], "SUCCESS"), lease("2", workers[1], "IN_PROGRESS")]
    )
    await stakes.release_closed()  # still active: nothing happens
    assert [market.hub.locked_stake_of(a) for a in workers] == [LOCK, LOCK]
    market.hub.fail(stakes.scheduler, bytes.fromhex(task_id[2:]), "the grid could not compute it")
    stakes.store.update_task(task_id, state=OracleTaskState.FAILED)
    await stakes.release_closed()
    await stakes.release_closed()  # a second pass sends nothing
    assert [market.hub.locked_stake_of(a) for a in workers] == [0, 0]
    assert {lock.state for lock in stakes.store.stake_locks(task_id)} == {StakeLockState.RELEASED}
    assert [market.hub.reputation_of(a) for a in workers] == [(0, 0), (0, 0)]

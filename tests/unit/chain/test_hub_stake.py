"""Stake on the hub: staking and unstaking, contribution locks, slashing of out-voted
contributions, the pool owner's stake, the result digest check, pool ownership transfer and
scheduler rotation, on the embedded chain with the shipped contracts."""

import pytest
from eth_account import Account

from deskgrid.chain.contracts import (
    ZERO_ADDRESS,
    StakeInfo,
    TaskRequest,
    TaskStatus,
    result_digest,
)
from deskgrid.chain.listings import DEV_WORKER_STAKE, POOL_STAKE
from deskgrid.chain.reverts import ContractRevert

from .conftest import RLC

PRICE = 5 * RLC  # vanity 4 RLC + pool fee 1 RLC
LOCK = PRICE * 3_000 // 10_000  # 30 % of the price: one contribution, or the pool's per task
WORKERS_SHARE = RLC * 7_000 // 10_000  # of the pool fee
RESULT = b'{"address":"1Ab"}'
ROLE_WORKER, ROLE_SLASHED_STAKE = 2, 3


def paid_task(market, who=3, pool_id=None):
    market.fund(who, PRICE)
    request = TaskRequest(market.vanity, pool_id or market.pool, "{}", PRICE)
    return market.hub.pay_and_request(market.sender(who), market.rlc, request)


def refused(error: str, action) -> ContractRevert:
    with pytest.raises(ContractRevert) as err:
        action()
    assert err.value.name == error
    return err.value


def finalize(market, task_id, workers, weights, losers=(), sender=None):
    return market.hub.finalize(
        sender or market.scheduler,
        task_id,
        result_digest(RESULT),
        RESULT,
        workers,
        weights,
        list(losers),
    )


def test_deployment_stakes_for_the_pool_owner_and_the_development_accounts(market):
    scheduler = market.roles.scheduler.address
    assert market.hub.stake_of(scheduler) == POOL_STAKE + DEV_WORKER_STAKE
    assert market.hub.stake_of(market.account(6).address) == DEV_WORKER_STAKE
    assert market.hub.balance_of(market.roles.deployer.address) == 0  # it staked what it put in


def test_stake_and_unstake_move_free_escrow(market):
    market.deposit(3, 10 * RLC)
    alice = market.account(3).address
    result = market.hub.stake(market.sender(3), 4 * RLC)
    [event] = market.hub.events("Staked", result.receipt)
    assert (event["args"]["account"], event["args"]["from"]) == (alice, alice)
    assert market.hub.stake_of(alice) == DEV_WORKER_STAKE + 4 * RLC
    assert market.hub.balance_of(alice) == 6 * RLC
    refused("InsufficientBalance", lambda: market.hub.stake(market.sender(3), 7 * RLC))
    refused("ZeroAmount", lambda: market.hub.stake(market.sender(3), 0))
    result = market.hub.unstake(market.sender(3), DEV_WORKER_STAKE + 4 * RLC)
    [event] = market.hub.events("Unstaked", result.receipt)
    assert event["args"]["amount"] == DEV_WORKER_STAKE + 4 * RLC
    assert market.hub.stake_of(alice) == 0
    assert market.hub.balance_of(alice) == 10 * RLC + DEV_WORKER_STAKE
    refused("InsufficientStake", lambda: market.hub.unstake(market.sender(3), 1))


def test_a_sponsor_stakes_for_a_worker_who_alone_can_unstake_it(market):
    market.deposit(4, 3 * RLC)
    worker = Account.create().address
    result = market.hub.stake_for(market.sender(4), worker, 3 * RLC)
    [event] = market.hub.events("Staked", result.receipt)
    assert (event["args"]["account"], event["args"]["from"]) == (worker, market.account(4).address)
    assert market.hub.stake_of(worker) == 3 * RLC
    # The sponsor's unstake takes from its own stake only.
    sponsor_stake = market.hub.stake_of(market.account(4).address)
    refused("InsufficientStake", lambda: market.hub.unstake(market.sender(4), sponsor_stake + 1))
    assert market.hub.stake_of(worker) == 3 * RLC
    refused("ZeroAddress", lambda: market.hub.stake_for(market.sender(4), ZERO_ADDRESS, 1))


def test_a_locked_contribution_cannot_be_unstaked_and_an_honest_one_is_unlocked_and_paid(market):
    task_id = paid_task(market)
    worker = market.account(6).address
    assert market.hub.contribution_stake(task_id) == LOCK
    result = market.hub.lock_stake(market.scheduler, task_id, [worker])
    [event] = market.hub.events("StakeLocked", result.receipt)
    assert (event["args"]["account"], event["args"]["amount"]) == (worker, LOCK)
    assert market.hub.locked_stake_of(worker) == LOCK
    assert market.hub.contribution_locks(task_id, worker) == 1
    err = refused(
        "InsufficientStake", lambda: market.hub.unstake(market.sender(6), DEV_WORKER_STAKE)
    )
    assert "stake" in str(err)
    market.hub.unstake(market.sender(6), DEV_WORKER_STAKE - LOCK)  # the unlocked part may go

    result = finalize(market, task_id, [worker], [1])
    assert market.hub.locked_stake_of(worker) == 0
    assert market.hub.stake_of(worker) == LOCK
    assert market.hub.balance_of(worker) == DEV_WORKER_STAKE - LOCK + WORKERS_SHARE
    assert market.hub.reputation_of(worker) == (1, 0)
    [unlocked] = market.hub.events("StakeUnlocked", result.receipt)[-1:]
    assert (unlocked["args"]["account"], unlocked["args"]["amount"]) == (worker, LOCK)
    [changed] = market.hub.events("ReputationChanged", result.receipt)
    assert changed["args"]["account"] == worker and changed["args"]["taskId"] == task_id
    assert (changed["args"]["wins"], changed["args"]["losses"]) == (1, 0)


def test_an_out_voted_contribution_loses_its_stake_to_the_honest_by_weight(market):
    task_id = paid_task(market)
    honest = [market.account(6).address, market.account(7).address]
    cheat = market.account(8).address
    market.hub.lock_stake(market.scheduler, task_id, [*honest, cheat])
    result = finalize(market, task_id, honest, [1, 2], [cheat])
    [slashed] = market.hub.events("Slashed", result.receipt)
    assert slashed["args"]["account"] == cheat and slashed["args"]["amount"] == LOCK
    assert slashed["args"]["to"] == ZERO_ADDRESS  # shared among the honest contributors
    assert market.hub.stake_of(cheat) == DEV_WORKER_STAKE - LOCK
    assert market.hub.locked_stake_of(cheat) == 0
    assert market.hub.reputation_of(cheat) == (0, 1)
    assert market.hub.balance_of(cheat) == 0
    shares = {
        (e["args"]["account"], e["args"]["role"]): e["args"]["amount"]
        for e in market.hub.events("Rewarded", result.receipt)
    }
    assert shares[(honest[0], ROLE_SLASHED_STAKE)] == LOCK * 1 // 3
    assert shares[(honest[1], ROLE_SLASHED_STAKE)] == LOCK * 2 // 3
    for w, weight in zip(honest, [1, 2], strict=True):
        expected = WORKERS_SHARE * weight // 3 + LOCK * weight // 3
        assert market.hub.balance_of(w) == expected
        assert market.hub.stake_of(w) == DEV_WORKER_STAKE
        assert market.hub.reputation_of(w) == (1, 0)
    # The pool owner gets its fee's rest and the rounding dust of the seized stake.
    pool_owner = market.roles.scheduler.address
    dust = LOCK - LOCK * 1 // 3 - LOCK * 2 // 3
    paid = WORKERS_SHARE * 1 // 3 + WORKERS_SHARE * 2 // 3
    assert market.hub.balance_of(pool_owner) == RLC - paid + dust


def test_without_an_honest_contributor_the_seized_stake_goes_to_the_pool_owner(market):
    task_id = paid_task(market)
    cheat = market.account(8).address
    market.hub.lock_stake(market.scheduler, task_id, [cheat])
    finalize(market, task_id, [], [], [cheat])
    assert market.hub.stake_of(cheat) == DEV_WORKER_STAKE - LOCK
    assert market.hub.balance_of(market.roles.scheduler.address) == RLC + LOCK


def test_an_honest_contribution_nobody_staked_for_is_paid_without_stake(market):
    """A result the grid verified needs no stake: its contributor, even one with no stake at
    all, is paid, and nothing of any stake moves; only a locked contribution can be slashed."""
    task_id = paid_task(market)
    fresh, staked = Account.create().address, market.account(6).address
    refused("InsufficientStake", lambda: market.hub.lock_stake(market.scheduler, task_id, [fresh]))
    refused("NoLockedContribution", lambda: finalize(market, task_id, [fresh], [1], [staked]))
    result = finalize(market, task_id, [fresh, staked], [1, 1])
    assert market.hub.balance_of(fresh) == WORKERS_SHARE // 2
    assert market.hub.balance_of(staked) == WORKERS_SHARE // 2
    assert market.hub.stake_info(fresh) == StakeInfo(0, 0, 0, 0)
    assert market.hub.stake_info(staked) == StakeInfo(DEV_WORKER_STAKE, 0, 0, 0)
    assert market.hub.events("ReputationChanged", result.receipt) == []
    assert market.hub.events("StakeUnlocked", result.receipt)[0]["args"]["account"] == (
        market.roles.scheduler.address  # the pool owner's lock only
    )
    assert len(market.hub.events("StakeUnlocked", result.receipt)) == 1


def test_locked_and_unlocked_honest_contributions_settle_together(market):
    task_id = paid_task(market)
    locked, fresh = market.account(6).address, Account.create().address
    market.hub.lock_stake(market.scheduler, task_id, [locked])
    finalize(market, task_id, [fresh, locked], [1, 1])
    assert market.hub.stake_info(locked) == StakeInfo(DEV_WORKER_STAKE, 0, 1, 0)
    assert market.hub.stake_info(fresh) == StakeInfo(0, 0, 0, 0)
    assert market.hub.balance_of(fresh) == market.hub.balance_of(locked) == WORKERS_SHARE // 2


def test_every_locked_contribution_is_settled_by_finalize_or_released(market):
    task_id = paid_task(market)
    a, b = market.account(6).address, market.account(7).address
    market.hub.lock_stake(market.scheduler, task_id, [a, b])
    refused("UnsettledContributions", lambda: finalize(market, task_id, [a], [1]))
    refused("NotScheduler", lambda: market.hub.release_stake(market.sender(6), task_id, [b]))
    market.hub.release_stake(market.scheduler, task_id, [b])  # its lease expired
    assert market.hub.locked_stake_of(b) == 0 and market.hub.reputation_of(b) == (0, 0)
    refused(
        "NoLockedContribution", lambda: market.hub.release_stake(market.scheduler, task_id, [b])
    )
    finalize(market, task_id, [a], [1])
    assert market.hub.balance_of(b) == 0


def test_locks_of_a_failed_task_are_released_by_anyone(market):
    task_id = paid_task(market)
    worker = market.account(6).address
    market.hub.lock_stake(market.scheduler, task_id, [worker])
    market.hub.fail(market.scheduler, task_id, "gave up")
    market.hub.release_stake(market.sender(9), task_id, [worker])
    assert market.hub.locked_stake_of(worker) == 0
    assert market.hub.stake_of(worker) == DEV_WORKER_STAKE


def test_nobody_but_the_scheduler_locks_or_finalizes(market):
    task_id = paid_task(market)
    worker = market.account(6).address
    refused("NotScheduler", lambda: market.hub.lock_stake(market.sender(6), task_id, [worker]))
    refused("NotScheduler", lambda: finalize(market, task_id, [worker], [1], sender=market.owner))
    refused("NotScheduler", lambda: market.hub.fail(market.sender(3), task_id, "no"))


def test_finalize_checks_the_results_against_their_digest(market):
    task_id = paid_task(market)
    wrong = lambda: market.hub.finalize(  # noqa: E731
        market.scheduler, task_id, result_digest(b"other"), RESULT, [], []
    )
    refused("ResultDigestMismatch", wrong)
    # A result too large to post: only its digest is recorded.
    market.hub.finalize(market.scheduler, task_id, result_digest(b"large"), b"", [], [])
    task = market.hub.task(task_id)
    assert task.status is TaskStatus.COMPLETED
    assert task.result_digest == result_digest(b"large") and task.results == b""


def test_a_paid_request_locks_the_pool_owners_stake_until_the_task_closes(market):
    pool_owner = market.roles.scheduler.address
    task_id = paid_task(market)
    assert market.hub.locked_stake_of(pool_owner) == LOCK
    task = market.hub.task(task_id)
    assert (task.pool_staker, task.pool_stake_locked) == (pool_owner, LOCK)
    market.hub.fail(market.scheduler, task_id, "gave up")
    assert market.hub.locked_stake_of(pool_owner) == 0
    assert market.hub.stake_of(pool_owner) == POOL_STAKE + DEV_WORKER_STAKE


def test_a_pool_below_the_minimum_stake_takes_no_paid_request(market):
    stake = market.hub.stake_of(market.roles.scheduler.address)
    market.hub.unstake(market.scheduler, stake - 10 * RLC + 1)
    market.fund(3, PRICE)
    request = TaskRequest(market.vanity, market.pool, "{}", PRICE)
    err = refused(
        "PoolStakeTooLow", lambda: market.hub.pay_and_request(market.sender(3), market.rlc, request)
    )
    assert "10 RLC" in str(err)
    assert market.rlc.balance_of(market.account(3).address) == PRICE  # nothing moved


def test_pool_ownership_moves_in_two_steps_and_the_scheduler_key_rotates(market):
    old_owner, new_owner = market.scheduler, market.sender(8)
    refused(
        "NotPoolOwner",
        lambda: market.hub.propose_pool_owner(new_owner, market.pool, "0x" + "8" * 40),
    )
    market.hub.propose_pool_owner(old_owner, market.pool, new_owner.address)
    assert market.hub.pool(market.pool).pending_owner == new_owner.address
    refused(
        "NotPendingPoolOwner",
        lambda: market.hub.accept_pool_ownership(market.sender(7), market.pool),
    )
    before = paid_task(market)  # locked the old owner's stake
    result = market.hub.accept_pool_ownership(new_owner, market.pool)
    [moved] = market.hub.events("PoolOwnershipTransferred", result.receipt)
    assert (moved["args"]["previousOwner"], moved["args"]["newOwner"]) == (
        old_owner.address,
        new_owner.address,
    )
    pool = market.hub.pool(market.pool)
    assert (pool.owner, pool.pending_owner) == (new_owner.address, ZERO_ADDRESS)
    # The scheduler key stays until the new owner rotates it; the old owner cannot any more.
    assert pool.scheduler == old_owner.address
    refused(
        "NotPoolOwner",
        lambda: market.hub.set_pool_scheduler(old_owner, market.pool, old_owner.address),
    )
    rotated = market.sender(9)
    market.hub.set_pool_scheduler(new_owner, market.pool, rotated.address)
    assert market.hub.pool(market.pool).scheduler == rotated.address
    refused("NotScheduler", lambda: finalize(market, before, [], [], sender=old_owner))
    finalize(market, before, [], [], sender=rotated)
    # The task requested before the transfer released the old owner's stake; the fee goes to
    # the pool's owner now.
    assert market.hub.locked_stake_of(old_owner.address) == 0
    assert market.hub.balance_of(new_owner.address) == RLC
    # New requests lock the new owner's stake.
    after = paid_task(market)
    assert market.hub.task(after).pool_staker == new_owner.address
    assert market.hub.locked_stake_of(new_owner.address) == LOCK


def test_a_free_tasks_locks_are_settled_too(market):
    free = market.hub.register_app(market.owner, "free", "builtin:echo@1.0.0", b"\0" * 32, 0)
    pool = market.hub.register_pool(market.sender(5), "free pool", 0, 7_000)
    request = TaskRequest(free, pool, "{}", 0)
    task_id = market.hub.request_task(market.sender(3), request)
    worker = Account.create().address  # no stake: a free task locks nothing
    assert market.hub.contribution_stake(task_id) == 0
    market.hub.lock_stake(market.sender(5), task_id, [worker])
    market.hub.finalize(market.sender(5), task_id, result_digest(b"r"), b"r", [worker], [1])
    assert market.hub.task(task_id).open_locks == 0
    assert market.hub.reputation_of(worker) == (1, 0)


def test_stake_info_reads_stake_lock_and_reputation(market):
    task_id = paid_task(market)
    locked = market.account(7).address
    market.hub.unstake(market.sender(7), DEV_WORKER_STAKE - LOCK)
    market.hub.lock_stake(market.scheduler, task_id, [locked])  # its last free stake
    info = market.hub.stake_info(locked)
    assert (info.amount, info.locked, info.free) == (LOCK, LOCK, 0)
    finalize(market, task_id, [locked], [1])
    assert market.hub.stake_info(locked) == StakeInfo(LOCK, 0, 1, 0)

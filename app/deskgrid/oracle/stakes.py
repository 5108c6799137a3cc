"""The stake behind the replicas of a staked task (an app without a verifier).

Each stakeholder given a replica (a grid lease) has one contribution's stake locked on the hub
(`lockStake`, one transaction per step and task for all the new leases) as soon as the oracle
sees the lease. When the grid's vote is accepted each locked lease gets its outcome: a VALID
lease wins (finalize unlocks it with a win), an INVALID one loses (finalize slashes it to the
winners), any other (expired, released, cancelled, unfinished) is released first, without
reward nor penalty. A failed or claimed task releases every lock still open.

Every lock and release is written to the store before its transaction (LOCKING, RELEASING);
after a crash, the hub's count of the stakeholder's locks on the task tells which of them were
mined, so a restart neither locks twice nor forgets a lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from deskgrid.chain.contracts import HubContract
from deskgrid.chain.reverts import ChainError, ContractRevert
from deskgrid.chain.transactions import TxSender
from deskgrid.oracle.store import (
    OracleStore,
    OracleTaskState,
    StakeLock,
    StakeLockState,
    StakeOutcome,
)

log = logging.getLogger(__name__)

# a lease in one of these states ended without a vote: nothing to lock for it
VOTELESS_LEASE_STATES = frozenset({"EXPIRED", "RELEASED", "CANCELLED"})


def stakeholder_of(lease: Any) -> str:
    """The account whose stake stands behind a lease: the payout the worker signed in with
    (one person's many worker keys paid to one payout are one stakeholder), else the worker."""
    return getattr(lease, "owner", None) or lease.payout or lease.worker


@dataclass(frozen=True)
class Settlement:
    """What finalize is sent with, and what becomes of each locked lease."""

    workers: list[tuple[str, int]]  # winners (VALID leases' stakeholders), weight = count
    outcomes: dict[str, StakeOutcome]  # locked lease id -> outcome


def settlement(leases: Iterable[Any], locked: dict[str, str]) -> Settlement:
    """Winners, losers and releases of a completed job, from its leases and the locked ones
    (lease id -> stakeholder). Finalize settles one lock per winner and one per loser listed:
    a winner's further locks are released first, and a stakeholder whose lock failed is paid
    if it won and never listed as a loser."""
    weights: Counter[str] = Counter()
    outcomes: dict[str, StakeOutcome] = {}
    winning_lock: set[str] = set()  # stakeholders whose win already settles one lock
    for lease in sorted(leases, key=lambda item: item.id):
        account = stakeholder_of(lease)
        if lease.state == "VALID":
            weights[account] += 1
        if lease.id not in locked:
            continue
        if lease.state == "INVALID":
            outcomes[lease.id] = StakeOutcome.LOSE
        elif lease.state == "VALID" and account not in winning_lock:
            winning_lock.add(account)
            outcomes[lease.id] = StakeOutcome.WIN
        else:
            outcomes[lease.id] = StakeOutcome.RELEASE
    for lease_id in locked:  # a locked lease the job no longer lists
        outcomes.setdefault(lease_id, StakeOutcome.RELEASE)
    return Settlement(sorted(weights.items()), outcomes)


class StakeKeeper:
    """Locks, releases and records the stake of a task's replicas for the oracle."""

    def __init__(self, hub: HubContract, scheduler: TxSender, store: OracleStore) -> None:
        self.hub = hub
        self.scheduler = scheduler
        self.store = store

    # -- recovery -----------------------------------------------------------------------

    async def reconcile(self, task_id: str) -> None:
        """Resolve the locks and releases of `task_id` whose transaction may or may not have
        been mined (a crash or a network error while it was sent), from the hub's count."""
        locks = self.store.stake_locks(task_id)
        pending = {
            lock.account
            for lock in locks
            if lock.state in (StakeLockState.LOCKING, StakeLockState.RELEASING)
        }
        for account in sorted(pending):
            on_chain = await asyncio.to_thread(
                self.hub.contribution_locks, _task_bytes(task_id), account
            )
            mine = [lock for lock in locks if lock.account == account]
            held = sum(1 for lock in mine if lock.state is StakeLockState.LOCKED)
            locking = [lock.lease_id for lock in mine if lock.state is StakeLockState.LOCKING]
            releasing = [lock.lease_id for lock in mine if lock.state is StakeLockState.RELEASING]
            if locking:
                mined = max(0, min(on_chain - held - len(releasing), len(locking)))
                self.store.set_stake_locks(locking[:mined], state=StakeLockState.LOCKED)
                self.store.forget_stake_locks(locking[mined:])  # locked again if still due
            if releasing:
                still = max(0, min(on_chain - held, len(releasing)))
                self.store.set_stake_locks(releasing[:still], state=StakeLockState.LOCKED)
                self.store.set_stake_locks(releasing[still:], state=StakeLockState.RELEASED)

    # -- locking ------------------------------------------------------------------------

    async def lock_new(self, task_id: str, leases: Iterable[Any]) -> None:
        """Lock the stake of every stakeholder given a lease not locked yet, in one
        transaction; a stakeholder without the free stake is dropped and the rest locked."""
        known = {lock.lease_id for lock in self.store.stake_locks(task_id)}
        batch = [
            (lease.id, stakeholder_of(lease))
            for lease in sorted(leases, key=lambda item: item.id)
            if lease.id not in known and lease.state not in VOTELESS_LEASE_STATES
        ]
        if not batch:
            return
        self.store.add_stake_locks(task_id, batch, StakeLockState.LOCKING)
        while batch:
            try:
                result = await asyncio.to_thread(
                    self.hub.lock_stake,
                    self.scheduler,
                    _task_bytes(task_id),
                    [account for _, account in batch],
                )
            except ContractRevert as exc:
                self.scheduler.resync_nonce()
                if exc.name == "TaskNotActive":  # closed meanwhile: nothing more to lock
                    self.store.forget_stake_locks([lease_id for lease_id, _ in batch])
                    return
                if exc.name != "InsufficientStake":
                    raise
                short = str(exc.args_by_name.get("account", "")).lower()
                dropped = [lease_id for lease_id, account in batch if account.lower() == short]
                if not dropped:  # not one of ours: something else is wrong
                    raise
                log.info(
                    "task %s: %s has not enough free stake left, its replica is not locked",
                    task_id, exc.args_by_name["account"],
                )  # fmt: skip
                self.store.set_stake_locks(dropped, state=StakeLockState.UNLOCKABLE)
                batch = [item for item in batch if item[0] not in dropped]
                continue
            except ChainError:
                self.scheduler.resync_nonce()
                raise
            accounts = [account for _, account in batch]
            self.store.set_stake_locks(
                [lease_id for lease_id, _ in batch], state=StakeLockState.LOCKED
            )
            self.store.add_event(
                task_id, "stake_locked", {"workers": accounts, "tx": result.tx_hash}
            )
            log.info(
                "task %s locked stake of %d worker(s): tx %s, gas %d",
                task_id, len(accounts), result.tx_hash, result.gas_used,
            )  # fmt: skip
            return

    # -- settling -----------------------------------------------------------------------

    def decide(self, task_id: str, leases: Iterable[Any]) -> list[tuple[str, int]]:
        """Record the outcome of every locked lease of a completed job; returns the winners
        with their weights (every VALID lease's stakeholder, locked or not)."""
        locked = {
            lock.lease_id: lock.account
            for lock in self.store.stake_locks(task_id)
            if lock.state is StakeLockState.LOCKED
        }
        plan = settlement(leases, locked)
        for outcome in StakeOutcome:
            chosen = [lease_id for lease_id, o in plan.outcomes.items() if o is outcome]
            if chosen:
                self.store.set_stake_locks(chosen, outcome=outcome)
        return plan.workers

    def losers(self, task_id: str) -> list[str]:
        """The locked stakeholders the vote out-voted, once per lost lease."""
        return [
            lock.account
            for lock in self.store.stake_locks(task_id)
            if lock.state is StakeLockState.LOCKED and lock.outcome is StakeOutcome.LOSE
        ]

    async def release_voteless(self, task_id: str) -> None:
        """Before finalize: release the locks of leases that ended without a vote."""
        await self._release(
            task_id,
            [
                lock
                for lock in self.store.stake_locks(task_id)
                if lock.state is StakeLockState.LOCKED and lock.outcome is StakeOutcome.RELEASE
            ],
            "their replica ended without a vote",
        )

    def finalized(self, task_id: str) -> int:
        """Finalize is mined: it settled every lock left; returns how many were slashed."""
        settled = [
            lock for lock in self.store.stake_locks(task_id) if lock.state is StakeLockState.LOCKED
        ]
        if settled:
            self.store.set_stake_locks(
                [lock.lease_id for lock in settled], state=StakeLockState.SETTLED
            )
        slashed = sum(1 for lock in settled if lock.outcome is StakeOutcome.LOSE)
        if slashed:
            log.info("task %s slashed %d out-voted contribution(s)", task_id, slashed)
        return slashed

    async def release_closed(self) -> None:
        """Release every lock still open of a failed or claimed task (nobody wins nor loses;
        the hub lets anyone release them once the task is closed)."""
        for task_id in self.store.tasks_with_stake_locks(
            StakeLockState.LOCKED, StakeLockState.RELEASING, StakeLockState.LOCKING
        ):
            task = self.store.task(task_id)
            if task is None or task.state not in (OracleTaskState.FAILED, OracleTaskState.CLOSED):
                continue
            await self.reconcile(task_id)
            await self._release(
                task_id,
                [
                    lock
                    for lock in self.store.stake_locks(task_id)
                    if lock.state is StakeLockState.LOCKED
                ],
                "the task is closed",
            )

    async def _release(self, task_id: str, locks: list[StakeLock], why: str) -> None:
        if not locks:
            return
        lease_ids = [lock.lease_id for lock in locks]
        accounts = [lock.account for lock in locks]
        self.store.set_stake_locks(lease_ids, state=StakeLockState.RELEASING)
        try:
            result = await asyncio.to_thread(
                self.hub.release_stake, self.scheduler, _task_bytes(task_id), accounts
            )
        except ChainError:
            self.scheduler.resync_nonce()
            raise  # the next step reconciles from the hub's count
        self.store.set_stake_locks(lease_ids, state=StakeLockState.RELEASED)
        self.store.add_event(task_id, "stake_released", {"workers": accounts, "tx": result.tx_hash})
        log.info(
            "task %s released stake of %d worker(s), %s: tx %s",
            task_id, len(accounts), why, result.tx_hash,
        )  # fmt: skip


def _task_bytes(task_id: str) -> bytes:
    return bytes.fromhex(task_id[2:])

"""Random sequences of deposit / request / approveAndCall / finalize / fail / claim / withdraw
against a model of the escrow. After every step: RLC is conserved (wallets + hub = supply),
the hub holds exactly what its accounts are owed, every balance and lock matches the model,
nothing is paid twice, refunds happen only when the rules allow them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from deskgrid.chain.contracts import TaskRequest, TaskStatus
from deskgrid.chain.reverts import ContractRevert

from .conftest import RLC, TEST_LISTINGS, Market

USERS = (3, 4, 5)
WORKERS = (6, 7, 8)
CATEGORY_SECONDS = {0: 600, 1: 3000}
POOL_FEE, WORKER_BPS = RLC, 7000


@dataclass
class ModelTask:
    requester: str
    app_price: int
    deadline: int
    status: TaskStatus = TaskStatus.ACTIVE


def make_machine(market: Market):
    app_prices = {item.name: item.price for item in TEST_LISTINGS}
    roles = market.roles
    holders = [market.account(i).address for i in USERS + WORKERS] + [
        roles.deployer.address,
        roles.scheduler.address,
    ]

    class EscrowMachine(RuleBasedStateMachine):
        tasks = Bundle("tasks")

        def __init__(self) -> None:
            super().__init__()
            self.m = market
            self.balance = {a: market.hub.balance_of(a) for a in holders}
            self.locked = {a: 0 for a in holders}
            self.model: dict[bytes, ModelTask] = {}

        # -- helpers -----------------------------------------------------------------
        def expect(self, error: str | None, action) -> object:
            if error is None:
                return action()
            with pytest.raises(ContractRevert) as err:
                action()
            assert err.value.name == error
            return None

        def addr(self, index: int) -> str:
            return self.m.account(index).address

        def new_task(self, requester: str, app: str, category: int, task_id: bytes) -> bytes:
            price = app_prices[app] + POOL_FEE
            self.locked[requester] += price
            self.balance[requester] -= price
            now = self.m.chain.timestamp()
            deadline = now + CATEGORY_SECONDS[category]
            self.model[task_id] = ModelTask(requester, app_prices[app], deadline)
            return task_id

        # -- rules -------------------------------------------------------------------
        @rule(user=st.sampled_from(USERS), amount=st.integers(0, 12).map(lambda n: n * RLC // 2))
        def deposit(self, user, amount):
            who = self.addr(user)
            if amount:
                self.m.fund(user, amount)
                self.m.rlc.approve(self.m.sender(user), self.m.hub.address, amount)
            error = "ZeroAmount" if amount == 0 else None
            self.expect(error, lambda: self.m.hub.deposit(self.m.sender(user), amount))
            if error is None:
                self.balance[who] += amount

        @rule(
            target=tasks,
            user=st.sampled_from(USERS),
            app=st.sampled_from(["vanity", "echo"]),
            category=st.sampled_from([0, 1]),
        )
        def request(self, user, app, category):
            who = self.addr(user)
            price = app_prices[app] + POOL_FEE
            req = TaskRequest(self.m.deployment.apps[app], self.m.pool, "{}", price, category)
            if self.balance[who] < price:
                sender = self.m.sender(user)
                self.expect("InsufficientBalance", lambda: self.m.hub.request_task(sender, req))
                return b"\0" * 32
            task_id = self.m.hub.request_task(self.m.sender(user), req)
            return self.new_task(who, app, category, task_id)

        @rule(
            target=tasks,
            user=st.sampled_from(USERS),
            app=st.sampled_from(["vanity", "echo"]),
            extra=st.integers(0, 3),
            category=st.sampled_from([0, 1]),
        )
        def pay_and_request(self, user, app, extra, category):
            who = self.addr(user)
            price = app_prices[app] + POOL_FEE
            amount = price + extra * RLC
            self.m.fund(user, amount)
            req = TaskRequest(self.m.deployment.apps[app], self.m.pool, "{}", price, category)
            task_id = self.m.hub.pay_and_request(self.m.sender(user), self.m.rlc, req, amount)
            self.balance[who] += amount
            return self.new_task(who, app, category, task_id)

        @rule(
            task_id=tasks,
            workers=st.lists(st.sampled_from(WORKERS), max_size=3, unique=True),
            weights=st.lists(st.integers(1, 5), min_size=3, max_size=3),
        )
        def finalize(self, task_id, workers, weights):
            addrs = [self.addr(w) for w in workers]
            weights = weights[: len(workers)]
            task = self.model.get(task_id)
            hub, scheduler = self.m.hub, self.m.scheduler
            call = lambda: hub.finalize(scheduler, task_id, b"\1" * 32, b"r", addrs, weights)  # noqa: E731
            if task is None:
                return self.expect("UnknownTask", call)
            if task.status is not TaskStatus.ACTIVE:
                return self.expect("TaskNotActive", call)
            if self.m.chain.timestamp() >= task.deadline:
                return self.expect("DeadlinePassed", call)
            call()
            task.status = TaskStatus.COMPLETED
            self.locked[task.requester] -= task.app_price + POOL_FEE
            self.balance[self.m.roles.deployer.address] += task.app_price
            workers_total = POOL_FEE * WORKER_BPS // 10_000 if addrs else 0
            paid = 0
            for a, w in zip(addrs, weights, strict=True):
                share = workers_total * w // sum(weights)
                self.balance[a] += share
                paid += share
            self.balance[self.m.roles.scheduler.address] += POOL_FEE - paid

        def refund(self, task: ModelTask) -> None:
            task.status = TaskStatus.FAILED
            price = task.app_price + POOL_FEE
            self.locked[task.requester] -= price
            self.balance[task.requester] += price

        @rule(task_id=tasks)
        def fail(self, task_id):
            task = self.model.get(task_id)
            call = lambda: self.m.hub.fail(self.m.scheduler, task_id, "gave up")  # noqa: E731
            if task is None:
                return self.expect("UnknownTask", call)
            if task.status is not TaskStatus.ACTIVE:
                return self.expect("TaskNotActive", call)
            call()
            self.refund(task)

        @rule(task_id=tasks, claimer=st.sampled_from(USERS + WORKERS))
        def claim(self, task_id, claimer):
            task = self.model.get(task_id)
            call = lambda: self.m.hub.claim(self.m.sender(claimer), task_id)  # noqa: E731
            if task is None:
                return self.expect("UnknownTask", call)
            if task.status is not TaskStatus.ACTIVE:
                return self.expect("TaskNotActive", call)
            if self.m.chain.timestamp() < task.deadline:
                return self.expect("TooEarlyToClaim", call)
            call()
            self.refund(task)

        @rule(who=st.sampled_from(USERS + WORKERS + (0, 2)), part=st.integers(0, 4))
        def withdraw(self, who, part):
            address = self.addr(who)
            have = self.balance[address]
            amount = have * part // 3  # part 4 asks for more than there is
            call = lambda: self.m.hub.withdraw(self.m.sender(who), amount)  # noqa: E731
            if amount == 0:
                return self.expect("ZeroAmount", call)
            if amount > have:
                return self.expect("InsufficientBalance", call)
            call()
            self.balance[address] -= amount

        @rule()
        def time_passes(self):
            self.m.chain.advance_time(700)

        # -- invariants --------------------------------------------------------------
        @invariant()
        def escrow_matches_the_model(self):
            for a in holders:
                assert self.m.hub.balance_of(a) == self.balance[a], a
                assert self.m.hub.locked_of(a) == self.locked[a], a
            # RLC is conserved: every token is in a wallet or owed by the hub.
            supply = self.m.rlc.total_supply()
            # Tokens only ever move between these: the faucet funds users, who pay the hub.
            everyone = holders + [self.m.roles.faucet.address]
            wallets = sum(self.m.rlc.balance_of(a) for a in everyone)
            in_hub = self.m.rlc.balance_of(self.m.hub.address)
            assert wallets + in_hub == supply
            assert in_hub == sum(self.balance.values()) + sum(self.locked.values())
            # Nothing is paid twice and refunds happen only when allowed: statuses agree.
            for task_id, task in self.model.items():
                assert self.m.hub.task_status(task_id) is task.status

    return EscrowMachine


def test_escrow_invariants(deployed_chain):
    chain, roles, deployment, snapshot = deployed_chain

    def fresh_machine():
        from deskgrid.chain.contracts import HubContract, RLCToken, VanityRequesterContract

        chain.revert(snapshot)
        market = Market(
            chain,
            roles,
            deployment,
            RLCToken(chain, deployment.rlc),
            HubContract(chain, deployment.hub),
            VanityRequesterContract(chain, deployment.vanity_requester),
            {},
        )
        return make_machine(market)()

    run_state_machine_as_test(
        fresh_machine,
        settings=settings(
            max_examples=6,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

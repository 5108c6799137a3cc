"""Random sequences of deposit / request / approveAndCall (at random trust levels: the price is
the app's price + the pool fee times the level) / finalize / fail / claim / withdraw / price
changes, of stake / unstake / contribution locks / finalizations with out-voted contributions,
and of several users paying through the VanityRequester (level 1; underpaying, overpaying,
naming a maximum below the price), taking refunds and trying to take others', against a model
of the escrow and the stakes with a refund per payer. After every step: RLC is conserved
(wallets + hub = supply), the hub holds exactly what its accounts are owed and staked, every
wallet, balance, lock, stake, locked stake and reputation matches the model (so slashed stake
lands where documented: the honest contributors by weight, the pool owner when there are
none, the beneficiary of a claimed task), nothing is paid twice, locked stake is never
unstaked, refunds happen only when the rules allow them; the VanityRequester's escrow on the
hub is exactly the refunds it owes (and its lock the prices of its active tasks), nobody
takes back more than they paid through it, and no task is refunded twice."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from deskgrid.chain.contracts import ZERO_ADDRESS, TaskRequest, TaskStatus, result_digest
from deskgrid.chain.reverts import ContractRevert
from deskgrid.chain.trust import MAX_TRUST, MIN_TRUST, task_price

from .conftest import RLC, TEST_LISTINGS, Market

USERS = (3, 4, 5)
WORKERS = (6, 7, 8)
CATEGORY_SECONDS = {0: 600, 1: 3000}
POOL_FEE, WORKER_BPS = RLC, 7000
TRUST_LEVELS = st.integers(MIN_TRUST, MAX_TRUST)
STAKE_BPS = 3000  # of a task's price: each contribution's lock, and the pool owner's per task
MIN_POOL_STAKE = 10 * RLC


@dataclass
class ModelTask:
    requester: str
    app_price: int
    pool_fee: int  # the pool's fee times the task's trust level
    deadline: int
    status: TaskStatus = TaskStatus.ACTIVE
    callback: str | None = None
    payer: str | None = None  # who paid it through the VanityRequester
    owed: int = 0  # the refund the VanityRequester owes the payer if the task fails
    beneficiary: str = ""
    pool_lock: int = 0  # the pool owner's stake the task locked
    locks: dict[str, int] | None = None  # contributions locked by `lockStake`

    @property
    def price(self) -> int:
        return self.app_price + self.pool_fee

    @property
    def contribution_stake(self) -> int:
        return self.price * STAKE_BPS // 10_000


def make_machine(market: Market):
    roles = market.roles
    vr = market.requester.address
    holders = [market.account(i).address for i in USERS + WORKERS] + [
        roles.deployer.address,
        roles.scheduler.address,
        vr,
    ]

    class EscrowMachine(RuleBasedStateMachine):
        tasks = Bundle("tasks")

        def __init__(self) -> None:
            super().__init__()
            self.m = market
            self.balance = {a: market.hub.balance_of(a) for a in holders}
            self.locked = {a: 0 for a in holders}
            self.wallet = {a: market.rlc.balance_of(a) for a in holders}
            self.app_prices = {item.name: item.price for item in TEST_LISTINGS}
            self.model: dict[bytes, ModelTask] = {}
            self.paid_through_vr = {self.addr(u): 0 for u in USERS}
            self.refunded_by_vr = {self.addr(u): 0 for u in USERS}
            self.start_block = market.chain.w3.eth.block_number
            stakers = [a.address for a in market.chain.dev_accounts]
            self.stake = {a: market.hub.stake_of(a) for a in stakers}
            self.stake_locked = {a: 0 for a in stakers}
            self.reputation = {a: (0, 0) for a in stakers}
            self.pool_owner = roles.scheduler.address

        def free_stake(self, who: str) -> int:
            return self.stake[who] - self.stake_locked[who]

        def pool_refusal(self, price: int) -> str | None:
            """What a request of `price` meets on the pool owner's stake, by the model."""
            if self.stake[self.pool_owner] < MIN_POOL_STAKE:
                return "PoolStakeTooLow"
            if self.free_stake(self.pool_owner) < price * STAKE_BPS // 10_000:
                return "InsufficientStake"
            return None

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

        def fund(self, user: int, amount: int) -> None:
            if amount:
                self.m.fund(user, amount)
                self.wallet[self.addr(user)] += amount

        def new_task(
            self, requester: str, app: str, category: int, task_id: bytes, trust=1, **extra
        ) -> bytes:
            price = task_price(self.app_prices[app], POOL_FEE, trust)
            self.locked[requester] += price
            self.balance[requester] -= price
            now = self.m.chain.timestamp()
            deadline = now + CATEGORY_SECONDS[category]
            task = ModelTask(requester, self.app_prices[app], POOL_FEE * trust, deadline, **extra)
            assert self.m.hub.task(task_id).trust == trust
            task.beneficiary = task.payer or requester
            task.pool_lock = price * STAKE_BPS // 10_000
            task.locks = {}
            self.stake_locked[self.pool_owner] += task.pool_lock
            self.model[task_id] = task
            return task_id

        def refund_expectation(self, task_id: bytes, user: str) -> str | None:
            """What `withdrawRefund(task_id)` sent by `user` must do, by the model."""
            task = self.model.get(task_id)
            if task is None or task.payer != user:
                return "NotYourRequest"
            if task.status is not TaskStatus.FAILED or task.owed == 0:
                return "NotRefundable"
            return None

        def waiting_refund(self, other_than: str) -> bytes | None:
            """A refund waiting in the VanityRequester's escrow for someone else."""
            for task_id, task in self.model.items():
                if task.status is TaskStatus.FAILED and task.owed and task.payer != other_than:
                    return task_id
            return None

        # -- rules -------------------------------------------------------------------
        @initialize(target=tasks, user=st.sampled_from(USERS))
        def start(self, user):
            """Every run starts with someone's refund waiting in the VanityRequester's escrow,
            the state the theft needs (until its payer takes it)."""
            task_id = self.pay_through_vanity_requester(user, "price", "price", 0)
            self.fail(task_id)
            return task_id

        @rule(user=st.sampled_from(USERS), amount=st.integers(0, 12).map(lambda n: n * RLC // 2))
        def deposit(self, user, amount):
            who = self.addr(user)
            if amount:
                self.fund(user, amount)
                self.m.rlc.approve(self.m.sender(user), self.m.hub.address, amount)
            error = "ZeroAmount" if amount == 0 else None
            self.expect(error, lambda: self.m.hub.deposit(self.m.sender(user), amount))
            if error is None:
                self.balance[who] += amount
                self.wallet[who] -= amount

        @rule(
            target=tasks,
            user=st.sampled_from(USERS),
            app=st.sampled_from(["vanity", "echo"]),
            category=st.sampled_from([0, 1]),
            to_vr=st.booleans(),
            trust=TRUST_LEVELS,
        )
        def request(self, user, app, category, to_vr, trust):
            """A request on the hub itself; with the VanityRequester as its callback it gets the
            results there, but no refund rights."""
            who = self.addr(user)
            price = task_price(self.app_prices[app], POOL_FEE, trust)
            callback = vr if to_vr else ZERO_ADDRESS
            req = TaskRequest(
                self.m.deployment.apps[app], self.m.pool, "{}", price, category, callback,
                trust=trust,
            )  # fmt: skip
            sender = self.m.sender(user)
            if self.balance[who] < price:
                self.expect("InsufficientBalance", lambda: self.m.hub.request_task(sender, req))
                return b"\0" * 32
            if refusal := self.pool_refusal(price):
                self.expect(refusal, lambda: self.m.hub.request_task(sender, req))
                return b"\0" * 32
            task_id = self.m.hub.request_task(self.m.sender(user), req)
            return self.new_task(who, app, category, task_id, trust, callback=callback)

        @rule(
            target=tasks,
            user=st.sampled_from(USERS),
            app=st.sampled_from(["vanity", "echo"]),
            extra=st.integers(0, 3),
            category=st.sampled_from([0, 1]),
            trust=TRUST_LEVELS,
        )
        def pay_and_request(self, user, app, extra, category, trust):
            who = self.addr(user)
            price = task_price(self.app_prices[app], POOL_FEE, trust)
            amount = price + extra * RLC
            self.fund(user, amount)
            req = TaskRequest(
                self.m.deployment.apps[app], self.m.pool, "{}", price, category, trust=trust
            )
            sender = self.m.sender(user)
            call = lambda: self.m.hub.pay_and_request(sender, self.m.rlc, req, amount)  # noqa: E731
            if refusal := self.pool_refusal(price):
                return self.expect(refusal, call) or b"\0" * 32
            task_id = call()
            self.balance[who] += amount
            self.wallet[who] -= amount
            return self.new_task(who, app, category, task_id, trust)

        @rule(
            target=tasks,
            user=st.sampled_from(USERS),
            pay=st.sampled_from(["1 nRLC", "price - 1", "price", "price + 1 nRLC", "+3 RLC"]),
            maximum=st.sampled_from(["price - 1", "price", "+2 RLC"]),
            category=st.sampled_from([0, 1]),
        )
        def pay_through_vanity_requester(self, user, pay, maximum, category):
            """`RLC.approveAndCall(vanityRequester, amount, (params, maxPrice, category))`:
            underpayments and a maximum below the price are refused; otherwise exactly the
            price leaves the wallet, whatever the amount approved."""
            who = self.addr(user)
            price = task_price(self.app_prices["vanity"], POOL_FEE, 1)
            amount = {
                "1 nRLC": 1,
                "price - 1": price - 1,
                "price": price,
                "price + 1 nRLC": price + 1,
                "+3 RLC": price + 3 * RLC,
            }[pay]
            max_price = {"price - 1": price - 1, "price": price, "+2 RLC": price + 2 * RLC}[maximum]
            self.fund(user, amount)
            request = lambda: self.m.requester.request(  # noqa: E731
                self.m.sender(user), self.m.rlc, "{}", max_price, category, amount=amount
            )
            if max_price < price:
                return self.expect("PriceAboveMax", request) or b"\0" * 32
            if amount < price:
                return self.expect("Underpaid", request) or b"\0" * 32
            if refusal := self.pool_refusal(price):
                return self.expect(refusal, request) or b"\0" * 32
            task_id = request()
            self.wallet[who] -= price
            self.balance[vr] += price  # deposited by the contract, then locked below
            self.paid_through_vr[who] += price
            return self.new_task(
                vr, "vanity", category, task_id, callback=vr, payer=who, owed=price
            )

        @rule(task_id=tasks, user=st.sampled_from(("its payer", *USERS)))
        def withdraw_refund(self, task_id, user):
            task = self.model.get(task_id)
            if user == "its payer":
                payer = task.payer if task is not None else None
                user = next((u for u in USERS if self.addr(u) == payer), USERS[0])
            who = self.addr(user)
            error = self.refund_expectation(task_id, who)
            call = lambda: self.m.requester.withdraw_refund(self.m.sender(user), task_id)  # noqa: E731
            if error is not None:
                return self.expect(error, call)
            call()
            event("refund taken by its payer")
            self.balance[vr] -= task.owed
            self.wallet[who] += task.owed
            self.refunded_by_vr[who] += task.owed
            task.owed = 0

        @rule(thief=st.sampled_from(USERS), victim=tasks)
        def underpay_then_take_a_waiting_refund(self, thief, victim):
            """The theft a shared pot allowed: while another user's refund waits in the
            VanityRequester's escrow, pay 1 nRLC for a task (refused), then try to take that
            refund, or any other that is not the thief's (refused)."""
            who = self.addr(thief)
            waiting = self.waiting_refund(other_than=who)
            event("theft tried while a refund waits" if waiting else "theft tried, pot empty")
            self.fund(thief, 1)
            underpay = lambda: self.m.requester.request(  # noqa: E731
                self.m.sender(thief), self.m.rlc, "{}", 10 * RLC, 0, amount=1
            )
            self.expect("Underpaid", underpay)
            for task_id in {waiting, victim} - {None}:
                if self.refund_expectation(task_id, who) is not None:
                    call = lambda t=task_id: self.m.requester.withdraw_refund(  # noqa: E731
                        self.m.sender(thief), t
                    )
                    self.expect(self.refund_expectation(task_id, who), call)

        @rule(price=st.sampled_from([3 * RLC, 4 * RLC, 5 * RLC]))
        def reprice_vanity(self, price):
            """The app owner changes the price; active tasks keep the price they locked."""
            self.m.hub.set_app_price(self.m.owner, self.m.vanity, price)
            self.app_prices["vanity"] = price

        @rule(who=st.sampled_from(USERS + WORKERS), part=st.integers(0, 4))
        def stake(self, who, part):
            """Stake a part of the free escrow (part 4: more than there is)."""
            address = self.addr(who)
            amount = self.balance[address] * part // 3
            call = lambda: self.m.hub.stake(self.m.sender(who), amount)  # noqa: E731
            if amount == 0:
                return self.expect("ZeroAmount", call)
            if amount > self.balance[address]:
                return self.expect("InsufficientBalance", call)
            call()
            self.balance[address] -= amount
            self.stake[address] += amount

        @rule(who=st.sampled_from(USERS + WORKERS + (2,)), part=st.integers(0, 4))
        def unstake(self, who, part):
            """Unstake a part of the whole stake: more than its unlocked part is refused."""
            address = self.addr(who)
            amount = self.stake[address] * part // 3
            call = lambda: self.m.hub.unstake(self.m.sender(who), amount)  # noqa: E731
            if amount == 0:
                return self.expect("ZeroAmount", call)
            if amount > self.free_stake(address):
                if amount <= self.stake[address]:
                    event("unstake of locked stake refused")
                return self.expect("InsufficientStake", call)
            call()
            self.stake[address] -= amount
            self.balance[address] += amount

        @rule(task_id=tasks, workers=st.lists(st.sampled_from(WORKERS), max_size=2, unique=True))
        def lock_stake(self, task_id, workers):
            """The scheduler locks the stake of the workers given a replica."""
            addrs = [self.addr(w) for w in workers]
            task = self.model.get(task_id)
            call = lambda: self.m.hub.lock_stake(self.m.scheduler, task_id, addrs)  # noqa: E731
            if task is None:
                return self.expect("UnknownTask", call)
            if task.status is not TaskStatus.ACTIVE:
                return self.expect("TaskNotActive", call)
            if any(self.free_stake(a) < task.contribution_stake for a in addrs):
                return self.expect("InsufficientStake", call)
            call()
            for a in addrs:
                self.stake_locked[a] += task.contribution_stake
                task.locks[a] = task.locks.get(a, 0) + 1

        @rule(
            task_id=tasks,
            workers=st.lists(st.sampled_from(WORKERS), max_size=3, unique=True),
            weights=st.lists(st.integers(1, 5), min_size=3, max_size=3),
            losers=st.integers(0, 2),
        )
        def finalize(self, task_id, workers, weights, losers):
            """The last `losers` of the workers drawn were out-voted."""
            cut = max(0, len(workers) - losers)
            addrs = [self.addr(w) for w in workers[:cut]]
            lost = [self.addr(w) for w in workers[cut:]]
            weights = weights[: len(addrs)]
            task = self.model.get(task_id)
            hub, scheduler = self.m.hub, self.m.scheduler
            digest = result_digest(b"r")
            call = lambda: hub.finalize(scheduler, task_id, digest, b"r", addrs, weights, lost)  # noqa: E731
            if task is None:
                return self.expect("UnknownTask", call)
            if task.status is not TaskStatus.ACTIVE:
                return self.expect("TaskNotActive", call)
            if self.m.chain.timestamp() >= task.deadline:
                return self.expect("DeadlinePassed", call)
            per = task.contribution_stake
            if any(not task.locks.get(a) for a in lost):
                return self.expect("NoLockedContribution", call)
            if any(n > (a in lost + addrs) for a, n in task.locks.items()):
                return self.expect("UnsettledContributions", call)
            call()
            event(f"finalized with {len(lost)} out-voted")
            task.status = TaskStatus.COMPLETED
            if task.callback == vr:
                assert self.m.requester.has_result(task_id)
            self.locked[task.requester] -= task.price
            self.stake_locked[self.pool_owner] -= task.pool_lock
            self.balance[self.m.roles.deployer.address] += task.app_price
            for a in lost + addrs:
                if not task.locks.get(a):
                    continue  # an honest contribution nobody staked for is only paid
                task.locks[a] -= 1
                self.stake_locked[a] -= per
                wins, losses = self.reputation[a]
                self.reputation[a] = (wins + 1, losses) if a in addrs else (wins, losses + 1)
            seized = per * len(lost)
            for a in lost:
                self.stake[a] -= per
            workers_total = task.pool_fee * WORKER_BPS // 10_000 if addrs else 0
            paid = seized_paid = 0
            for a, w in zip(addrs, weights, strict=True):
                share = workers_total * w // sum(weights)
                from_losers = seized * w // sum(weights)
                self.balance[a] += share + from_losers
                paid += share
                seized_paid += from_losers
            self.balance[self.pool_owner] += task.pool_fee - paid + seized - seized_paid

        def refund(self, task: ModelTask) -> None:
            task.status = TaskStatus.FAILED
            self.locked[task.requester] -= task.price
            self.balance[task.requester] += task.price
            self.stake_locked[self.pool_owner] -= task.pool_lock

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
            # The pool did not finalize in time: its stake the task locked goes to the
            # beneficiary (the payer of a task paid through the VanityRequester).
            self.stake[self.pool_owner] -= task.pool_lock
            self.balance[task.beneficiary] += task.pool_lock

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
            self.wallet[address] += amount

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
            staked = sum(self.stake.values())
            assert in_hub == sum(self.balance.values()) + sum(self.locked.values()) + staked
            for a in self.stake:
                assert self.m.hub.stake_of(a) == self.stake[a], a
                assert self.m.hub.locked_stake_of(a) == self.stake_locked[a], a
                assert self.m.hub.reputation_of(a) == self.reputation[a], a
            # Nothing is paid twice and refunds happen only when allowed: statuses agree.
            for task_id, task in self.model.items():
                assert self.m.hub.task_status(task_id) is task.status
            # Every wallet holds what the model says: nobody got RLC they were not owed.
            for a in holders:
                assert self.m.rlc.balance_of(a) == self.wallet[a], a

        @invariant()
        def the_vanity_requester_owes_exactly_its_escrow(self):
            owed = locked = 0
            for task_id, task in self.model.items():
                if task.payer is None:
                    continue
                record = self.m.requester.request_of(task_id)
                assert (record.user, record.amount) == (task.payer, task.owed)
                if task.status is TaskStatus.FAILED:
                    owed += record.amount
                elif task.status is TaskStatus.ACTIVE:
                    locked += record.amount
            assert self.m.hub.balance_of(vr) == owed  # its escrow = the unclaimed refunds
            assert self.m.hub.locked_of(vr) == locked  # its lock = its active tasks' prices
            assert self.m.rlc.balance_of(vr) == 0  # it keeps no RLC of its own
            # Nobody is refunded twice, and nobody takes back more than they paid through it:
            # counted from the contract's own refund events.
            refunds: dict[bytes, int] = {}
            refunded = dict.fromkeys(self.refunded_by_vr, 0)
            for log in self.m.requester.logs("VanityRefunded", self.start_block):
                task_id = bytes(log["args"]["taskId"])
                refunds[task_id] = refunds.get(task_id, 0) + 1
                assert log["args"]["user"] == self.model[task_id].payer
                refunded[log["args"]["user"]] += log["args"]["amount"]
            assert all(n == 1 for n in refunds.values()), refunds
            assert refunded == self.refunded_by_vr
            for user, amount in refunded.items():
                assert amount <= self.paid_through_vr[user], user

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
            max_examples=8,
            stateful_step_count=20,
            deadline=None,
            # No "explain" phase: tracing every line of the EVM would take minutes to report
            # a failure that the shrunk steps already show.
            phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

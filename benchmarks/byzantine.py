"""Byzantine workers against a real grid, oracle and chain: wrong results paid, and who earns.

How much wrong work gets paid, and who earns what, when part of the workers attack.

Each scenario starts its own anvil chain with the default deployment (the test apps listed),
a `deskgrid grid serve` process and a `deskgrid oracle` process on loopback, stakes each
group's stakeholders on the hub (the honest workers 70 % of the stake, the attackers 30 %),
signs in simulated workers (coroutines with their own keys and payout addresses, on the real
HTTP API through `GridClient`, see byzantine_workers.py) and pays tasks of the test app
`checksum` (a deterministic answer with no verifier) at trust level `--trust`: first
`--warmup` tasks at level 2 that only the honest workers compute (their history on the grid: a
running pool, which the attackers then join), not counted, then `--tasks` tasks with every
group at work. When every task is closed on chain, the figures are read from the chain (`Rewarded`
and `Slashed` events of those tasks, their prices, the finalized digests against the app's
true answer) and from the grid (who was given each replica):

- `colluding_minority`: 3 stakeholders of 10 return one agreed wrong value per job;
- `random_wrong`: 3 of 10 return random bytes;
- `trust_then_betrayal`: 3 of 10 are honest for the first half of the tasks, then collude;
- `many_identities`: one person with 10 keys paid to one staked payout (30 % of the stake),
  and 10 more keys without any stake, all colluding;
- `lease_hoarding`: 3 of 10 take all the leases they may and never report;
- `error_griefing`: 3 of 10 report an error for every lease.

    python benchmarks/byzantine.py [--tasks N] [--scenario NAME ...] [--trust L]
        [--warmup N] [--seed S] [--json]

`--json` prints `{"scenarios": {NAME: {...}}}`; every scenario has `wrong_results_paid`,
`unstaked_earned_rlc`, `honest_pay_share`, `honest_stake_share`, `requester_cost_ratio`,
`tasks`, `groups` ({group: work_share, pay_share, stake_share, earned_rlc, slashed_rlc}),
`slashed_rlc`, `replicas_per_task`, `trust_level`, `seconds`, and `completed_tasks`,
`failed_tasks`, `unfinished_tasks`, `setup_seconds`, `warmup_tasks` and `refusals` (the grid's
refusals each group met: leases gone, quotas). Without it, a table. Figures:
docs/benchmarks.md "Byzantine workers".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from byzantine_metrics import HONEST, GroupTally, TaskOutcome, scenario_figures, table
from byzantine_workers import Crew, GroupPlan, GroupState, Identity, identities_of
from byzantine_workers import true_answer as app_answer
from grid_throughput import PYTHONPATH, REPO, TOKEN, start_server

from deskgrid.apps.registry import get_app
from deskgrid.apps.sdk import AppSpec
from deskgrid.argtypes import whole_number
from deskgrid.chain.connection import connect
from deskgrid.chain.contracts import HubContract, RLCToken, TaskRequest, TaskStatus, result_digest
from deskgrid.chain.deployment import Roles, deploy
from deskgrid.chain.transactions import TxSender
from deskgrid.chain.trust import MAX_TRUST, MIN_TRUST, describe_levels
from deskgrid.grid.client import GridClient
from deskgrid.money import NRLC_PER_RLC

APP = "checksum"  # tests/testapps.py: no verifier, so its results are replicated and voted
STAKE = 20 * NRLC_PER_RLC  # per stakeholder of a group of separate stakeholders
LEASE_SECONDS = 5.0  # the grid's lease length: a hoarded replica goes back to the queue after it
SCENARIO_TIMEOUT = 240.0  # seconds; tasks still open then are reported as unfinished
TASK_DEFAULT = 30
WARMUP_DEFAULT = 10
WARMUP_TRUST = 2  # the standard level: new workers can reach it (levels 3+ need a history)


def _honest_and(attackers: str, behaviour: str) -> tuple[GroupPlan, ...]:
    """7 honest stakeholders and 3 attacking ones, 20 RLC of stake each (70 % against 30 %)."""
    return (
        GroupPlan(HONEST, "honest", 7, 7, STAKE),
        GroupPlan(attackers, behaviour, 3, 3, STAKE),
    )


SCENARIOS: dict[str, tuple[GroupPlan, ...]] = {
    "colluding_minority": _honest_and("colluders", "collude"),
    "random_wrong": _honest_and("random", "random"),
    "trust_then_betrayal": _honest_and("betrayers", "betray"),
    "many_identities": (
        GroupPlan(HONEST, "honest", 7, 7, STAKE),
        GroupPlan("sybil", "collude", 10, 1, 3 * STAKE),  # one person: 10 keys, one payout
        GroupPlan("unstaked", "collude", 10, 10, 0),  # the same person's keys with no stake
    ),
    "lease_hoarding": _honest_and("hoarders", "hoard"),
    "error_griefing": _honest_and("griefers", "grief"),
}


# ---------------------------------------------------------------- the real parts


def _env(home: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=PYTHONPATH, DESKGRID_HOME=str(home), PYTHONUNBUFFERED="1")


class Stack:
    """anvil with the default deployment and the groups' stakes, a grid server process and an
    oracle process; `close()` stops what was started."""

    def __init__(self, folder: Path, stakes: dict[str, int]) -> None:

        self._exit = ExitStack()
        try:
            self.chain = connect("anvil")
            self._exit.callback(self.chain.close)
            self.roles = Roles.dev(self.chain)
            self.deployment = deploy(
                self.chain, self.roles, with_test_apps=True, worker_stakes=stakes
            )
            self.hub = HubContract(self.chain, self.deployment.hub)
            self.rlc = RLCToken(self.chain, self.deployment.rlc)
            grid, self.grid_url = start_server(
                f"sqlite:///{folder / 'grid.db'}",
                folder / "grid",
                "--delay-bound", str(LEASE_SECONDS), "--reap-interval", "0.2",
                "--login-rate-limit", "0", "--address-rate-limit", "0",
                "--chain-rpc", self.chain.url or "", "--hub", self.deployment.hub,
                catalog="deskgrid.grid.catalog:builtin_catalog",
            )  # fmt: skip
            self._exit.callback(_stop, grid)
            self.oracle_log = folder / "oracle.out"
            with self.oracle_log.open("w") as out:
                oracle = subprocess.Popen(
                    [
                        sys.executable, "-m", "deskgrid.cli", "oracle",
                        "--chain", self.chain.url or "", "--hub", self.deployment.hub,
                        "--grid", self.grid_url, "--grid-token", TOKEN,
                        "--confirmations", "0", "--poll", "0.2",
                        "--db", str(folder / "oracle.sqlite"),
                    ],
                    cwd=REPO, env=_env(folder / "oracle"), stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
            self._exit.callback(_stop, oracle)
        except BaseException:
            self._exit.close()
            raise

    def close(self) -> None:
        self._exit.close()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# ---------------------------------------------------------------- the requester


def task_request(stack: Stack, text: str, trust: int) -> TaskRequest:
    """A paid request of the app at `trust`: the app's price + the pool fee × the level."""

    app_id, pool_id = stack.deployment.apps[APP], stack.deployment.pool_id
    price = stack.hub.price_of(app_id, pool_id, trust)
    return TaskRequest(app_id, pool_id, json.dumps({"text": text}), price, trust=trust)


def pay_tasks(stack: Stack, texts: list[str], trust: int) -> list[bytes]:

    requests = [task_request(stack, text, trust) for text in texts]
    user = stack.chain.dev_accounts[3]
    faucet = TxSender(stack.chain, stack.roles.faucet)
    stack.rlc.transfer(faucet, user.address, sum(r.max_price for r in requests))
    sender = TxSender(stack.chain, user)
    return [stack.hub.pay_and_request(sender, stack.rlc, request) for request in requests]


async def wait_queued(stack: Stack, task_ids: list[bytes], until: float) -> None:
    """Until the oracle has put every task on the grid (or closed it on chain)."""

    waiting = list(task_ids)
    async with GridClient(stack.grid_url, token=TOKEN) as grid:
        while waiting and time.monotonic() < until:
            waiting = [
                task_id
                for task_id in waiting
                if await grid.find_job("0x" + task_id.hex()) is None
                and await asyncio.to_thread(stack.hub.task_status, task_id) is TaskStatus.ACTIVE
            ]
            if waiting:
                await asyncio.sleep(0.2)


async def wait_closed(stack: Stack, task_ids: list[bytes], until: float) -> None:

    open_ = list(task_ids)
    while open_ and time.monotonic() < until:
        open_ = [
            task_id
            for task_id in open_
            if await asyncio.to_thread(stack.hub.task_status, task_id) is TaskStatus.ACTIVE
        ]
        if open_:
            await asyncio.sleep(0.5)


# ---------------------------------------------------------------- one scenario


async def run_scenario(
    name: str, tasks: int, trust: int, seed: int, warmup: int
) -> dict[str, object]:

    app = get_app(APP)
    plans = SCENARIOS[name]
    identities = [i for plan in plans for i in identities_of(plan, "byzantine", seed, name)]
    random.Random(f"{seed}:{name}").shuffle(identities)  # no group first in the grid's queue
    stake_of = {plan.name: plan.stake for plan in plans}
    stakes = {i.stakeholder: stake_of[i.group] for i in identities}
    states = {plan.name: GroupState() for plan in plans}
    behaviours = {plan.name: plan.behaviour for plan in plans}
    texts = [f"byzantine {name} {seed} task {n}" for n in range(tasks)]
    # The betrayers turn after the first half.
    split = tasks // 2 if "betray" in behaviours.values() else 0
    batches = [batch for batch in (texts[:split], texts[split:]) if batch]
    honest = [i for i in identities if i.group == HONEST]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="deskgrid-byzantine-") as tmp:
        stack = await asyncio.to_thread(Stack, Path(tmp), {k: v for k, v in stakes.items() if v})
        try:
            async with Crew(stack.grid_url, behaviours, app, states) as crew:
                # The honest workers have a history on the grid (validated results in a row)
                # before the attackers join: a running pool, not one born with the attack.
                await crew.sign_in(honest)
                warm = [f"byzantine {name} {seed} warm-up {n}" for n in range(warmup)]
                await pay_in_batches(stack, crew, [warm] if warm else [], WARMUP_TRUST)
                await crew.sign_in([i for i in identities if i.group != HONEST])
                staked = {p: await asyncio.to_thread(stack.hub.stake_of, p) for p in stakes}
                ready = time.monotonic()
                task_ids = await pay_in_batches(stack, crew, batches, trust, split > 0)
                ran = time.monotonic() - ready
            figures = await collect(stack, identities, staked, task_ids, app)
        except BaseException:
            log = stack.oracle_log.read_text(errors="replace")[-2000:]
            print(
                f"scenario {name} did not finish; the oracle's last output:\n{log}", file=sys.stderr
            )
            raise
        finally:
            await asyncio.to_thread(stack.close)
    figures["trust_level"] = trust
    figures["seconds"] = round(ran, 1)
    figures["setup_seconds"] = round(ready - started, 1)
    figures["warmup_tasks"] = warmup
    figures["refusals"] = {group: state.counts["refused"] for group, state in states.items()}
    return figures


async def pay_in_batches(
    stack: Stack, crew: Crew, batches: list[list[str]], trust: int, betrayal: bool = False
) -> list[bytes]:
    """Pay each batch of tasks and let the workers at it once the grid has it all queued (a
    backlog, as a busy pool has: who gets which replica is the grid's choice, not a race with
    the requester); the next batch waits until the last is closed on chain, and with
    `betrayal` the groups' `betraying` switch is on from the second batch. Returns the task
    ids."""
    deadline = time.monotonic() + SCENARIO_TIMEOUT
    task_ids: list[bytes] = []
    for number, batch in enumerate(batches):
        await wait_closed(stack, task_ids, deadline)
        crew.go.clear()
        for state in crew.states.values():
            state.betraying = betrayal and number > 0
        paid = await asyncio.to_thread(pay_tasks, stack, batch, trust)
        await wait_queued(stack, paid, deadline)
        task_ids += paid
        crew.go.set()
    await wait_closed(stack, task_ids, deadline)
    return task_ids


async def collect(
    stack: Stack,
    identities: list[Identity],
    stakes: dict[str, int],
    task_ids: list[bytes],
    app: AppSpec,
) -> dict[str, object]:
    """The scenario's figures from the chain (pay, slashes, prices, digests) and the grid (who
    was given each replica); `stakes` are the stakeholders' stakes read when it started."""

    group_of_key = {i.account.address.lower(): i.group for i in identities}
    group_of_payee = {i.stakeholder.lower(): i.group for i in identities}
    groups = sorted(set(group_of_key.values()), key=lambda g: (g != "honest", g))
    leases = dict.fromkeys(groups, 0)
    async with GridClient(stack.grid_url, token=TOKEN) as grid:
        for task_id in task_ids:
            found = await grid.find_job("0x" + task_id.hex())
            job = await grid.get_job(found.id) if found else None
            for lease in (job.leases or []) if job else []:
                group = group_of_key.get(lease.worker.lower())
                if group is not None:
                    leases[group] += 1
    ours = set(task_ids)
    start = stack.deployment.block
    rewarded = await asyncio.to_thread(stack.hub.logs, "Rewarded", start)
    slashed = await asyncio.to_thread(stack.hub.logs, "Slashed", start)
    earned, lost = dict.fromkeys(groups, 0), dict.fromkeys(groups, 0)
    for event in rewarded:
        args = event["args"]
        group = group_of_payee.get(args["account"].lower())
        if group and bytes(args["taskId"]) in ours and args["role"] in (2, 3):
            earned[group] += args["amount"]
    for event in slashed:
        group = group_of_payee.get(event["args"]["account"].lower())
        if group and bytes(event["args"]["taskId"]) in ours:
            lost[group] += event["args"]["amount"]
    stake = dict.fromkeys(groups, 0)
    for payee, amount in stakes.items():
        stake[group_of_payee[payee.lower()]] += amount
    outcomes = []
    for task_id in task_ids:
        info = await asyncio.to_thread(stack.hub.task, task_id)
        truth = result_digest(app_answer(app, json.loads(info.params)))
        outcomes.append(TaskOutcome(info.status.name, info.price, info.result_digest == truth))
    tallies = {g: GroupTally(stake[g], leases[g], earned[g], lost[g]) for g in groups}
    single = stack.hub.price_of(stack.deployment.apps[APP], stack.deployment.pool_id, 1)
    return scenario_figures(tallies, outcomes, single)


# ---------------------------------------------------------------- command line


def machine() -> str:
    try:
        load = f", load average {os.getloadavg()[0]:.2f}"
    except OSError:
        load = ""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}{load}"


async def run_all(
    names: list[str], tasks: int, trust: int, seed: int, warmup: int
) -> dict[str, object]:
    scenarios = {}
    for name in names:
        scenarios[name] = await run_scenario(name, tasks, trust, seed, warmup)
    return {"scenarios": scenarios}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tasks", type=whole_number(1, 10_000, "a number of tasks"), default=TASK_DEFAULT,
        help=f"paid tasks per scenario (default {TASK_DEFAULT})",
    )  # fmt: skip
    parser.add_argument(
        "--scenario", action="append", choices=list(SCENARIOS), metavar="NAME",
        help=f"a scenario to run (repeatable; default all: {', '.join(SCENARIOS)})",
    )  # fmt: skip
    parser.add_argument(
        "--trust",
        type=whole_number(MIN_TRUST, MAX_TRUST, "a trust level"),
        default=2,
        help=f"the tasks' trust level, {describe_levels()} (default 2)",
    )
    parser.add_argument(
        "--warmup", type=whole_number(0, 10_000, "a number of tasks"), default=WARMUP_DEFAULT,
        help="tasks the honest workers compute before the attackers join, not counted "
        f"(their history on the grid; default {WARMUP_DEFAULT}, 0: a grid born with the attack)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="derives the workers' keys")
    parser.add_argument("--json", action="store_true", help="print only the JSON figures")
    args = parser.parse_args()
    import deskgrid

    if not Path(deskgrid.__file__).is_relative_to(REPO / "app"):
        parser.error(f"run it with this checkout's package: PYTHONPATH={REPO / 'app'}")
    sys.path.append(str(REPO))  # the test apps (DESKGRID_APP_MODULES) live with the tests
    names = list(dict.fromkeys(args.scenario or SCENARIOS))
    # Stopped with SIGTERM, it still stops the chain, grid and oracle it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    with tempfile.TemporaryDirectory(prefix="deskgrid-bench-") as home:
        os.environ.setdefault("DESKGRID_HOME", home)
        report = asyncio.run(run_all(names, args.tasks, args.trust, args.seed, args.warmup))
    report["machine"] = machine()
    print(json.dumps(report) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

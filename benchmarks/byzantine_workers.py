"""Simulated workers for benchmarks/byzantine.py: coroutines that sign in to a real grid with
their own keys (and payout addresses) through `GridClient`, ask for work on the real HTTP API
and report what their behaviour says.

Behaviours: `honest` computes the app's real answer; `collude` returns the value the group
agreed on for the job (one wrong value per job, the same for every member); `random` returns
random bytes; `betray` is honest until the group's `betraying` flag is set, then colludes;
`hoard` takes as many leases as it may and never reports them; `grief` reports an error for
every lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from deskgrid.apps.sdk import AppSpec, RunContext
from deskgrid.grid.client import GridClient, GridClientError
from deskgrid.grid.models import Capabilities, Lease

BEHAVIOURS = ("honest", "collude", "random", "betray", "hoard", "grief")
HOARD_CORES = 8  # what a hoarder claims to have, to be given the most leases at once
IDLE_WAIT = 1.0  # seconds a worker's request for work may be held when there is none


@dataclass(frozen=True)
class GroupPlan:
    """A group of identities in a scenario: `identities` worker keys, paid to `stakeholders`
    payout addresses (1: every key names the same payout; as many as the keys: each is paid at
    its own address), each stakeholder staking `stake` nRLC on the hub."""

    name: str
    behaviour: str
    identities: int
    stakeholders: int
    stake: int

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {self.behaviour!r}")
        if self.stakeholders not in (1, self.identities):
            raise ValueError("a group's keys share one payout, or each has its own")


@dataclass(frozen=True)
class Identity:
    group: str
    account: LocalAccount
    payout: str | None  # None: paid at its own address

    @property
    def stakeholder(self) -> str:
        return self.payout or self.account.address


def derive_account(*labels: object) -> LocalAccount:
    """A key derived from labels (scenario, seed, group, index): the same run makes the same
    identities."""
    return Account.from_key(keccak(text=":".join(str(label) for label in labels)))


def identities_of(plan: GroupPlan, *labels: object) -> list[Identity]:
    shared = None
    if plan.stakeholders == 1 and plan.identities > 1:
        shared = derive_account(*labels, plan.name, "payout").address
    return [
        Identity(plan.name, derive_account(*labels, plan.name, n), shared)
        for n in range(plan.identities)
    ]


def colluders_value(params: dict[str, Any]) -> bytes:
    """The wrong value colluders agree on for a job: the same for every member, different per
    job, never the app's answer."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return b"colluded:" + hashlib.sha256(canonical.encode()).hexdigest()[:32].encode()


@dataclass
class GroupState:
    """What a group's members share: the betrayal switch and their counts."""

    betraying: bool = False
    counts: Counter[str] = field(default_factory=Counter)


class Answer:
    """What a behaviour does with a lease: a result, an error, or nothing (kept)."""

    def __init__(self, result: bytes | None = None, error: str | None = None) -> None:
        self.result, self.error = result, error


def true_answer(app: AppSpec, params: dict[str, Any]) -> bytes:
    """The app's real answer, computed with its own run function."""
    with tempfile.TemporaryDirectory() as tmp:
        return app.load_run_function()(params, RunContext(Path(tmp), 1))


def answer(behaviour: str, app: AppSpec, lease: Lease, state: GroupState) -> Answer:
    if behaviour == "betray":
        behaviour = "collude" if state.betraying else "honest"
    if behaviour == "honest":
        return Answer(result=true_answer(app, lease.params))
    if behaviour == "collude":
        return Answer(result=colluders_value(lease.params))
    if behaviour == "random":
        return Answer(result=secrets.token_hex(16).encode())
    if behaviour == "grief":
        return Answer(error="The job ran out of memory.")
    return Answer()  # hoard


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_identity(
    url: str,
    identity: Identity,
    behaviour: str,
    app: AppSpec,
    state: GroupState,
    stop: asyncio.Event,
    go: asyncio.Event,
    ready: asyncio.Event | None = None,
) -> None:
    """Sign in, then (whenever `go` is set) ask for work and answer it as `behaviour` says,
    until `stop`. Refusals of the grid (a lease gone, a quota reached) are counted in
    `state.counts` and the worker goes on, as a stubborn attacker would."""
    hoarding = behaviour == "hoard"
    cores = HOARD_CORES if hoarding else 1
    caps = Capabilities(apps=[app.name], cores=cores, memory_mb=1024)
    async with GridClient(url) as client:
        await client.authenticate(identity.account, capabilities=caps, payout=identity.payout)
        if ready is not None:
            ready.set()
        while not stop.is_set():
            await go.wait()
            try:
                reply = await client.request_work(cores * 2 if hoarding else 1, wait=IDLE_WAIT)
            except GridClientError:
                state.counts["refused"] += 1
                await _pause(stop, IDLE_WAIT)
                continue
            if not reply.leases:
                await _pause(stop, min(reply.retry_after or 0.05, IDLE_WAIT))
                continue
            for lease in reply.leases:
                state.counts["leases"] += 1
                what = await asyncio.to_thread(answer, behaviour, app, lease, state)
                try:
                    if what.result is not None:
                        await client.upload_result(lease.lease_id, what.result)
                        state.counts["results"] += 1
                    elif what.error is not None:
                        await client.report_error(lease.lease_id, what.error)
                        state.counts["errors"] += 1
                except GridClientError:
                    state.counts["refused"] += 1


class Crew:
    """The running workers of a scenario: `async with Crew(...)`, then `await crew.sign_in(
    identities)` signs them in one after another (no sign-in storm; more can join later); they
    ask for work while `go` is set; leaving the block stops them (a worker's failure is raised
    there)."""

    def __init__(
        self, url: str, behaviours: dict[str, str], app: AppSpec, states: dict[str, GroupState]
    ) -> None:
        self.url, self.behaviours, self.app, self.states = url, behaviours, app, states
        self.stop, self.go = asyncio.Event(), asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Crew:
        return self

    async def __aexit__(self, kind: object, *_rest: object) -> None:
        await self._end(cancel=kind is not None)

    async def sign_in(self, identities: list[Identity]) -> None:
        for identity in identities:
            ready = asyncio.Event()
            worker = run_identity(
                self.url, identity, self.behaviours[identity.group], self.app,
                self.states[identity.group], self.stop, self.go, ready,
            )  # fmt: skip
            task = asyncio.create_task(worker)
            self._tasks.append(task)
            signed_in = asyncio.create_task(ready.wait())
            await asyncio.wait([task, signed_in], return_when=asyncio.FIRST_COMPLETED)
            signed_in.cancel()
            if task.done():
                task.result()  # its sign-in failed: say why

    async def _end(self, *, cancel: bool) -> None:
        self.stop.set()
        self.go.set()  # the workers waiting for it see `stop`
        if cancel:
            for task in self._tasks:
                task.cancel()
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        if not cancel:
            for result in results:
                if isinstance(result, BaseException):
                    raise result

"""The scheduler driven by random sequences of submissions, leases, results (honest, wrong,
undecidable), errors, heartbeats, lost workers and cancellations; after every step the rules
of docs/grid-api.md ("Job states") are checked against the rows in the database."""

from __future__ import annotations

import hashlib
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlalchemy import select

from deskgrid.apps.sdk import Resources
from deskgrid.grid.errors import Conflict
from deskgrid.grid.models import Heartbeat, ReplicationPolicy
from deskgrid.grid.quota import QUOTA_CEILING
from deskgrid.grid.retention import Retention
from deskgrid.grid.scheduler import Scheduler
from deskgrid.grid.schema import jobs, leases, workers
from deskgrid.grid.states import VOTING_LEASE_STATES, JobState, LeaseState
from tests.grid_fixtures import catalog, echo_result

from .conftest import Harness, make_harness

JOB_STATES = {state.value for state in JobState}
LEASE_STATES = {state.value for state in LeaseState}
OPEN = {JobState.PENDING.value, JobState.RUNNING.value}
MAX_WORKERS = 4
MAX_JOBS = 8  # a few jobs, so that most steps work on them
MAX_CANCELS = 2  # (a cancelled job takes no more steps)
UNKNOWN = b"unknown"  # what the `sum` verifier cannot judge


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@st.composite
def policies(draw) -> ReplicationPolicy:
    """Valid replication policies; any field may be left to the server's default."""
    target = draw(st.integers(1, 3))
    quorum = draw(st.integers(1, target))
    max_total = draw(st.integers(target, target + 2))
    fields = {
        "target_nresults": target,
        "min_quorum": quorum,
        "max_total_results": max_total,
        "max_error_results": draw(st.integers(1, 5)),
    }
    kept = {k: v for k, v in fields.items() if draw(st.booleans()) or draw(st.booleans())}
    return ReplicationPolicy(**kept, adaptive=draw(st.booleans()))


class GridMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._folder = tempfile.TemporaryDirectory()
        self._grid: Harness | None = None  # made by `start`
        self.workers: list[str] = []
        self.jobs: dict[str, tuple[str, bytes]] = {}  # id -> (app, honest result)
        self.unknown_sent: set[str] = set()  # sum jobs that got an undecidable result
        self.open_leases: dict[str, tuple[str, str]] = {}  # not yet answered: worker, job
        self.cancels = 0
        # leases of forgotten jobs, per worker and state (the workers' counters keep them)
        self.forgotten: Counter[tuple[str, str]] = Counter()

    @property
    def grid(self) -> Harness:
        assert self._grid is not None
        return self._grid

    @property
    def sched(self) -> Scheduler:
        return self.grid.scheduler

    def teardown(self) -> None:
        if self._grid is not None:
            self._grid.scheduler.db.close()
        self._folder.cleanup()

    # ------------------------------------------------------------------ helpers

    def _pick(self, items, index: int):
        keys = list(items)  # in the order they came: ids are random, the order is not
        return keys[index % len(keys)]

    def _lease_row(self, lease_id: str):
        with self.sched.db.read() as conn:
            return conn.execute(select(leases).where(leases.c.id == lease_id)).mappings().one()

    def _live(self, lease_id: str) -> bool:
        """The grid must accept a result for this lease now."""
        row = self._lease_row(lease_id)
        return row["state"] == LeaseState.IN_PROGRESS.value and (
            row["expires_at"] >= self.grid.clock.now()
        )

    def _tick_between_submissions(self) -> None:
        """Jobs queued at the same instant are leased in the order of their (random) ids: a
        second apart, the queue's order is their submission order, and every run the same."""
        self.grid.clock.advance(1)

    # ------------------------------------------------------------------ submitters

    @precondition(lambda self: len(self.jobs) < MAX_JOBS)
    @rule(
        message=st.sampled_from(["a", "b", "c"]),
        policy=policies(),
        deadline=st.sampled_from([None, None, None, 100, 1000]),
    )
    def submit_echo(self, message: str, policy: ReplicationPolicy, deadline) -> None:
        when = None if deadline is None else self.grid.clock.now() + deadline
        self._tick_between_submissions()
        job_id = self.grid.submit(params={"message": message}, policy=policy, deadline=when)
        self.jobs[job_id] = ("echo", echo_result({"message": message}))

    @precondition(lambda self: len(self.jobs) < MAX_JOBS)
    @rule(a=st.integers(0, 9), b=st.integers(0, 9), policy=policies())
    def submit_sum(self, a: int, b: int, policy: ReplicationPolicy) -> None:
        self._tick_between_submissions()
        job_id = self.grid.submit(app="sum", params={"a": a, "b": b}, policy=policy)
        self.jobs[job_id] = ("sum", str(a + b).encode())

    @precondition(lambda self: self.jobs and self.cancels < MAX_CANCELS)
    @rule(index=st.integers(0, 50))
    def cancel(self, index: int) -> None:
        self.cancels += 1
        job_id = self._pick(self.jobs, index)
        before = self.grid.job(job_id).state
        if before in (JobState.COMPLETED.value, JobState.ERROR.value):
            try:
                self.sched.cancel(job_id)
            except Conflict:
                return
            raise AssertionError(f"a {before} job was cancelled")
        assert self.sched.cancel(job_id).state == JobState.CANCELLED.value

    # ------------------------------------------------------------------ workers

    @initialize(trust_threshold=st.sampled_from([0, 1, 10]))
    def start(self, trust_threshold: int) -> None:
        """A fresh grid (trust reached at once, soon, or not within a run) and the two
        workers a vote needs."""
        self._grid = make_harness(
            Path(self._folder.name),
            trust_threshold=trust_threshold,
            spot_check_rate=0.25,
            job_retention_s=300.0,
            lease_grace_s=30.0,
            worker_quota_start=4,
            worker_quota_max=64,
            # short runs: hard deadlines come soon
            apps={
                name: replace(app, resources=Resources(max_seconds=1))
                for name, app in catalog().items()
            },
        )
        for _ in range(2):
            self.register_worker()

    @precondition(lambda self: len(self.workers) < MAX_WORKERS)
    @rule()
    def register_worker(self) -> None:
        self.workers.append(self.grid.worker(len(self.workers) + 1))

    @precondition(lambda self: self.workers)
    @rule(index=st.integers(0, 10), n=st.integers(1, 3))
    def request_work(self, index: int, n: int) -> None:
        worker = self.workers[index % len(self.workers)]
        config, now = self.sched.config, self.grid.clock.now()
        assert config.max_active_leases_per_core == 2
        with self.sched.db.read() as conn:
            row = conn.execute(select(workers).where(workers.c.address == worker)).mappings().one()
            active = len(
                conn.execute(
                    select(leases.c.id).where(
                        leases.c.worker == worker, leases.c.state == LeaseState.IN_PROGRESS.value
                    )
                ).all()
            )
        # the limits, worked out here from the rules of docs/grid-api.md ("Lease limits")
        cap = min(config.max_active_leases_per_worker, 2 * row["cores"])
        quota = min(max(row["daily_quota"], 1), config.worker_quota_max)
        new_day = row["quota_window"] is None or now >= row["quota_window"] + 86400
        left = max(0, quota - (0 if new_day else row["quota_used"]))
        reply = self.sched.request_work(worker, n)
        granted = reply.leases
        assert len(granted) <= n
        # never past the cap on leases in progress, nor the day's quota
        assert active + len(granted) <= cap
        assert len(granted) <= left
        if not granted and (left == 0 or active >= cap):
            assert reply.reason, "a worker over a limit is told why"
            event("a worker was over a limit")
        assert len({lease.job_id for lease in granted}) == len(granted)
        for lease in granted:
            assert lease.job_id in self.jobs
            self.open_leases[lease.lease_id] = (worker, lease.job_id)

    @precondition(lambda self: self.open_leases)
    @rule(
        index=st.integers(0, 50),
        kind=st.sampled_from(["honest", "honest", "wrong", "unknown"]),
        batched=st.booleans(),
    )
    def return_result(self, index: int, kind: str, batched: bool) -> None:
        lease_id = self._pick(self.open_leases, index)
        worker, job_id = self.open_leases.pop(lease_id)
        app, honest = self.jobs[job_id]
        if kind == "unknown" and app != "sum":
            kind = "wrong"
        content = {
            "honest": honest,
            "wrong": b"wrong answer from lease " + lease_id.encode(),  # never agree
            "unknown": UNKNOWN,
        }[kind]
        live = self._live(lease_id)
        if kind == "unknown":
            self.unknown_sent.add(job_id)
        ref = self.grid.data.check(content)
        if batched:  # small results ride on a work request
            reply = self.sched.request_work(
                worker, 0, results=[(lease_id, ref)], blobs={ref.sha256: content}
            )
            (outcome,) = reply.results
            assert reply.leases == []
        else:
            self.grid.data.put_bytes(content)
            (outcome,) = self.sched.report_results(worker, [(lease_id, ref)])
        assert outcome.accepted == live, (outcome, live)
        if not live:
            assert outcome.status == 409
            return
        if app == "sum" and kind == "honest":  # the verifier accepts it: done at once
            assert (outcome.lease_state, outcome.job_state) == ("VALID", "COMPLETED")
        if app == "sum" and kind == "wrong":
            assert outcome.lease_state == LeaseState.INVALID.value

    @precondition(lambda self: self.open_leases)
    @rule(index=st.integers(0, 50))
    def report_error(self, index: int) -> None:
        lease_id = self._pick(self.open_leases, index)
        worker, _ = self.open_leases.pop(lease_id)
        in_progress = self._lease_row(lease_id)["state"] == LeaseState.IN_PROGRESS.value
        try:
            self.sched.report_error(worker, lease_id, "crashed")
        except Conflict:
            assert not in_progress
            return
        assert in_progress
        assert self._lease_row(lease_id)["state"] in (
            LeaseState.ERROR.value,
            LeaseState.EXPIRED.value,
        )

    @precondition(lambda self: self.open_leases)
    @rule(index=st.integers(0, 50))
    def heartbeat(self, index: int) -> None:
        lease_id = self._pick(self.open_leases, index)
        worker, _ = self.open_leases[lease_id]
        before = self._lease_row(lease_id)
        live = self._live(lease_id)
        beat = self.sched.heartbeat(worker, lease_id, Heartbeat(progress=0.5))
        assert beat.keep_going == live
        if live:
            assert beat.expires_at >= before["expires_at"]

    @rule()
    def forget_finished_jobs(self) -> None:
        """Retention: jobs that finished long enough ago go, with their leases and events;
        open jobs never."""
        before = self._rows()
        Retention(self.sched.db, self.sched.config, self.grid.clock).forget_jobs(3)
        after = self._rows()
        gone = set(before[0]) - set(after[0])
        cutoff = self.grid.clock.now() - self.sched.config.job_retention_s
        if gone:
            event("finished jobs were forgotten")
        for job_id in gone:
            job = before[0][job_id]
            assert job["state"] not in OPEN and job["finished_at"] < cutoff, job_id
            del self.jobs[job_id]
        for lease in before[1].values():
            if lease["job_id"] in gone:
                assert lease["id"] not in after[1]
                self.forgotten[(lease["worker"], lease["state"])] += 1
                self.open_leases.pop(lease["id"], None)
        assert all(lease["job_id"] not in gone for lease in after[1].values())

    def _rows(self) -> tuple[dict, dict]:
        with self.sched.db.read() as conn:
            job_rows = conn.execute(select(jobs)).mappings().all()
            lease_rows = conn.execute(select(leases)).mappings().all()
        return {r["id"]: r for r in job_rows}, {r["id"]: r for r in lease_rows}

    # ------------------------------------------------------------------ time

    @rule(seconds=st.sampled_from([1, 10, 30, 61, 200, 400]))
    def time_passes(self, seconds: int) -> None:
        self.grid.clock.advance(seconds)
        self.sched.tick()
        now = self.grid.clock.now()
        with self.sched.db.read() as conn:
            overdue = conn.execute(
                select(leases.c.id).where(
                    leases.c.state == LeaseState.IN_PROGRESS.value, leases.c.expires_at < now
                )
            ).all()
            late = conn.execute(
                select(jobs.c.id).where(
                    jobs.c.state.in_(OPEN), jobs.c.deadline.is_not(None), jobs.c.deadline < now
                )
            ).all()
        assert overdue == [] and late == []

    # ------------------------------------------------------------------ invariants

    @invariant()
    def rows_follow_the_rules(self) -> None:
        with self.sched.db.read() as conn:
            job_rows = conn.execute(select(jobs)).mappings().all()
            lease_rows = conn.execute(select(leases)).mappings().all()
            worker_rows = conn.execute(select(workers)).mappings().all()
        by_job: dict[str, list] = {row["id"]: [] for row in job_rows}
        for lease in lease_rows:
            assert lease["state"] in LEASE_STATES, lease["state"]
            by_job[lease["job_id"]].append(lease)
        assert set(by_job) == set(self.jobs)
        for job in job_rows:
            self._check_job(job, by_job[job["id"]])
        self._check_workers(worker_rows, lease_rows)

    def _check_job(self, job, rows) -> None:
        state = job["state"]
        assert state in JOB_STATES, state
        assert (job["finished_at"] is None) == (state in OPEN), job["id"]
        grace = self.sched.config.lease_grace_s
        for row in rows:  # no heartbeat keeps a lease past its hard deadline
            assert row["hard_deadline"] == row["leased_at"] + job["max_runtime"] + grace
            if row["state"] == LeaseState.IN_PROGRESS.value:
                assert row["expires_at"] <= row["hard_deadline"], row["id"]
        count = Counter(row["state"] for row in rows)
        in_progress = count[LeaseState.IN_PROGRESS.value]
        where = f"job {job['id']} ({state})"
        # one vote per worker and job
        voters = Counter(row["worker"] for row in rows if row["state"] in VOTING_LEASE_STATES)
        assert all(n == 1 for n in voters.values()), where
        # the counters say what the lease rows say
        assert job["n_total"] == len(rows), where
        assert job["n_total"] <= job["max_total_results"], where
        assert job["n_in_progress"] == in_progress, where
        errors = count[LeaseState.ERROR.value] + count[LeaseState.EXPIRED.value]
        assert job["n_errors"] == errors, where
        assert job["n_success"] == count[LeaseState.SUCCESS.value], where
        assert 1 <= job["eff_quorum"] <= job["eff_target"], where
        if state in OPEN:
            # never more replicas out (or wanted) than the replication in force
            assert in_progress + job["n_wanted"] <= job["eff_target"], where
            assert job["n_wanted"] <= job["max_total_results"] - job["n_total"], where
            assert (state == JobState.RUNNING.value) == (in_progress > 0), where
            assert state == JobState.RUNNING.value or job["n_wanted"] > 0, f"{where} is stuck"
            assert count[LeaseState.VALID.value] == 0, where
            votes = Counter(r["result_sha256"] for r in rows if r["state"] == "SUCCESS")
            assert max(votes.values(), default=0) < job["eff_quorum"], where
            assert job["n_errors"] < job["max_error_results"], where
            return
        assert in_progress == 0 and job["n_wanted"] == 0, where
        if state == JobState.ERROR.value:
            now = self.grid.clock.now()
            assert (
                job["n_errors"] >= job["max_error_results"]
                or job["n_total"] >= job["max_total_results"]
                or (job["deadline"] is not None and job["deadline"] < now)
            ), where
        if state == JobState.COMPLETED.value:
            self._check_completed(job, rows, where)

    def _check_completed(self, job, rows, where: str) -> None:
        canonical = job["result_sha256"]
        assert canonical is not None and job["completed_at"] is not None, where
        (chosen,) = [row for row in rows if row["id"] == job["canonical_lease"]]
        assert chosen["state"] == LeaseState.VALID.value, where
        assert chosen["result_sha256"] == canonical, where
        assert LeaseState.SUCCESS.value not in {row["state"] for row in rows}, where
        for row in rows:
            if row["state"] == LeaseState.VALID.value:
                assert row["result_sha256"] == canonical, where
            if row["state"] == LeaseState.INVALID.value:
                assert row["result_sha256"] != canonical, where
        app, honest = self.jobs[job["id"]]
        if app == "sum":  # the verifier accepted it, or a vote among undecidable results
            if job["id"] not in self.unknown_sent:
                assert canonical == digest(honest), where
            assert canonical in (digest(honest), digest(UNKNOWN)), where
        else:
            agreeing = sum(1 for row in rows if row["state"] == LeaseState.VALID.value)
            assert agreeing >= job["eff_quorum"], where
            if job["eff_quorum"] >= 2:  # wrong results never agree: a vote is honest
                assert canonical == digest(honest), where

    def _check_workers(self, worker_rows, lease_rows) -> None:
        for worker in worker_rows:
            own = Counter(row["state"] for row in lease_rows if row["worker"] == worker["address"])
            where = f"worker {worker['address']}"
            for (address, state), n in self.forgotten.items():
                if address == worker["address"]:
                    own[state] += n
            assert worker["n_invalid"] == own[LeaseState.INVALID.value], where
            assert worker["n_errors"] == own[LeaseState.ERROR.value], where
            assert worker["n_expired"] == own[LeaseState.EXPIRED.value], where
            # the quota stays within its bounds; the window counts the leases it handed out
            assert 1 <= worker["daily_quota"] <= QUOTA_CEILING, where
            if worker["quota_window"] is not None:
                taken = sum(
                    1
                    for row in lease_rows
                    if row["worker"] == worker["address"]
                    and row["leased_at"] >= worker["quota_window"]
                )
                forgot = any(address == worker["address"] for address, _ in self.forgotten)
                if forgot:  # (its forgotten leases are gone from the rows)
                    assert taken <= worker["quota_used"], where
                else:
                    assert taken == worker["quota_used"], where
            assert worker["consecutive_valid"] <= worker["n_valid"], where
            assert worker["n_valid"] <= own[LeaseState.VALID.value], where


GridMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=60,
    deadline=None,
    derandomize=True,
    database=None,
)
test_grid_state_machine = GridMachine.TestCase

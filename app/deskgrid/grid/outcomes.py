"""What happens to a job after one of its leases changes: the vote, the canonical result,
errors, trust. Every function runs inside the caller's write transaction (on its driver
connection, `Raw`), with the job's row already locked, and appends the events it causes to
`pending`."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from deskgrid.grid import credibility, queries
from deskgrid.grid.config import GridConfig
from deskgrid.grid.credibility import TrustLevel, Vote
from deskgrid.grid.events import PendingEvent
from deskgrid.grid.quota import merge_factors
from deskgrid.grid.rawsql import Raw
from deskgrid.grid.states import EventKind, JobState, LeaseState
from deskgrid.grid.voting import replicas_wanted, tally

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Consensus:
    """How jobs with a trust level are decided (`credibility`): the grid's assumed share of
    bad voters, each level's needs, the share of hidden spot checks and the grid's random
    draws."""

    assume_bad: float
    levels: Mapping[int, TrustLevel]
    spot_check_rate: float
    rng: random.Random

    @classmethod
    def of(cls, config: GridConfig, rng: random.Random) -> Consensus:
        return cls(config.assume_bad, config.trust_levels, config.spot_check_rate, rng)


def settle(
    db: Raw,
    job_id: str,
    now: float,
    pending: list[PendingEvent],
    job: Row | None = None,
    live: list[Row] | None = None,
    *,
    rules: Consensus,
) -> str:
    """Recompute the job from its leases: canonical result, ERROR, or how many replicas to
    hand out next. Returns the job's state. `job`: its row as read in this transaction and
    not changed since (else it is read again); `live`: its live leases (`LIVE_LEASES_OF_JOB`)
    as they are now in this transaction (else they are read; a trust job reads its votes)."""
    if job is None:
        job = db.one(queries.JOB_BY_ID, {"id": job_id})
    if JobState(job["state"]).final:
        return job["state"]
    if job["trust"] is not None:
        return _settle_by_credibility(db, job, now, pending, rules)
    rows = db.all(queries.LIVE_LEASES_OF_JOB, {"job_id": job_id}) if live is None else live
    running = [r for r in rows if r["state"] == LeaseState.IN_PROGRESS.value]
    successes = [r for r in rows if r["state"] == LeaseState.SUCCESS.value]
    verified = [r for r in rows if r["state"] == LeaseState.VALID.value]
    if verified:  # a result passed the app's verifier
        canonical = verified[0]
        _judge(db, job, successes, canonical["result_sha256"], False, pending)
        return _complete(db, job, canonical, now, pending, bool(running))
    counted = tally(r["result_sha256"] for r in successes)
    if counted.best_count >= job["eff_quorum"]:
        canonical = next(r for r in successes if r["result_sha256"] == counted.best_digest)
        vote = job["eff_quorum"] >= 2
        _judge(db, job, successes, counted.best_digest, vote, pending)
        return _complete(db, job, canonical, now, pending, bool(running))
    if job["n_errors"] >= job["max_error_results"]:
        message = f"The job failed {job['n_errors']} times (limit {job['max_error_results']})."
        return fail_job(db, job, message, now, pending, len(successes))
    wanted = replicas_wanted(
        target=job["eff_target"],
        quorum=job["eff_quorum"],
        in_progress=len(running),
        successes=len(successes),
        best_count=counted.best_count,
        total=job["n_total"],
        max_total=job["max_total_results"],
    )
    if wanted == 0 and not running:
        message = (
            f"No {job['eff_quorum']} results agreed after {job['n_total']} replicas "
            f"(limit {job['max_total_results']})."
        )
        return fail_job(db, job, message, now, pending, len(successes))
    return _keep_open(db, job, wanted, running, successes, now)


def _settle_by_credibility(
    db: Raw, job: Row, now: float, pending: list[PendingEvent], rules: Consensus
) -> str:
    """`settle` for a job with a trust level: each stakeholder's result or reported error is a
    vote; the best outcome wins when its credibility reaches the level's target with
    `min_agree` stakeholders (then, once per job and with the spot-check rate, one more hidden
    replica votes first). No winner: more replicas, up to `max_total_results`, then ERROR.
    A result the app's verifier accepted completes the job at once."""
    rows = db.all(queries.VOTES_OF_JOB, {"job_id": job["id"]})
    running = [r for r in rows if r["state"] == LeaseState.IN_PROGRESS.value]
    successes = [r for r in rows if r["state"] == LeaseState.SUCCESS.value]
    verified = [r for r in rows if r["state"] == LeaseState.VALID.value]
    if verified:
        _judge(db, job, successes, verified[0]["result_sha256"], False, pending)
        return _complete(db, job, verified[0], now, pending, bool(running))
    ballots = [r for r in rows if r["state"] in _VOTES]
    votes = [
        Vote(
            owner=r["owner"] or r["worker"],
            outcome=r["result_sha256"] if r["state"] == LeaseState.SUCCESS.value else _ERROR,
            consecutive_valid=r["consecutive_valid"] or 0,
        )
        for r in ballots
    ]
    level = rules.levels[job["trust"]]
    verdict = credibility.decide(votes, level, job["min_agree"], rules.assume_bad)
    if verdict.reached and verdict.outcome is not None:
        voters = len({vote.owner for vote in votes})
        spot_votes = job["spot_votes"]
        if spot_votes is None:  # drawn once per job, when it first agrees
            checked = rules.rng.random() < rules.spot_check_rate
            spot_votes = voters + 1 if checked else 0
            db.execute(queries.SET_SPOT_VOTES, {"id": job["id"], "votes": spot_votes})
        room = job["n_total"] < job["max_total_results"]
        if voters < spot_votes and (running or room):  # the spot check's replica first
            return _keep_open(db, job, 0 if running else 1, running, successes, now)
        if verdict.outcome == _ERROR:
            _judge(db, job, successes, None, False, pending)
            reason = next(r["message"] for r in ballots if r["state"] == LeaseState.ERROR.value)
            message = (
                f"{verdict.agreeing} stakeholders agreed that the job fails "
                f"(credibility {verdict.credibility:.6f}): {reason or 'no message'}"
            )
            return fail_job(db, job, message, now, pending, 0)
        canonical = next(r for r in successes if r["result_sha256"] == verdict.outcome)
        _judge(db, job, successes, verdict.outcome, verdict.agreeing >= 2, pending)
        return _complete(db, job, canonical, now, pending, bool(running))
    wanted = credibility.replicas_wanted(
        min_agree=job["min_agree"],
        best_agreeing=verdict.agreeing,
        running=len(running),
        total=job["n_total"],
        max_total=job["max_total_results"],
    )
    if wanted == 0 and not running:
        message = (
            f"No agreement: the best outcome had {verdict.agreeing} of {job['min_agree']} "
            f"stakeholders and credibility {verdict.credibility:.6f} (level {job['trust']} "
            f"needs {level.target}) after {job['n_total']} replicas "
            f"(limit {job['max_total_results']})."
        )
        return fail_job(db, job, message, now, pending, len(successes))  # nobody lost
    return _keep_open(db, job, wanted, running, successes, now)


_ERROR = credibility.ERROR
_VOTES = frozenset({LeaseState.SUCCESS.value, LeaseState.ERROR.value})


def _keep_open(
    db: Raw, job: Row, wanted: int, running: list[Row], successes: list[Row], now: float
) -> str:
    state = JobState.RUNNING.value if running else JobState.PENDING.value
    db.execute(
        queries.SETTLE_OPEN_JOB,
        {
            "id": job["id"],
            "state": state,
            "wanted": wanted,
            "running": len(running),
            "successes": len(successes),
            "now": now,
        },
    )
    return state


def _judge(
    db: Raw,
    job: Row,
    successes: list[Row],
    digest: str | None,
    vote: bool,
    pending: list[PendingEvent],
) -> None:
    """Mark results VALID or INVALID against the canonical digest (None: every result lost,
    the job fails). Trust grows only when a real vote (quorum >= 2) confirmed the result; an
    invalid result always costs trust."""
    valid = [r for r in successes if r["result_sha256"] == digest]
    invalid = [r for r in successes if r["result_sha256"] != digest]
    for rows, state in ((valid, LeaseState.VALID), (invalid, LeaseState.INVALID)):
        for row in rows:
            db.execute(queries.SET_LEASE_STATE, {"state": state.value, "id": row["id"]})
    agreeing = [r["worker"] for r in valid] if vote else []
    adjust_trust(db, valid=agreeing, invalid=[r["worker"] for r in invalid])
    if not vote:  # accepted without a vote: the daily quota grows, trust does not
        for worker in sorted({r["worker"] for r in valid}):
            params = {"address": worker, "factor": 2}
            db.defer(worker, queries.QUOTA_VALID, params, merge=merge_factors)
    for row in invalid:
        pending.append(_event(job, EventKind.INVALID, lease_id=row["id"], worker=row["worker"]))


def _complete(
    db: Raw,
    job: Row,
    canonical: Row,
    now: float,
    pending: list[PendingEvent],
    running: bool = True,
) -> str:
    if running:
        _cancel_running(db, job["id"], now)
    db.execute(
        queries.COMPLETE_JOB,
        {
            "id": job["id"],
            "lease_id": canonical["id"],
            "sha256": canonical["result_sha256"],
            "size": canonical["result_size"],
            "now": now,
        },
    )
    pending.append(
        _event(
            job,
            EventKind.COMPLETED,
            state=JobState.COMPLETED.value,
            result_sha256=canonical["result_sha256"],
            result_size=canonical["result_size"],
            worker=canonical["worker"],
        )
    )
    return JobState.COMPLETED.value


def fail_job(
    db: Raw,
    job: Row,
    message: str,
    now: float,
    pending: list[PendingEvent],
    successes: int | None = None,
) -> str:
    """The job is ERROR. `successes`: its results left unvoted, when they changed since the
    job's row was last settled (else its `n_success` stays)."""
    _cancel_running(db, job["id"], now)
    _end_job(db, job["id"], JobState.ERROR, message, now, successes)
    pending.append(_event(job, EventKind.ERROR, state=JobState.ERROR.value, message=message))
    return JobState.ERROR.value


def cancel_job(db: Raw, job: Row, now: float, pending: list[PendingEvent]) -> None:
    _cancel_running(db, job["id"], now)
    _end_job(db, job["id"], JobState.CANCELLED, None, now)
    pending.append(_event(job, EventKind.CANCELLED, state=JobState.CANCELLED.value))


def _end_job(
    db: Raw,
    job_id: str,
    state: JobState,
    message: str | None,
    now: float,
    successes: int | None = None,
) -> None:
    db.execute(
        queries.END_JOB,
        {
            "id": job_id,
            "state": state.value,
            "message": message,
            "successes": successes,
            "now": now,
        },
    )


def _cancel_running(db: Raw, job_id: str, now: float) -> None:
    db.execute(queries.CANCEL_RUNNING_LEASES, {"job_id": job_id, "now": now})


def end_lease(
    db: Raw,
    job: Row,
    lease: Row,
    state: LeaseState,
    message: str | None,
    now: float,
    pending: list[PendingEvent],
    *,
    rules: Consensus,
) -> bool:
    """A lease ends without a result (ERROR reported, or EXPIRED): one more error for the job
    (a trust job: a reported error is its stakeholder's vote, an expiry is no vote); an
    unreplicated (adaptive) job goes back to its full replication. False if the lease was no
    longer in progress."""
    ended = db.rowcount(
        queries.END_LEASE,
        {"id": lease["id"], "state": state.value, "message": message, "now": now},
    )
    if ended != 1:
        return False
    db.execute(queries.COUNT_JOB_ERROR, {"id": job["id"], "now": now})
    if lease["adaptive"]:
        reset_replication(db, job)
    counter = (
        queries.COUNT_WORKER_EXPIRED if state is LeaseState.EXPIRED else queries.COUNT_WORKER_ERROR
    )
    db.defer(lease["worker"], counter, {"address": lease["worker"]})
    kind = EventKind.LEASE_EXPIRED if state is LeaseState.EXPIRED else EventKind.LEASE_ERROR
    pending.append(
        _event(
            job,
            kind,
            lease_id=lease["id"],
            worker=lease["worker"],
            message=message,
            n_errors=job["n_errors"] + 1,
        )
    )
    settle(db, job["id"], now, pending, rules=rules)
    return True


def release_lease(
    db: Raw, job: Row, lease: Row, now: float, pending: list[PendingEvent], *, rules: Consensus
) -> bool:
    """The worker hands a lease back (it stopped): the lease is RELEASED and its job may be
    leased again at once, as after an expiry, but nothing counts against the job or the
    worker: no error, no replica spent of `max_total_results`, no lease of the worker's daily
    quota. False if the lease was no longer in progress."""
    ended = db.rowcount(
        queries.END_LEASE,
        {
            "id": lease["id"],
            "state": LeaseState.RELEASED.value,
            "message": "Handed back by its worker.",
            "now": now,
        },
    )
    if ended != 1:
        return False
    db.execute(queries.UNCOUNT_REPLICA, {"id": job["id"], "now": now})
    if lease["adaptive"]:
        reset_replication(db, job)
    db.defer(lease["worker"], queries.GIVE_BACK_QUOTA, {"address": lease["worker"]})
    pending.append(
        _event(job, EventKind.LEASE_RELEASED, lease_id=lease["id"], worker=lease["worker"])
    )
    settle(db, job["id"], now, pending, rules=rules)
    return True


def adjust_trust(db: Raw, *, valid: Iterable[str], invalid: Iterable[str]) -> None:
    """BOINC's consecutive_valid: +1 per validated result, back to 0 on an invalid one;
    the daily quota (`quota`) doubles or halves with it. Rows are updated in address order
    (`Raw.defer`) so concurrent votes never deadlock."""
    changes = {address: True for address in valid}
    changes.update({address: False for address in invalid})
    for address in sorted(changes):
        if changes[address]:
            db.defer(address, queries.TRUST_VALID, {"address": address, "factor": 2})
        else:
            db.defer(address, queries.TRUST_INVALID, {"address": address})


def reset_replication(db: Raw, job: Row) -> None:
    """Back to the job's submitted replication (after an unreplicated lease failed, or when
    the verifier could not tell)."""
    db.execute(
        queries.SET_JOB_REPLICATION,
        {"id": job["id"], "target": job["target_nresults"], "quorum": job["min_quorum"]},
    )


def _event(job: Row, kind: EventKind, **data: Any) -> PendingEvent:
    return PendingEvent(job["id"], job["external_id"], kind.value, data)

"""What happens to a job after one of its leases changes: the vote, the canonical result,
errors, trust. Every function runs inside the caller's write transaction, with the job's
row already locked, and appends the events it causes to `pending`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, update

from deskgrid.grid import queries
from deskgrid.grid.events import PendingEvent
from deskgrid.grid.schema import jobs, leases, workers
from deskgrid.grid.states import EventKind, JobState, LeaseState
from deskgrid.grid.voting import replicas_wanted, tally

Row = Mapping[str, Any]


def _fresh_job(conn: Connection, job_id: str) -> Row:
    return conn.execute(queries.JOB_BY_ID, {"id": job_id}).mappings().one()


def settle(conn: Connection, job_id: str, now: float, pending: list[PendingEvent]) -> str:
    """Recompute the job from its leases: canonical result, ERROR, or how many replicas to
    hand out next. Returns the job's state."""
    job = _fresh_job(conn, job_id)
    if JobState(job["state"]).final:
        return job["state"]
    rows = conn.execute(queries.LIVE_LEASES_OF_JOB, {"job_id": job_id}).mappings().all()
    running = [r for r in rows if r["state"] == LeaseState.IN_PROGRESS.value]
    successes = [r for r in rows if r["state"] == LeaseState.SUCCESS.value]
    verified = [r for r in rows if r["state"] == LeaseState.VALID.value]
    if verified:  # a result passed the app's verifier
        canonical = verified[0]
        _judge(conn, job, successes, canonical["result_sha256"], False, pending)
        return _complete(conn, job, canonical, now, pending, bool(running))
    counted = tally(r["result_sha256"] for r in successes)
    if counted.best_count >= job["eff_quorum"]:
        canonical = next(r for r in successes if r["result_sha256"] == counted.best_digest)
        vote = job["eff_quorum"] >= 2
        _judge(conn, job, successes, counted.best_digest, vote, pending)
        return _complete(conn, job, canonical, now, pending, bool(running))
    if job["n_errors"] >= job["max_error_results"]:
        message = f"The job failed {job['n_errors']} times (limit {job['max_error_results']})."
        return fail_job(conn, job, message, now, pending)
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
        return fail_job(conn, job, message, now, pending)
    state = JobState.RUNNING.value if running else JobState.PENDING.value
    conn.execute(
        queries.SETTLE_OPEN_JOB,
        {
            "id": job_id,
            "state": state,
            "wanted": wanted,
            "running": len(running),
            "successes": len(successes),
            "now": now,
        },
    )
    return state


def _judge(
    conn: Connection,
    job: Row,
    successes: list[Row],
    digest: str,
    vote: bool,
    pending: list[PendingEvent],
) -> None:
    """Mark results VALID or INVALID against the canonical digest. Trust grows only when a
    real vote (quorum >= 2) confirmed the result; an invalid result always costs trust."""
    valid = [r for r in successes if r["result_sha256"] == digest]
    invalid = [r for r in successes if r["result_sha256"] != digest]
    for rows, state in ((valid, LeaseState.VALID), (invalid, LeaseState.INVALID)):
        if rows:
            conn.execute(
                queries.SET_LEASES_STATE, {"state": state.value, "ids": [r["id"] for r in rows]}
            )
    agreeing = [r["worker"] for r in valid] if vote else []
    adjust_trust(conn, valid=agreeing, invalid=[r["worker"] for r in invalid])
    for row in invalid:
        pending.append(_event(job, EventKind.INVALID, lease_id=row["id"], worker=row["worker"]))


def _complete(
    conn: Connection,
    job: Row,
    canonical: Row,
    now: float,
    pending: list[PendingEvent],
    running: bool = True,
) -> str:
    if running:
        _cancel_running(conn, job["id"], now)
    conn.execute(
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
    conn: Connection, job: Row, message: str, now: float, pending: list[PendingEvent]
) -> str:
    _cancel_running(conn, job["id"], now)
    conn.execute(
        update(jobs)
        .where(jobs.c.id == job["id"])
        .values(
            state=JobState.ERROR.value,
            message=message,
            n_wanted=0,
            n_in_progress=0,
            keys_per_s=0.0,
            updated_at=now,
        )
    )
    pending.append(_event(job, EventKind.ERROR, state=JobState.ERROR.value, message=message))
    return JobState.ERROR.value


def cancel_job(conn: Connection, job: Row, now: float, pending: list[PendingEvent]) -> None:
    _cancel_running(conn, job["id"], now)
    conn.execute(
        update(jobs)
        .where(jobs.c.id == job["id"])
        .values(
            state=JobState.CANCELLED.value,
            n_wanted=0,
            n_in_progress=0,
            keys_per_s=0.0,
            updated_at=now,
        )
    )
    pending.append(_event(job, EventKind.CANCELLED, state=JobState.CANCELLED.value))


def _cancel_running(conn: Connection, job_id: str, now: float) -> None:
    conn.execute(
        update(leases)
        .where(leases.c.job_id == job_id, leases.c.state == LeaseState.IN_PROGRESS.value)
        .values(state=LeaseState.CANCELLED.value, finished_at=now)
    )


def end_lease(
    conn: Connection,
    job: Row,
    lease: Row,
    state: LeaseState,
    message: str | None,
    now: float,
    pending: list[PendingEvent],
) -> bool:
    """A lease ends without a result (ERROR reported, or EXPIRED): one more error for the job;
    an unreplicated (adaptive) job goes back to its full replication. False if the lease
    was no longer in progress."""
    ended = conn.execute(
        update(leases)
        .where(leases.c.id == lease["id"], leases.c.state == LeaseState.IN_PROGRESS.value)
        .values(state=state.value, message=message, finished_at=now)
    )
    if ended.rowcount != 1:
        return False
    values: dict[str, Any] = {"n_errors": jobs.c.n_errors + 1, "updated_at": now}
    if lease["adaptive"]:
        values.update(eff_target=job["target_nresults"], eff_quorum=job["min_quorum"])
    conn.execute(update(jobs).where(jobs.c.id == job["id"]).values(**values))
    column = workers.c.n_expired if state is LeaseState.EXPIRED else workers.c.n_errors
    conn.execute(
        update(workers).where(workers.c.address == lease["worker"]).values({column: column + 1})
    )
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
    settle(conn, job["id"], now, pending)
    return True


def adjust_trust(conn: Connection, *, valid: Iterable[str], invalid: Iterable[str]) -> None:
    """BOINC's consecutive_valid: +1 per validated result, back to 0 on an invalid one.
    Rows are updated in address order so concurrent votes never deadlock."""
    changes = {address: True for address in valid}
    changes.update({address: False for address in invalid})
    for address in sorted(changes):
        if changes[address]:
            values = {
                "consecutive_valid": workers.c.consecutive_valid + 1,
                "n_valid": workers.c.n_valid + 1,
            }
        else:
            values = {"consecutive_valid": 0, "n_invalid": workers.c.n_invalid + 1}
        conn.execute(update(workers).where(workers.c.address == address).values(**values))


def _event(job: Row, kind: EventKind, **data: Any) -> PendingEvent:
    return PendingEvent(job["id"], job["external_id"], kind.value, data)

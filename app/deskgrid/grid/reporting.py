"""What workers send back: heartbeats, results (with the app's verifier), errors (part of
`Scheduler`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select, update

from deskgrid.apps.sdk import AppSpec
from deskgrid.grid import outcomes, queries
from deskgrid.grid.clock import Clock
from deskgrid.grid.datastore import DataStore, insert_blobs
from deskgrid.grid.db import Database
from deskgrid.grid.errors import Conflict, Forbidden, GridError, NotFound
from deskgrid.grid.events import EventPublisher, PendingEvent
from deskgrid.grid.models import (
    DataRef,
    Heartbeat,
    HeartbeatReply,
    JobView,
    ReportOutcome,
    ResultAck,
)
from deskgrid.grid.rawsql import Raw
from deskgrid.grid.schema import jobs, leases
from deskgrid.grid.states import EventKind, LeaseState
from deskgrid.grid.store import Row, Store

log = logging.getLogger(__name__)
_REFUSALS: dict[int, type[GridError]] = {403: Forbidden, 404: NotFound, 409: Conflict}


class Reporting:
    """Records what workers send back about their leases: heartbeats, results (checked by
    the app's verifier, then voted on), errors."""

    def __init__(
        self,
        db: Database,
        store: Store,
        catalog: Mapping[str, AppSpec],
        datastore: DataStore,
        *,
        clock: Clock,
        publisher: EventPublisher,
        rules: outcomes.Consensus,
    ) -> None:
        self.db = db
        self.rules = rules  # how jobs with a trust level are decided
        self.store = store
        self.catalog = catalog
        self.data = datastore
        self.clock = clock
        self.publisher = publisher

    def check_lease(self, address: str, lease_id: str) -> tuple[Row, Row]:
        """The lease and its job, if `address` holds it and it is still in progress."""
        with self.db.read() as conn:
            db = Raw(conn)
            lease = self._owned_lease(db, address, lease_id)
            job = db.one(queries.JOB_BY_ID, {"id": lease["job_id"]})
        if lease["state"] != LeaseState.IN_PROGRESS.value:
            raise Conflict(lease_over(lease["state"]))
        if lease["expires_at"] < self.clock.now():  # the reaper has not come by yet
            raise Conflict(lease_over(LeaseState.EXPIRED.value))
        return lease, job

    def _owned_lease(self, db: Raw, address: str, lease_id: str) -> Row:
        lease = db.first(queries.LEASE_BY_ID, {"id": lease_id})
        if lease is None:
            raise NotFound(f"No lease {lease_id} on this grid.")
        if lease["worker"] != address:
            raise Forbidden("This lease belongs to another worker.")
        return lease

    def lock_lease(self, db: Raw, address: str, lease_id: str) -> tuple[Row, Row]:
        """The lease `address` holds and its job, the job's row locked for this write
        transaction (NotFound, or Forbidden for another worker's lease)."""
        lease = self._owned_lease(db, address, lease_id)
        job = db.one(queries.JOB_BY_ID_LOCKED, {"id": lease["job_id"]})
        if db.is_postgresql:  # (SQLite: the transaction already holds the write lock)
            lease = db.one(queries.LEASE_BY_ID, {"id": lease_id})  # as of the job's lock
        return lease, job

    def heartbeat(self, address: str, lease_id: str, beat: Heartbeat) -> HeartbeatReply:
        """Record progress and extend the lease by the job's delay_bound, never past its
        hard deadline (the app's max run time and a grace after it was leased)."""
        now = self.clock.now()
        pending: list[PendingEvent] = []
        with self.db.write() as conn:
            db = Raw(conn)
            lease, job = self.lock_lease(db, address, lease_id)
            state, expires = lease["state"], lease["expires_at"]
            if state == LeaseState.IN_PROGRESS.value and expires < now:
                outcomes.end_lease(
                    db, job, lease, LeaseState.EXPIRED, None, now, pending, rules=self.rules
                )
                state = LeaseState.EXPIRED.value
            elif state == LeaseState.IN_PROGRESS.value:
                expires = max(expires, min(now + job["delay_bound"], hard_deadline(lease, job)))
                progress = lease["progress"] if beat.progress is None else beat.progress
                keys = lease["keys_per_s"] if beat.keys_per_s is None else beat.keys_per_s
                conn.execute(
                    update(leases)
                    .where(leases.c.id == lease_id)
                    .values(
                        progress=progress, keys_per_s=keys, heartbeat_at=now, expires_at=expires
                    )
                )
                job_keys = conn.execute(
                    select(func.coalesce(func.sum(leases.c.keys_per_s), 0.0)).where(
                        leases.c.job_id == job["id"],
                        leases.c.state == LeaseState.IN_PROGRESS.value,
                    )
                ).scalar()
                job_progress = max(job["progress"], progress)
                conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job["id"])
                    .values(progress=job_progress, keys_per_s=job_keys, updated_at=now)
                )
                data = {
                    "state": job["state"],
                    "lease_id": lease_id,
                    "worker": address,
                    "progress": job_progress,
                    "keys_per_s": job_keys,
                }
                if beat.message:
                    data["message"] = beat.message
                pending.append(
                    PendingEvent(job["id"], job["external_id"], EventKind.PROGRESS.value, data)
                )
            self.publisher.write(db, pending, now)
        self.publisher.announce(pending)
        return HeartbeatReply(
            lease_id=lease_id,
            state=state,
            expires_at=expires,
            keep_going=state == LeaseState.IN_PROGRESS.value,
        )

    def upload_result(self, address: str, lease_id: str, ref: DataRef) -> ResultAck:
        """Record a result already stored in the data store under `ref.sha256`, then vote."""
        (outcome,) = self.report_results(address, [(lease_id, ref)])
        if not outcome.accepted:
            raise _REFUSALS.get(outcome.status, Conflict)(outcome.detail or "Refused.")
        return ResultAck(
            lease_id=lease_id,
            lease_state=outcome.lease_state or "",
            job_state=outcome.job_state or "",
            sha256=ref.sha256,
            size=ref.size,
        )

    def report_results(
        self,
        address: str,
        results: list[tuple[str, DataRef]],
        blobs: Mapping[str, bytes] | None = None,
    ) -> list[ReportOutcome]:
        """Record several results in one transaction (stored, or small ones whose bytes are
        in `blobs`, stored in it); each is accepted or refused on its own (a refusal records
        nothing for that result)."""
        now = self.clock.now()
        pending: list[PendingEvent] = []
        with self.db.write() as conn:
            db = Raw(conn)
            with db.pipelined():  # PostgreSQL: writes do not wait for their round trips
                db.start_deferring()
                reported = self.report_in(db, address, results, now, pending, blobs or {})
                db.run_deferred()
                self.publisher.write(db, pending, now)
        self.publisher.announce(pending)
        return reported

    def report_in(
        self,
        db: Raw,
        address: str,
        results: list[tuple[str, DataRef]],
        now: float,
        pending: list[PendingEvent],
        blobs: Mapping[str, bytes],
    ) -> list[ReportOutcome]:
        """`report_results` inside the caller's write transaction (workers' rows: see
        `Raw.defer`). Of the small contents in `blobs`, only those of accepted results are
        stored: a worker stores nothing but the results of its own live leases.

        The batch's jobs are locked and its leases read in one go (`ReportBatch`); each
        result is then recorded as it would be alone, in the order given, and the states of
        the accepted leases are read together."""
        batch = ReportBatch.read(db, [lease_id for lease_id, _ in results])
        reported: list[ReportOutcome] = []
        keep: dict[str, bytes] = {}
        for lease_id, ref in results:
            try:
                outcome = self._report_one(db, address, lease_id, ref, now, pending, blobs, batch)
            except GridError as exc:
                outcome = ReportOutcome(
                    lease_id=lease_id, accepted=False, status=exc.status, detail=exc.message
                )
            else:
                if ref.sha256 in blobs:
                    keep[ref.sha256] = blobs[ref.sha256]
            reported.append(outcome)
        batch.read_states(db)
        insert_blobs(db, keep, now)
        return [
            outcome.model_copy(update={"lease_state": batch.states.get(outcome.lease_id)})
            if outcome.accepted and outcome.lease_state is None
            else outcome
            for outcome in reported
        ]

    def _report_one(
        self,
        db: Raw,
        address: str,
        lease_id: str,
        ref: DataRef,
        now: float,
        pending: list[PendingEvent],
        blobs: Mapping[str, bytes],
        batch: ReportBatch,
    ) -> ReportOutcome:
        read = batch.take(db, lease_id)
        if read is None:  # not as the batch read it: read and lock it as on its own
            lease, job = self.lock_lease(db, address, lease_id)
            live = None
        else:
            lease, job, live = read
            if lease["worker"] != address:
                raise Forbidden("This lease belongs to another worker.")
        if lease["state"] != LeaseState.IN_PROGRESS.value:
            raise Conflict(lease_over(lease["state"]))
        if lease["expires_at"] < now:
            outcomes.end_lease(
                db, job, lease, LeaseState.EXPIRED, None, now, pending, rules=self.rules
            )
            return ReportOutcome(
                lease_id=lease_id,
                accepted=False,
                status=409,
                detail=lease_over(LeaseState.EXPIRED.value),
            )
        verdict = self._verify(db, job, ref, blobs.get(ref.sha256)) if job["verifiable"] else None
        job_state = self._record_result(db, job, lease, ref, verdict, now, pending, live)
        if read is None:
            lease_state = db.scalar(queries.LEASE_STATE, {"id": lease_id})
        else:
            lease_state = None  # read with the batch's others (`ReportBatch.read_states`)
            batch.due.append(lease_id)
        return ReportOutcome(
            lease_id=lease_id, accepted=True, lease_state=lease_state, job_state=job_state
        )

    def _record_result(
        self,
        db: Raw,
        job: Row,
        lease: Row,
        ref: DataRef,
        verdict: bool | None,
        now: float,
        pending: list[PendingEvent],
        live: list[Row] | None = None,
    ) -> str:
        """`live`: the job's live leases as read before this result (else they are read
        after it is recorded)."""
        state = {True: LeaseState.VALID, False: LeaseState.INVALID, None: LeaseState.SUCCESS}[
            verdict
        ]
        db.execute(
            queries.RECORD_RESULT,
            {
                "id": lease["id"],
                "state": state.value,
                "sha256": ref.sha256,
                "size": ref.size,
                "now": now,
            },
        )
        pending.append(
            PendingEvent(
                job["id"],
                job["external_id"],
                EventKind.RESULT.value,
                {
                    "lease_id": lease["id"],
                    "worker": lease["worker"],
                    "sha256": ref.sha256,
                    "size": ref.size,
                    "verified": verdict,
                },
            )
        )
        if verdict is True:
            outcomes.adjust_trust(db, valid=[lease["worker"]], invalid=[])
        elif verdict is False:
            outcomes.adjust_trust(db, valid=[], invalid=[lease["worker"]])
            pending.append(
                PendingEvent(
                    job["id"],
                    job["external_id"],
                    EventKind.INVALID.value,
                    {"lease_id": lease["id"], "worker": lease["worker"], "verifier": True},
                )
            )
        elif job["verifiable"] and (job["eff_target"], job["eff_quorum"]) != (
            job["target_nresults"],
            job["min_quorum"],
        ):  # the verifier could not tell: fall back to the job's replication vote
            outcomes.reset_replication(db, job)
            return outcomes.settle(db, job["id"], now, pending, rules=self.rules)
        if live is not None:  # as RECORD_RESULT left them
            recorded = {"state": state.value, "result_sha256": ref.sha256, "result_size": ref.size}
            live = [
                {**row, **recorded} if row["id"] == lease["id"] else row
                for row in live
                if row["id"] != lease["id"] or state.value in LIVE_STATES
            ]
        return outcomes.settle(
            db, job["id"], now, pending, job, live, rules=self.rules
        )  # its row is unchanged

    def _verify(self, db: Raw, job: Row, ref: DataRef, content: bytes | None) -> bool | None:
        spec = self.catalog.get(job["app"])
        if spec is None or spec.verify is None:
            return None
        try:
            if content is None:
                content = self.data.read_bytes(ref.sha256, db)
            verdict = spec.verify(json.loads(job["params"]), content)
        except Exception:  # a hostile result must not break the server
            log.info("the %s verifier rejected a result by raising", job["app"], exc_info=True)
            return False
        return None if verdict is None else bool(verdict)

    def report_error(self, address: str, lease_id: str, message: str) -> JobView:
        now = self.clock.now()
        pending: list[PendingEvent] = []
        with self.db.write() as conn:
            db = Raw(conn)
            lease, job = self.lock_lease(db, address, lease_id)
            if lease["state"] != LeaseState.IN_PROGRESS.value:
                raise Conflict(lease_over(lease["state"]))
            outcomes.end_lease(
                db, job, lease, LeaseState.ERROR, message, now, pending, rules=self.rules
            )
            self.publisher.write(db, pending, now)
        self.publisher.announce(pending)
        return self.store.require_job(job["id"])


LIVE_STATES = frozenset(
    {LeaseState.IN_PROGRESS.value, LeaseState.SUCCESS.value, LeaseState.VALID.value}
)  # the states LIVE_LEASES_OF_JOB selects


@dataclass
class ReportBatch:
    """The rows a batch of reported results needs, read in one round trip: their jobs
    (locked), their leases and those jobs' live leases, as of the locks. A row is used as
    read only the first time its job comes up: once a result of a job has been recorded,
    another lease of that job (or the same lease again) is read afresh."""

    leases: dict[str, Row]
    jobs: dict[str, Row]
    live: dict[str, list[Row]]
    seen: set[str] = field(default_factory=set)  # lease and job ids taken so far
    due: list[str] = field(default_factory=list)  # accepted leases whose state is unread
    states: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, db: Raw, lease_ids: list[str]) -> ReportBatch:
        if not lease_ids:
            return cls({}, {}, {})
        params = {"ids": db.id_list(lease_ids)}
        jobs = db.all_later(queries.JOBS_OF_LEASES_LOCKED, params)
        leases = db.all_later(queries.LEASES_BY_IDS, params)
        live = db.all_later(queries.LIVE_LEASES_OF_JOBS, params)
        batch = cls({r["id"]: r for r in leases()}, {r["id"]: r for r in jobs()}, {})
        for row in live():
            batch.live.setdefault(row["job_id"], []).append(row)
        return batch

    def take(self, db: Raw, lease_id: str) -> tuple[Row, Row, list[Row]] | None:
        """The lease, its job and the job's live leases as read, or None if they must be read
        again (the lease is unknown, or its job was taken before)."""
        lease = self.leases.get(lease_id)
        if lease is None or lease_id in self.seen or lease["job_id"] in self.seen:
            if lease is not None and lease["job_id"] in self.seen:
                self.read_states(db)  # before this result may change them
            self.seen.add(lease_id)
            return None
        self.seen.update((lease_id, lease["job_id"]))
        return lease, self.jobs[lease["job_id"]], self.live.get(lease["job_id"], [])

    def read_states(self, db: Raw) -> None:
        """Read the states of the accepted leases whose state is still unread."""
        if self.due:
            rows = db.all(queries.LEASE_STATES, {"ids": db.id_list(self.due)})
            self.states.update((row["id"], row["state"]) for row in rows)
            self.due.clear()


def hard_deadline(lease: Row, job: Row) -> float:
    """When the lease ends whatever its heartbeats say (leases made before hard deadlines
    were recorded: the app's max run time and the job's delay_bound after leasing)."""
    if lease["hard_deadline"] is not None:
        return float(lease["hard_deadline"])
    return float(lease["leased_at"] + job["max_runtime"] + job["delay_bound"])


def lease_over(state: str) -> str:
    """Why nothing more is accepted for a lease in `state` (a sentence)."""
    if state == LeaseState.EXPIRED.value:
        return "The lease expired; its job was handed to another worker. Ask for new work."
    if state == LeaseState.CANCELLED.value:
        return "The lease was cancelled (the job ended); stop working on it and ask for new work."
    if state == LeaseState.RELEASED.value:
        return "The lease was handed back; its job may go to another worker. Ask for new work."
    return f"The lease is already {state}; nothing more is accepted for it."

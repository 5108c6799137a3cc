"""The job state machine (XtremWeb-HEP / BOINC rules) over the store; no HTTP, no Qt.

Submitters submit and cancel; workers pull leases, heartbeat, return results or errors;
`tick()` expires lost leases and passed deadlines. All times come from the injected clock.
Leasing is atomic: a job's `n_wanted` is decremented by a conditional UPDATE whose row count
is checked, so no job ever has more leases than it wants, whatever the number of servers.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from deskgrid.apps.sdk import AppParamsError, AppSpec
from deskgrid.grid import outcomes
from deskgrid.grid.catalog import LiveCatalog
from deskgrid.grid.clock import Clock, SystemClock
from deskgrid.grid.config import GridConfig
from deskgrid.grid.datastore import DataStore
from deskgrid.grid.db import Database
from deskgrid.grid.errors import Conflict, NotFound
from deskgrid.grid.events import EventBell, EventLog, EventPublisher, PendingEvent
from deskgrid.grid.leasing import Leasing, no_longer_served
from deskgrid.grid.models import (
    Capabilities,
    DataRef,
    Heartbeat,
    HeartbeatReply,
    JobSubmit,
    JobView,
    ReportOutcome,
    ResultAck,
    WorkReply,
)
from deskgrid.grid.rawsql import Raw
from deskgrid.grid.reporting import Reporting
from deskgrid.grid.schema import job_inputs, jobs, leases
from deskgrid.grid.stakes import StakeBook
from deskgrid.grid.states import (
    OPEN_JOB_STATES,
    EventKind,
    JobState,
    LeaseState,
)
from deskgrid.grid.store import Row, Store, job_view
from deskgrid.grid.submission import resolve_submission

log = logging.getLogger(__name__)
ANALYZE_AFTER_SUBMISSIONS = 1000


class Scheduler:
    """Submissions, cancellations and housekeeping; what concerns workers goes to the two
    parts it holds: `leasing` (registration, work requests) and `reporting` (heartbeats,
    results, errors). All three share the database, clock and event publisher."""

    def __init__(
        self,
        db: Database,
        catalog: Mapping[str, AppSpec],
        datastore: DataStore,
        config: GridConfig | None = None,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        bell: EventBell | None = None,
        stakes: StakeBook | None = None,
    ) -> None:
        self.db = db
        self.catalog = LiveCatalog.of(catalog)  # read live: published apps come and go
        self.data = datastore
        self.config = config or GridConfig()
        self.clock = clock or SystemClock()
        self.store = Store(db)
        self.events = EventLog(db)
        self.publisher = EventPublisher(self.events, bell or EventBell())
        rng = rng or random.Random()  # leasing's spot checks and the trust jobs' ones
        self.reporting = Reporting(
            db,
            self.store,
            self.catalog,
            datastore,
            clock=self.clock,
            publisher=self.publisher,
            rules=outcomes.Consensus.of(self.config, rng),
        )
        self.leasing = Leasing(
            db,
            self.config,
            clock=self.clock,
            rng=rng,
            publisher=self.publisher,
            reporting=self.reporting,
            catalog=self.catalog,
            stakes=stakes,
        )
        self._submitted_since_analyze = 0
        self._analyze_lock = threading.Lock()
        # the catalog as housekeeping last saw it: the apps that leave it end their jobs
        self._served = (self.catalog.generation, frozenset(self.catalog))

    # ---------------------------------------------------------------- submitters

    def submit(self, request: JobSubmit) -> tuple[JobView, bool]:
        """Queue a job; with an `external_id` already known, return that job (created=False)."""
        now = self.clock.now()
        if request.external_id is not None:
            existing = self.store.get_job_by_external_id(request.external_id)
            if existing is not None:
                return self._same_submission(existing, request), False
        values = resolve_submission(request, self.catalog, self.data, self.config, now)
        pending = [
            PendingEvent(
                values["id"],
                request.external_id,
                EventKind.SUBMITTED.value,
                {"state": JobState.PENDING.value, "app": request.app},
            )
        ]
        try:
            with self.db.write() as conn:
                conn.execute(jobs.insert(), values)
                if request.inputs:  # what collection must keep while the job is retained
                    digests = sorted({ref.sha256 for ref in request.inputs})
                    rows = [{"job_id": values["id"], "sha256": digest} for digest in digests]
                    conn.execute(job_inputs.insert(), rows)
                self.publisher.write(Raw(conn), pending, now)
        except IntegrityError:  # the same external id, submitted concurrently elsewhere
            existing = self.store.get_job_by_external_id(request.external_id or "")
            if existing is None:
                raise
            return self._same_submission(existing, request), False
        self.publisher.announce(pending)
        self._count_submission()
        unset = ("canonical_lease", "result_sha256", "result_size", "message")
        unset += ("completed_at", "finished_at")
        return job_view({**values, **dict.fromkeys(unset)}, []), True

    def _count_submission(self) -> None:
        """Every ANALYZE_AFTER_SUBMISSIONS new jobs, refresh the planner's statistics (see
        `Database.refresh_statistics`): a queue that grows fast stays fast to lease from."""
        if not self.db.is_postgresql:
            return
        with self._analyze_lock:
            self._submitted_since_analyze += 1
            if self._submitted_since_analyze < ANALYZE_AFTER_SUBMISSIONS:
                return
            self._submitted_since_analyze = 0
        try:
            self.db.refresh_statistics("jobs", "leases")
        except Exception:  # statistics are an optimisation: never fail a submission on them
            log.warning("refreshing the planner's statistics failed", exc_info=True)

    def _same_submission(self, existing: JobView, request: JobSubmit) -> JobView:
        spec = self.catalog.get(request.app)
        params = request.params
        if spec is not None:
            try:
                params = spec.validate(dict(request.params))
            except AppParamsError:
                pass
        if existing.app != request.app or _canon(existing.params) != _canon(params):
            raise Conflict(
                f"The external id {request.external_id!r} already names job {existing.id} "
                "with another app or other parameters."
            )
        return existing

    def cancel(self, job_id: str) -> JobView:
        now = self.clock.now()
        pending: list[PendingEvent] = []
        with self.db.write() as conn:
            job = self.store.lock_job(conn, job_id)
            if job is None:
                raise NotFound(f"No job {job_id} on this grid.")
            state = JobState(job["state"])
            if state.final and state is not JobState.CANCELLED:
                raise Conflict(f"The job is already {state.value}; it cannot be cancelled.")
            if state is not JobState.CANCELLED:
                db = Raw(conn)
                outcomes.cancel_job(db, job, now, pending)
                self.publisher.write(db, pending, now)
        self.publisher.announce(pending)
        return self.store.require_job(job_id)

    # ---------------------------------------------------------------- workers (the parts)

    def register_worker(
        self, address: str, name: str | None, caps: Capabilities, payout: str | None = None
    ) -> None:
        self.leasing.register_worker(address, name, caps, payout)

    def request_work(
        self,
        address: str,
        max_leases: int = 1,
        caps: Capabilities | None = None,
        results: list[tuple[str, DataRef]] | None = None,
        blobs: Mapping[str, bytes] | None = None,
    ) -> WorkReply:
        """See `Leasing.request_work`."""
        return self.leasing.request_work(address, max_leases, caps, results, blobs)

    def release_lease(self, address: str, lease_id: str) -> tuple[str, str]:
        """See `Leasing.release`."""
        return self.leasing.release(address, lease_id)

    def release_all(self, address: str, keep: set[str] | None = None) -> int:
        """See `Leasing.release_all`."""
        return self.leasing.release_all(address, keep)

    def check_lease(self, address: str, lease_id: str) -> tuple[Row, Row]:
        return self.reporting.check_lease(address, lease_id)

    def heartbeat(self, address: str, lease_id: str, beat: Heartbeat) -> HeartbeatReply:
        return self.reporting.heartbeat(address, lease_id, beat)

    def upload_result(self, address: str, lease_id: str, ref: DataRef) -> ResultAck:
        return self.reporting.upload_result(address, lease_id, ref)

    def report_results(
        self,
        address: str,
        results: list[tuple[str, DataRef]],
        blobs: Mapping[str, bytes] | None = None,
    ) -> list[ReportOutcome]:
        """See `Reporting.report_results`."""
        return self.reporting.report_results(address, results, blobs)

    def report_error(self, address: str, lease_id: str, message: str) -> JobView:
        return self.reporting.report_error(address, lease_id, message)

    # ---------------------------------------------------------------- housekeeping

    def expire_leases(self, limit: int = 1000) -> int:
        """Leases past their expiry: the worker is lost; its job goes back to PENDING."""
        now = self.clock.now()
        with self.db.read() as conn:
            due = conn.execute(
                select(leases.c.id, leases.c.job_id)
                .where(leases.c.state == LeaseState.IN_PROGRESS.value, leases.c.expires_at < now)
                .order_by(leases.c.expires_at)
                .limit(limit)
            ).all()
        expired = 0
        for lease_id, job_id in due:
            pending: list[PendingEvent] = []
            with self.db.write() as conn:
                db = Raw(conn)
                job = self.store.lock_job(conn, job_id)
                lease = conn.execute(select(leases).where(leases.c.id == lease_id)).mappings().one()
                if (
                    job is not None
                    and lease["state"] == LeaseState.IN_PROGRESS.value
                    and lease["expires_at"] < now
                ):
                    ended = outcomes.end_lease(
                        db,
                        job,
                        lease,
                        LeaseState.EXPIRED,
                        None,
                        now,
                        pending,
                        rules=self.reporting.rules,
                    )
                    expired += int(ended)
                self.publisher.write(db, pending, now)
            self.publisher.announce(pending)
        return expired

    def enforce_deadlines(self) -> int:
        now = self.clock.now()
        with self.db.read() as conn:
            due = (
                conn.execute(
                    select(jobs.c.id).where(
                        jobs.c.state.in_(OPEN_JOB_STATES),
                        jobs.c.deadline.is_not(None),
                        jobs.c.deadline < now,
                    )
                )
                .scalars()
                .all()
            )
        failed = 0
        for job_id in due:
            pending: list[PendingEvent] = []
            with self.db.write() as conn:
                db = Raw(conn)
                job = self.store.lock_job(conn, job_id)
                if job is not None and job["state"] in OPEN_JOB_STATES:
                    outcomes.fail_job(db, job, "The job's deadline passed.", now, pending)
                    failed += 1
                self.publisher.write(db, pending, now)
            self.publisher.announce(pending)
        return failed

    def end_unserved(self, limit: int = 1000) -> int:
        """When the catalog changed: the open jobs of the apps that left it (the operator's
        policy no longer allows them, or their developer retired them) end in ERROR, so that
        their requesters are refunded. Returns how many ended."""
        generation, before = self._served
        if self.catalog.generation == generation:
            return 0
        generation, now_served = self.catalog.generation, frozenset(self.catalog)
        gone = sorted(before - now_served)
        due: list[str] = []
        if gone:
            with self.db.read() as conn:
                query = select(jobs.c.id).where(
                    jobs.c.app.in_(gone), jobs.c.state.in_(OPEN_JOB_STATES)
                )
                due = list(conn.execute(query.limit(limit)).scalars())
        ended = 0
        for job_id in due:
            pending: list[PendingEvent] = []
            with self.db.write() as conn:
                db = Raw(conn)
                job = self.store.lock_job(conn, job_id)
                if (
                    job is not None
                    and job["state"] in OPEN_JOB_STATES
                    and job["app"] not in self.catalog  # not back meanwhile
                ):
                    now = self.clock.now()
                    outcomes.fail_job(db, job, no_longer_served(job["app"]), now, pending)
                    ended += 1
                    self.publisher.write(db, pending, now)
            self.publisher.announce(pending)
        if len(due) < limit:  # all of them: the next change is compared to this catalog
            self._served = (generation, now_served)
        return ended

    def tick(self) -> dict[str, int]:
        """One round of housekeeping (the server runs it every `reap_interval_s`)."""
        return {
            "expired": self.expire_leases(),
            "deadlines": self.enforce_deadlines(),
            "unserved": self.end_unserved(),
        }


def _canon(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))

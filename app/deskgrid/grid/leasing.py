"""Handing out work: worker registration and atomic leasing (part of `Scheduler`)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from deskgrid.grid import outcomes, queries
from deskgrid.grid.catalog import CatalogView, LiveCatalog
from deskgrid.grid.clock import Clock
from deskgrid.grid.config import GridConfig
from deskgrid.grid.db import Database
from deskgrid.grid.errors import Conflict, Forbidden
from deskgrid.grid.events import EventPublisher, PendingEvent
from deskgrid.grid.models import (
    Capabilities,
    DataRef,
    DockerApp,
    Lease,
    ReportOutcome,
    WorkReply,
)
from deskgrid.grid.quota import DailyQuota, active_cap, cap_reason
from deskgrid.grid.rawsql import Raw
from deskgrid.grid.reporting import Reporting, lease_over
from deskgrid.grid.schema import workers
from deskgrid.grid.stakes import NoStakes, StakeBook
from deskgrid.grid.states import EventKind, JobState, LeaseState
from deskgrid.grid.store import Row, capabilities_of, new_id
from deskgrid.grid.submission import MAX_STAKE


class Leasing:
    """Registers workers and leases them jobs. A work request may carry the results the
    worker reports: `reporting` records them in the request's transaction."""

    def __init__(
        self,
        db: Database,
        config: GridConfig,
        *,
        clock: Clock,
        rng: random.Random,
        publisher: EventPublisher,
        reporting: Reporting,
        catalog: LiveCatalog,
        stakes: StakeBook | None = None,
    ) -> None:
        """`catalog`: the apps served now; its published Docker apps go to any worker with
        Docker, their leases carry the image."""
        self.db = db
        self.catalog = catalog
        self.config = config
        self.clock = clock
        self.rng = rng  # draws the spot checks of trusted workers' unreplicated leases
        self.publisher = publisher
        self.reporting = reporting
        self.stakes: StakeBook = stakes or NoStakes()  # who may take staked jobs

    def register_worker(
        self, address: str, name: str | None, caps: Capabilities, payout: str | None = None
    ) -> None:
        now = self.clock.now()
        values = _caps_values(caps) | {"name": name, "last_seen": now, "payout": payout}
        with self.db.write() as conn:
            found = conn.execute(
                update(workers).where(workers.c.address == address).values(**values)
            )
            if found.rowcount == 0:
                conn.execute(
                    insert(workers).values(
                        address=address,
                        consecutive_valid=0,
                        n_valid=0,
                        n_invalid=0,
                        n_errors=0,
                        n_expired=0,
                        daily_quota=self.config.worker_quota_start,
                        quota_used=0,
                        created_at=now,
                        **values,
                    )
                )

    def request_work(
        self,
        address: str,
        max_leases: int = 1,
        caps: Capabilities | None = None,
        results: list[tuple[str, DataRef]] | None = None,
        blobs: Mapping[str, bytes] | None = None,
    ) -> WorkReply:
        """Record the `results` the worker reports (stored, or small ones whose bytes are in
        `blobs`, stored in the same transaction), then lease up to `max_leases` jobs it can
        run (or say when to ask again): one transaction for all."""
        try:
            return self._request_work(address, max_leases, caps, results or [], blobs or {})
        except IntegrityError:  # the same worker asked twice at once (another server)
            reported = self.reporting.report_results(address, results, blobs) if results else []
            return WorkReply(
                leases=[], retry_after=min(1.0, self.config.idle_retry_s), results=reported
            )

    def _request_work(
        self,
        address: str,
        max_leases: int,
        caps: Capabilities | None,
        results: list[tuple[str, DataRef]],
        blobs: Mapping[str, bytes],
    ) -> WorkReply:
        stake = self._free_stake(address)  # read before the transaction: never inside it
        now = self.clock.now()
        pending: list[PendingEvent] = []
        out = _WorkOut(retry_after=self.config.idle_retry_s, stake=stake)
        with self.db.write() as conn:
            db = Raw(conn)
            with db.pipelined():  # PostgreSQL: writes do not wait for their round trips
                self._work_in(db, address, max_leases, caps, results, blobs, now, pending, out)
        self.publisher.announce(pending)
        retry_after = None if out.granted else out.retry_after
        return WorkReply(
            leases=out.granted, retry_after=retry_after, results=out.reported, reason=out.reason
        )

    def _work_in(
        self,
        db: Raw,
        address: str,
        max_leases: int,
        caps: Capabilities | None,
        results: list[tuple[str, DataRef]],
        blobs: Mapping[str, bytes],
        now: float,
        pending: list[PendingEvent],
        out: _WorkOut,
    ) -> None:
        """`request_work` inside its write transaction; fills `out`."""
        cfg = self.config
        db.start_deferring()  # workers' rows are updated together, in address order
        if results:
            out.reported = self.reporting.report_in(db, address, results, now, pending, blobs)
        _touch(db, address, caps, now)
        db.run_deferred()
        room = min(max_leases, cfg.max_leases_per_request)
        worker_rows = db.all_later(queries.WORKER_BY_ADDRESS, {"address": address})
        active_count = (
            db.scalar_later(queries.ACTIVE_LEASES_OF_WORKER, {"worker": address})
            if room > 0
            else None
        )
        worker = next(iter(worker_rows()), None)
        if worker is None:
            raise Forbidden("This worker is not registered; log in again.")
        if caps is None:
            caps = capabilities_of(worker)
        quota = None
        if active_count is not None:
            active = int(active_count() or 0)
            cap = active_cap(cfg, caps.cores)
            quota = DailyQuota.of(worker, cfg, now)
            if active >= cap:
                out.reason = cap_reason(active, cap)
            elif quota.left <= 0:
                out.retry_after, out.reason = quota.frees_in(now), quota.reason(now)
            room = min(room, cap - active, quota.left)
        view = self.catalog.view()  # one snapshot for the whole request
        apps = _runnable(caps, view) if room > 0 else []
        if apps:
            trusted = worker["consecutive_valid"] >= cfg.trust_threshold
            owner = worker["payout"] or address  # the stakeholder
            free = out.stake[1] if out.stake is not None and out.stake[0] == owner else 0
            found = self._candidates(db, address, owner, free, apps, caps, room)
            served = _drop_unserved(db, found, view, now, pending)
            taking = [
                self._take_one(db, job, trusted, now) for job in served
            ]  # PostgreSQL: all sent before the first is read
            for job, unreplicated, taken in taking:
                docker = view.published.get(job["app"])  # a published app's image
                lease = self._lease_one(
                    db, job, address, owner, unreplicated, taken(), now, pending, docker
                )
                if lease is not None:
                    out.granted.append(lease)
        if quota is not None and (out.granted or worker["daily_quota"] != quota.quota):
            used = quota.used + len(out.granted)
            params = {"quota": quota.quota, "window": quota.window, "used": used}
            db.execute(queries.SET_WORKER_QUOTA, {**params, "address": address})
        self.publisher.write(db, pending, now)

    def release(self, address: str, lease_id: str) -> tuple[str, str]:
        """The worker `address` hands its lease back (it stops): see `outcomes.release_lease`.
        Returns the lease's state and its job's. Idempotent: a lease already released is
        answered as it is; a lease that ended otherwise is a Conflict; another worker's lease
        is Forbidden. A lease already past its expiry expires instead (as the reaper would
        have done)."""
        now = self.clock.now()
        pending: list[PendingEvent] = []
        with self.db.write() as conn:
            db = Raw(conn)
            lease, job = self.reporting.lock_lease(db, address, lease_id)
            state = lease["state"]
            if state == LeaseState.IN_PROGRESS.value and lease["expires_at"] < now:
                outcomes.end_lease(
                    db,
                    job,
                    lease,
                    LeaseState.EXPIRED,
                    None,
                    now,
                    pending,
                    rules=self.reporting.rules,
                )
                state = LeaseState.EXPIRED.value
            elif state == LeaseState.IN_PROGRESS.value:
                outcomes.release_lease(db, job, lease, now, pending, rules=self.reporting.rules)
                state = LeaseState.RELEASED.value
            elif state != LeaseState.RELEASED.value:
                raise Conflict(lease_over(state))
            job_state = db.scalar(queries.JOB_STATE, {"id": job["id"]})
            self.publisher.write(db, pending, now)
        self.publisher.announce(pending)
        if state == LeaseState.EXPIRED.value:
            raise Conflict(lease_over(state))
        return state, str(job_state)

    def release_all(self, address: str, keep: set[str] | None = None) -> int:
        """Every lease the worker `address` still has in progress, except those in `keep`,
        handed back (it signs out: a worker that stops cleanly computes nothing more, even a
        lease whose reply it never read, such as one granted while it gave up a held work
        request; `keep`: results it computed and will upload when back). Returns how many."""
        with self.db.read() as conn:
            rows = Raw(conn).all(queries.LEASES_IN_PROGRESS_OF, {"worker": address})
        ids = [row["id"] for row in rows if row["id"] not in (keep or set())]
        released = 0
        for lease_id in ids:
            try:
                state, _job_state = self.release(address, lease_id)
            except Conflict:  # it ended meanwhile (a result, an error, an expiry)
                continue
            released += state == LeaseState.RELEASED.value
        return released

    def stakeholder(self, address: str) -> str | None:
        """The stakeholder (payout, else itself) of the worker `address` when stakes are read
        from a chain; None without a chain or for an unknown worker."""
        if not self.stakes.on_chain:
            return None
        with self.db.read() as conn:
            row = Raw(conn).first(queries.WORKER_PAYOUT, {"address": address})
        return None if row is None else str(row["payout"] or address)

    def _free_stake(self, address: str) -> tuple[str, int] | None:
        """The worker's stakeholder and its free stake, when stakes are read from a chain (a
        stakeholder that changes before the transaction reads it again counts as no stake)."""
        owner = self.stakeholder(address)
        return None if owner is None else (owner, self.stakes.free_stake(owner))

    def _candidates(
        self,
        db: Raw,
        address: str,
        owner: str,
        free: int,
        apps: list[str],
        caps: Capabilities,
        room: int,
    ) -> list[Row]:
        params = {
            "apps": apps if db.is_postgresql else json.dumps(apps),
            "cores": caps.cores,
            "memory": caps.memory_mb,
            "docker": int(caps.docker),
            "worker": address,
            "owner": owner,
            "free_stake": min(free, MAX_STAKE),
            "room": room,
        }
        return db.all(queries.CANDIDATES, params)

    def _take_one(
        self, db: Raw, job: Row, trusted: bool, now: float
    ) -> tuple[Row, bool, Callable[[], Any]]:
        """Take one replica of `job` (unreplicated: a trusted worker's lease that is not
        spot-checked takes the whole job); the last item reads its `n_in_progress` after
        the take, None if the job had none left."""
        unreplicated = bool(
            trusted
            and job["adaptive"]
            and (job["trust"] is None or job["min_agree"] < 2)
            and not job["verifiable"]
            and job["n_total"] == 0
            and job["eff_target"] > 1
            and self.rng.random() >= self.config.spot_check_rate
        )
        statement = queries.TAKE_UNREPLICATED if unreplicated else queries.TAKE_ONE
        return job, unreplicated, db.scalar_later(statement, {"id": job["id"], "now": now})

    def _lease_one(
        self,
        db: Raw,
        job: Row,
        address: str,
        owner: str,
        unreplicated: bool,
        in_progress: int | None,
        now: float,
        pending: list[PendingEvent],
        docker: DockerApp | None = None,
    ) -> Lease | None:
        """The lease of a replica `_take_one` took (`in_progress`: the job's count after it),
        or None if it took none; `docker`: the image of a published app's job."""
        if in_progress is None:
            return None
        cfg = self.config
        lease_id = new_id()
        hard = now + job["max_runtime"] + cfg.lease_grace_s
        expires = min(now + job["delay_bound"], hard)
        db.execute(
            queries.INSERT_LEASE,
            {
                "id": lease_id,
                "job_id": job["id"],
                "worker": address,
                "owner": owner,
                "adaptive": int(unreplicated),
                "now": now,
                "expires": expires,
                "hard": hard,
            },
        )
        pending.append(
            PendingEvent(
                job["id"],
                job["external_id"],
                EventKind.LEASED.value,
                {
                    "state": JobState.RUNNING.value,
                    "lease_id": lease_id,
                    "worker": address,
                    "n_in_progress": in_progress,
                },
            )
        )
        return Lease(
            lease_id=lease_id,
            job_id=job["id"],
            app=job["app"],
            app_version=job["app_version"],
            params=json.loads(job["params"]),
            inputs=json.loads(job["inputs"]),
            leased_at=now,
            expires_at=expires,
            delay_bound=job["delay_bound"],
            heartbeat_interval=job["delay_bound"] / 3.0,
            max_result_bytes=cfg.max_result_bytes,
            max_runtime=job["max_runtime"],
            docker=docker,
            result_key=job["result_key"],
            external_id=job["external_id"],
        )


def _runnable(caps: Capabilities, view: CatalogView) -> list[str]:
    """The apps a worker with `caps` may be leased: those it names and, when it has Docker,
    every published Docker app served now (sorted)."""
    if not caps.docker or not view.docker_names:
        return sorted(set(caps.apps))
    return sorted(set(caps.apps).union(view.docker_names))


def _drop_unserved(
    db: Raw, found: list[Row], view: CatalogView, now: float, pending: list[PendingEvent]
) -> list[Row]:
    """`found` without the jobs whose app the grid no longer serves (its policy changed, or
    the app was retired): those end in ERROR, so that their requesters are refunded."""
    served = []
    for job in found:
        if job["app"] in view.apps:
            served.append(job)
        else:
            outcomes.fail_job(db, job, no_longer_served(job["app"]), now, pending)
    return served


def no_longer_served(app: str) -> str:
    """Why a job of `app` ends when its app has left the catalog."""
    return f"The app {app} is no longer served by this grid."


@dataclass
class _WorkOut:
    """What a work request's transaction decided."""

    granted: list[Lease] = field(default_factory=list)
    reported: list[ReportOutcome] = field(default_factory=list)
    retry_after: float | None = None
    reason: str | None = None
    stake: tuple[str, int] | None = None  # the stakeholder and its free stake, if read


def _caps_values(caps: Capabilities) -> dict[str, Any]:
    return {
        "apps": json.dumps(sorted(set(caps.apps))),
        "cores": caps.cores,
        "memory_mb": caps.memory_mb,
        "docker": int(caps.docker),
    }


def _touch(db: Raw, address: str, caps: Capabilities | None, now: float) -> None:
    """The worker was seen now, with these capabilities (None: as it registered)."""
    if caps is None:
        db.defer(address, queries.SEEN_WORKER, {"now": now, "address": address})
        return
    seen = _caps_values(caps)
    params = {
        "apps": seen["apps"],
        "cores": seen["cores"],
        "memory": seen["memory_mb"],
        "docker": seen["docker"],
        "now": now,
        "address": address,
    }
    db.defer(address, queries.TOUCH_WORKER, params)

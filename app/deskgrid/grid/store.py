"""Reading the grid's tables and turning rows into the API's models (no scheduling rules)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, func, select

from deskgrid.grid.db import Database
from deskgrid.grid.errors import NotFound
from deskgrid.grid.models import (
    NAME_PATTERN,
    Capabilities,
    InputFile,
    JobView,
    LeaseView,
    Metrics,
    Policy,
    WorkerView,
)
from deskgrid.grid.schema import events, jobs, leases, workers
from deskgrid.grid.states import JobState, LeaseState

Row = Mapping[str, Any]
_APP_NAME = re.compile(NAME_PATTERN)


def new_id() -> str:
    return uuid.uuid4().hex


def lease_view(row: Row) -> LeaseView:
    owner = row["owner"] or row["worker"]
    return LeaseView(
        id=row["id"],
        worker=row["worker"],
        owner=owner,
        payout=owner if owner != row["worker"] else None,
        state=row["state"],
        leased_at=row["leased_at"],
        expires_at=row["expires_at"],
        heartbeat_at=row["heartbeat_at"],
        progress=row["progress"],
        keys_per_s=row["keys_per_s"],
        result_sha256=row["result_sha256"],
        result_size=row["result_size"],
        message=row["message"],
        finished_at=row["finished_at"],
    )


def job_view(row: Row, lease_rows: list[Row] | None = None) -> JobView:
    return JobView(
        id=row["id"],
        external_id=row["external_id"],
        app=row["app"],
        app_version=row["app_version"],
        params=json.loads(row["params"]),
        inputs=[InputFile(**item) for item in json.loads(row["inputs"])],
        state=row["state"],
        priority=row["priority"],
        policy=Policy(
            target_nresults=row["target_nresults"],
            min_quorum=row["min_quorum"],
            max_error_results=row["max_error_results"],
            max_total_results=row["max_total_results"],
            delay_bound=row["delay_bound"],
            adaptive=bool(row["adaptive"]),
            trust=row["trust"],
            min_agree=row["min_agree"],
            stake=row["stake"],
        ),
        verifiable=bool(row["verifiable"]),
        deadline=row["deadline"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        completed_at=row["completed_at"],
        progress=row["progress"],
        keys_per_s=row["keys_per_s"],
        n_in_progress=row["n_in_progress"],
        n_success=row["n_success"],
        n_errors=row["n_errors"],
        n_total=row["n_total"],
        result_sha256=row["result_sha256"],
        result_size=row["result_size"],
        message=row["message"],
        leases=None if lease_rows is None else [lease_view(r) for r in lease_rows],
    )


def worker_view(row: Row, now: float, online_s: float) -> WorkerView:
    return WorkerView(
        address=row["address"],
        name=row["name"],
        payout=row["payout"],
        apps=stored_apps(row),
        cores=row["cores"],
        memory_mb=row["memory_mb"],
        docker=bool(row["docker"]),
        consecutive_valid=row["consecutive_valid"],
        n_valid=row["n_valid"],
        n_invalid=row["n_invalid"],
        n_errors=row["n_errors"],
        n_expired=row["n_expired"],
        created_at=row["created_at"],
        last_seen=row["last_seen"],
        online=row["last_seen"] >= now - online_s,
    )


def stored_apps(row: Row) -> list[str]:
    """A stored worker's app names, without those that no app can have (an older grid
    accepted any string)."""
    apps = json.loads(row["apps"])
    return [app for app in apps if isinstance(app, str) and _APP_NAME.fullmatch(app)]


def capabilities_of(row: Row) -> Capabilities:
    return Capabilities(
        apps=stored_apps(row),
        cores=row["cores"],
        memory_mb=row["memory_mb"],
        docker=bool(row["docker"]),
    )


class Store:
    """Read-side queries; the scheduler does all writes that follow rules."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def lock_job(self, conn: Connection, job_id: str) -> Row | None:
        query = select(jobs).where(jobs.c.id == job_id)
        if self.db.is_postgresql:
            query = query.with_for_update()
        return conn.execute(query).mappings().first()

    def job_leases(self, conn: Connection, job_id: str) -> list[Row]:
        query = select(leases).where(leases.c.job_id == job_id).order_by(leases.c.leased_at)
        return list(conn.execute(query).mappings().all())

    def get_job(self, job_id: str, *, with_leases: bool = True) -> JobView | None:
        with self.db.read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
            if row is None:
                return None
            return job_view(row, self.job_leases(conn, job_id) if with_leases else None)

    def require_job(self, job_id: str) -> JobView:
        """`get_job`, refusing a job this grid does not have."""
        job = self.get_job(job_id)
        if job is None:
            raise NotFound(f"No job {job_id} on this grid.")
        return job

    def get_job_by_external_id(self, external_id: str) -> JobView | None:
        with self.db.read() as conn:
            row = (
                conn.execute(select(jobs).where(jobs.c.external_id == external_id))
                .mappings()
                .first()
            )
            return None if row is None else job_view(row, self.job_leases(conn, row["id"]))

    def list_jobs(
        self,
        *,
        states: list[str] | None = None,
        app: str | None = None,
        external_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[JobView], int]:
        conditions = []
        if states:
            conditions.append(jobs.c.state.in_(states))
        if app:
            conditions.append(jobs.c.app == app)
        if external_id:
            conditions.append(jobs.c.external_id == external_id)
        with self.db.read() as conn:
            total = conn.execute(select(func.count()).select_from(jobs).where(*conditions))
            total_count = int(total.scalar() or 0)
            rows = (
                conn.execute(
                    select(jobs)
                    .where(*conditions)
                    .order_by(jobs.c.created_at.desc(), jobs.c.id)
                    .limit(limit)
                    .offset(offset)
                )
                .mappings()
                .all()
            )
        return [job_view(row) for row in rows], total_count

    def get_worker(self, address: str, now: float, online_s: float) -> WorkerView | None:
        with self.db.read() as conn:
            row = (
                conn.execute(select(workers).where(workers.c.address == address)).mappings().first()
            )
        return None if row is None else worker_view(row, now, online_s)

    def list_workers(self, now: float, online_s: float, limit: int = 500) -> list[WorkerView]:
        with self.db.read() as conn:
            rows = (
                conn.execute(select(workers).order_by(workers.c.last_seen.desc()).limit(limit))
                .mappings()
                .all()
            )
        return [worker_view(row, now, online_s) for row in rows]

    def metrics(self, now: float, online_s: float) -> Metrics:
        with self.db.read() as conn:
            by_state = {state.value: 0 for state in JobState}
            for state, count in conn.execute(
                select(jobs.c.state, func.count()).group_by(jobs.c.state)
            ):
                by_state[state] = int(count)
            in_progress = conn.execute(
                select(func.count())
                .select_from(leases)
                .where(leases.c.state == LeaseState.IN_PROGRESS.value)
            ).scalar()
            online = conn.execute(
                select(func.count())
                .select_from(workers)
                .where(workers.c.last_seen >= now - online_s)
            ).scalar()
            known = conn.execute(select(func.count()).select_from(workers)).scalar()
            recent = conn.execute(
                select(func.count())
                .select_from(jobs)
                .where(jobs.c.finished_at >= now - 60, jobs.c.state == JobState.COMPLETED.value)
            ).scalar()
            last_seq = conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar()
        return Metrics(
            jobs_by_state=by_state,
            leases_in_progress=int(in_progress or 0),
            workers_online=int(online or 0),
            workers_known=int(known or 0),
            completed_last_minute=int(recent or 0),
            jobs_per_s_last_minute=round(int(recent or 0) / 60.0, 3),
            last_event_seq=int(last_seq or 0),
            time=now,
        )

"""Forgetting what the grid no longer needs, in small batches: finished jobs (COMPLETED,
ERROR, CANCELLED) with their leases, input references and events once they finished
`job_retention_s` ago, and any event older than `event_retention_s`. Open jobs (PENDING,
RUNNING) are never forgotten: only a final state sets `finished_at`. The newest event is
always kept, so sequence numbers never go back. The contents the forgotten jobs referenced
become unreferenced; `collection` deletes them."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from deskgrid.grid.clock import Clock
from deskgrid.grid.config import GridConfig
from deskgrid.grid.db import Database
from deskgrid.grid.schema import events, job_inputs, jobs, leases


class Retention:
    def __init__(self, db: Database, config: GridConfig, clock: Clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock

    def forget_jobs(self, limit: int) -> int:
        """Delete up to `limit` jobs that finished before the retention period, with their
        leases, inputs and events; returns how many."""
        cutoff = self.clock.now() - self.config.job_retention_s
        with self.db.write() as conn:
            found = select(jobs.c.id).where(jobs.c.finished_at < cutoff)
            if self.db.is_postgresql:  # another server may be forgetting the same jobs
                found = found.with_for_update(skip_locked=True)
            ids = conn.execute(found.order_by(jobs.c.finished_at).limit(limit)).scalars().all()
            if not ids:
                return 0
            newest = conn.execute(select(func.max(events.c.seq))).scalar()
            if newest is not None:  # the newest event stays, even if it names one of them
                conn.execute(delete(events).where(events.c.job_id.in_(ids), events.c.seq < newest))
            conn.execute(delete(job_inputs).where(job_inputs.c.job_id.in_(ids)))
            conn.execute(delete(leases).where(leases.c.job_id.in_(ids)))
            conn.execute(delete(jobs).where(jobs.c.id.in_(ids)))
        return len(ids)

    def forget_events(self, limit: int) -> int:
        """Delete up to `limit` events older than the event retention (never the newest)."""
        cutoff = self.clock.now() - self.config.event_retention_s
        with self.db.write() as conn:
            newest = conn.execute(select(func.max(events.c.seq))).scalar()
            if newest is None:
                return 0
            old = (
                select(events.c.seq)
                .where(events.c.at < cutoff, events.c.seq < newest)
                .order_by(events.c.at)
                .limit(limit)
            )
            result = conn.execute(delete(events).where(events.c.seq.in_(old)))
            return int(result.rowcount or 0)

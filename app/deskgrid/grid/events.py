"""The event log: every change of a job is a row with a sequence number, so a client that
was away resumes with `since=<last seq>`; plus an in-process bell that wakes live streams.

On PostgreSQL the writers take a transaction-scoped advisory lock before appending, so
sequence numbers become visible in commit order and a reader never skips an event that
commits late.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from deskgrid.grid import queries
from deskgrid.grid.db import Database
from deskgrid.grid.models import Event
from deskgrid.grid.rawsql import Raw
from deskgrid.grid.schema import events

EVENTS_LOCK_KEY = 0x6772_6964_0002


@dataclass
class PendingEvent:
    job_id: str
    external_id: str | None
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class EventLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, db: Raw, pending: list[PendingEvent], now: float) -> None:
        """Write `pending` inside the caller's write transaction."""
        if not pending:
            return
        if db.is_postgresql:
            db.execute(queries.EVENTS_LOCK, {"k": EVENTS_LOCK_KEY})
        db.execute_many(
            queries.INSERT_EVENT,
            [
                {
                    "job_id": p.job_id,
                    "external_id": p.external_id,
                    "kind": p.kind,
                    "at": now,
                    "data": json.dumps(p.data, separators=(",", ":")),
                }
                for p in pending
            ],
        )

    def read(self, since: int = 0, *, job_id: str | None = None, limit: int = 500) -> list[Event]:
        query = select(events).where(events.c.seq > since)
        if job_id is not None:
            query = query.where(events.c.job_id == job_id)
        query = query.order_by(events.c.seq).limit(limit)
        with self.db.read() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            Event(
                seq=row["seq"],
                job_id=row["job_id"],
                external_id=row["external_id"],
                kind=row["kind"],
                at=row["at"],
                data=json.loads(row["data"]),
            )
            for row in rows
        ]

    def last_seq(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar())


class EventBell:
    """Wakes the coroutines waiting for new events (call `ring` after a commit)."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def ring(self) -> None:
        event, loop = self._event, self._loop
        if event is None or loop is None:
            return
        self._event = None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def ticket(self) -> asyncio.Event:
        """The event the next `ring` sets: take it before looking for what a ring announces,
        then wait on it, and a ring in between is not missed."""
        if self._event is None:
            self._event = asyncio.Event()
            self._loop = asyncio.get_running_loop()
        return self._event

    async def wait(self, timeout: float, ticket: asyncio.Event | None = None) -> None:
        event = ticket or self.ticket()
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass


class EventPublisher:
    """Publishes the events a change causes: written in the change's transaction, announced
    (the bell rung) once it committed. The scheduler's parts share one."""

    def __init__(self, log: EventLog, bell: EventBell) -> None:
        self.log = log
        self.bell = bell

    def write(self, db: Raw, pending: list[PendingEvent], now: float) -> None:
        """Inside the write transaction: append `pending` to the event log."""
        self.log.append(db, pending, now)

    def announce(self, pending: list[PendingEvent]) -> None:
        """After the commit: wake the live streams, if there was anything new."""
        if pending:
            self.bell.ring()

"""The event stream (Server-Sent Events) and its polling twin; both resume from a sequence
number (`since`, or the `Last-Event-ID` header a browser's EventSource sends)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from deskgrid.grid.api.deps import service, submitter
from deskgrid.grid.longpoll import SUBMITTER_WAITERS
from deskgrid.grid.models import MAX_SEQ, Event, EventsPage
from deskgrid.grid.service import GridService

router = APIRouter(tags=["events"], dependencies=[Depends(submitter)])
KEEPALIVE_S = 15.0
SUBMITTERS = "submitters"  # the waiter key the submitter tokens share


@router.get("/events", response_model=EventsPage, summary="Events after `since` (polling)")
async def poll_events(
    request: Request,
    since: int = Query(0, ge=0, le=MAX_SEQ),
    limit: int = Query(500, ge=1, le=5000),
    job_id: str | None = Query(None, pattern=r"^[0-9a-f]{32}$"),
    wait: float = Query(
        0.0, ge=0.0, le=3600.0, description="seconds to wait here for an event (cut to 25)"
    ),
    grid: GridService = Depends(service),
) -> EventsPage:
    async def look() -> list[Event] | None:
        found = grid.scheduler.events.read(since, job_id=job_id, limit=limit)
        return found or None

    events = await look() or []
    if not events and wait > 0:
        with grid.longpoll.slot(SUBMITTERS, SUBMITTER_WAITERS) as allowed:
            if allowed:
                recheck = grid.config.sse_poll_s
                gone = request.is_disconnected
                events = await grid.longpoll.wait_for(look, wait, recheck_s=recheck, gone=gone)
    events = events or []
    return EventsPage(events=events, last_seq=events[-1].seq if events else since)


@router.get(
    "/events/stream",
    summary="Live events as Server-Sent Events (id = sequence number, event = kind)",
    response_class=StreamingResponse,
)
async def stream_events(
    request: Request,
    since: int | None = Query(
        None, ge=0, le=MAX_SEQ, description="start after this sequence number"
    ),
    last_event_id: str | None = Header(None),
    grid: GridService = Depends(service),
) -> StreamingResponse:
    start = since if since is not None else _resume_after(last_event_id)
    return StreamingResponse(
        _sse(grid, request, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _resume_after(last_event_id: str | None) -> int:
    """Where a reconnecting EventSource resumes: the sequence number it sends back in
    Last-Event-ID; anything that is not one (absent, not plain ASCII digits, too large)
    starts from the beginning, as before the first event."""
    text = (last_event_id or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_SEQ)):
        return 0
    seq = int(text)
    return seq if seq <= MAX_SEQ else 0


async def _sse(grid: GridService, request: Request, since: int) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    last_sent = time.monotonic()
    while True:
        events = grid.scheduler.events.read(since, limit=500)
        if events:
            chunk = []
            for event in events:
                data = json.dumps(event.model_dump(), separators=(",", ":"))
                chunk.append(f"id: {event.seq}\nevent: {event.kind}\ndata: {data}\n\n")
            since = events[-1].seq
            last_sent = time.monotonic()
            yield "".join(chunk)
            if len(events) == 500:
                continue
        elif time.monotonic() - last_sent > KEEPALIVE_S:
            last_sent = time.monotonic()
            yield ": keepalive\n\n"
        if await request.is_disconnected():
            return
        await grid.bell.wait(grid.config.sse_poll_s)

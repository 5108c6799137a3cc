"""Submitter routes: submit (idempotent by external id), get, list, cancel, result."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import FileResponse

from deskgrid.grid.api.data import content_response
from deskgrid.grid.api.deps import service, submitter
from deskgrid.grid.errors import Conflict, NotFound
from deskgrid.grid.models import MAX_SEQ, EventsPage, JobsPage, JobSubmit, JobView
from deskgrid.grid.service import GridService
from deskgrid.grid.states import JobState

router = APIRouter(tags=["jobs"], dependencies=[Depends(submitter)])
JOB_ID = Path(pattern=r"^[0-9a-f]{32}$", description="the job's id")


@router.post(
    "/jobs",
    response_model=JobView,
    status_code=201,
    summary="Submit a job (200 with the existing job when its external_id is known)",
)
async def submit_job(
    body: JobSubmit, response: Response, grid: GridService = Depends(service)
) -> JobView:
    job, created = await grid.run(grid.scheduler.submit, body)
    if not created:
        response.status_code = 200
    return job


@router.get("/jobs", response_model=JobsPage, summary="List jobs, newest first")
async def list_jobs(
    state: list[JobState] | None = Query(None),
    app: str | None = Query(None, max_length=64),
    external_id: str | None = Query(None, max_length=128),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
    grid: GridService = Depends(service),
) -> JobsPage:
    states = [s.value for s in state] if state else None
    found, total = grid.scheduler.store.list_jobs(
        states=states, app=app, external_id=external_id, limit=limit, offset=offset
    )
    return JobsPage(jobs=found, total=total)


@router.get("/jobs/{job_id}", response_model=JobView, summary="One job with its leases")
async def get_job(job_id: str = JOB_ID, grid: GridService = Depends(service)) -> JobView:
    job = grid.scheduler.store.get_job(job_id)
    if job is None:
        raise NotFound(f"No job {job_id} on this grid.")
    return job


@router.post("/jobs/{job_id}/cancel", response_model=JobView, summary="Cancel a job")
async def cancel_job(job_id: str = JOB_ID, grid: GridService = Depends(service)) -> JobView:
    return await grid.run(grid.scheduler.cancel, job_id)


@router.get(
    "/jobs/{job_id}/result",
    response_class=FileResponse,
    summary="The canonical result's bytes (header X-Content-SHA256)",
)
async def job_result(job_id: str = JOB_ID, grid: GridService = Depends(service)) -> Response:
    job = grid.scheduler.store.get_job(job_id, with_leases=False)
    if job is None:
        raise NotFound(f"No job {job_id} on this grid.")
    if job.state != JobState.COMPLETED.value or job.result_sha256 is None:
        raise Conflict(f"The job is {job.state}; a result exists once it is COMPLETED.")
    missing = "The result's content is missing from the grid's data store."
    return content_response(grid.data, job.result_sha256, missing)


@router.get("/jobs/{job_id}/events", response_model=EventsPage, summary="One job's events")
async def job_events(
    job_id: str = JOB_ID,
    since: int = Query(0, ge=0, le=MAX_SEQ),
    limit: int = Query(500, ge=1, le=5000),
    grid: GridService = Depends(service),
) -> EventsPage:
    events = grid.scheduler.events.read(since, job_id=job_id, limit=limit)
    return EventsPage(events=events, last_seq=events[-1].seq if events else since)

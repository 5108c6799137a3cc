"""Worker routes: log in with a signed challenge, pull work, heartbeat, result, error, and
hand a lease back."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel

from deskgrid.grid.api.data import declared_length
from deskgrid.grid.api.deps import (
    bearer,
    client_address,
    service,
    signing_in,
    submitter,
    worker,
)
from deskgrid.grid.api.inline import store_inline_results
from deskgrid.grid.errors import NotFound
from deskgrid.grid.models import (
    ChallengeRequest,
    ErrorReport,
    Heartbeat,
    HeartbeatReply,
    LeaseAck,
    LoginReply,
    LoginRequest,
    LogoutRequest,
    ResultAck,
    WorkerSelfView,
    WorkerView,
    WorkReply,
    WorkRequest,
)
from deskgrid.grid.service import GridService
from deskgrid.grid.signin import SignInChallenge

router = APIRouter(tags=["workers"])


def _json(model: BaseModel) -> Response:
    """The hot routes answer with the model's JSON directly (no second validation)."""
    return Response(model.model_dump_json(), media_type="application/json")


LEASE_ID = Path(pattern=r"^[0-9a-f]{32}$", description="the lease's id")


@router.post(
    "/workers/challenge",
    response_model=SignInChallenge,
    dependencies=[Depends(client_address)],
    summary="The fields of a one-time sign-in message (the worker builds and signs it)",
)
async def challenge(
    body: ChallengeRequest, grid: GridService = Depends(service)
) -> SignInChallenge:
    signing_in(grid, body.address)
    return grid.auth.challenge(body.address)


@router.post(
    "/workers/login",
    response_model=LoginReply,
    dependencies=[Depends(client_address)],
    summary="Exchange a signed challenge for a worker token",
)
async def login(body: LoginRequest, grid: GridService = Depends(service)) -> LoginReply:
    signing_in(grid, body.address)
    reply = grid.auth.login(body)
    grid.scheduler.register_worker(reply.address, body.name, body.capabilities, reply.payout)
    return reply


@router.post(
    "/workers/logout",
    status_code=204,
    summary="Revoke the calling worker token; optionally hand back its leases in progress",
)
async def logout(
    body: LogoutRequest | None = None,
    token: str = Depends(bearer),
    address: str = Depends(worker),
    grid: GridService = Depends(service),
) -> Response:
    grid.auth.logout(token)
    if body is not None and body.release_leases:
        # a worker that signs out computes nothing more: its jobs go to others at once
        await grid.run(grid.scheduler.release_all, address, set(body.keep))
    return Response(status_code=204)


@router.get(
    "/workers/me",
    response_model=WorkerSelfView,
    summary="The calling worker's record (without its trust)",
)
async def me(
    address: str = Depends(worker), grid: GridService = Depends(service)
) -> WorkerSelfView:
    found = grid.scheduler.store.get_worker(address, grid.clock.now(), grid.config.workers_online_s)
    if found is None:
        raise NotFound("This worker is not registered; log in again.")
    return WorkerSelfView.of(found)


@router.get(
    "/workers",
    response_model=list[WorkerView],
    dependencies=[Depends(submitter)],
    summary="Known workers, most recently seen first",
)
async def list_workers(grid: GridService = Depends(service)) -> list[WorkerView]:
    return grid.scheduler.store.list_workers(grid.clock.now(), grid.config.workers_online_s)


async def warm_stake(grid: GridService, address: str) -> None:
    """Read the stake of the worker's stakeholder from the chain in a thread when it is not
    cached, so that leasing (inline on SQLite) never waits on the network."""
    leasing = grid.scheduler.leasing
    owner = await grid.run(leasing.stakeholder, address)
    if owner is not None and not leasing.stakes.fresh(owner):
        await asyncio.to_thread(leasing.stakes.free_stake, owner)


@router.post(
    "/work",
    response_model=WorkReply,
    summary="Ask for leases (and report small results inline); no leases: retry_after",
)
async def request_work(
    body: WorkRequest,
    request: Request,
    wait: float = Query(
        0.0,
        ge=0.0,
        le=3600.0,
        description="seconds to wait here for a job when there is none now (cut to 25)",
    ),
    address: str = Depends(worker),
    grid: GridService = Depends(service),
) -> Response:
    work = grid.scheduler.request_work
    await warm_stake(grid, address)
    if not body.results:
        first = await grid.run(work, address, body.max_leases, body.capabilities)
    else:
        batch = store_inline_results(grid.data, body.results)
        first = await grid.run(
            work, address, body.max_leases, body.capabilities, batch.to_record, batch.blobs
        )
        first.results = batch.outcomes(first.results)
    if wait <= 0 or first.leases or first.reason or body.max_leases == 0:
        return _json(first)
    with grid.longpoll.slot(address) as allowed:
        if not allowed:  # too many waiting already: today's answer
            return _json(first)

        async def look() -> WorkReply | None:
            await warm_stake(grid, address)
            reply = await grid.run(work, address, body.max_leases, body.capabilities)
            return reply if reply.leases or reply.reason else None

        found = await grid.longpoll.wait_for(
            look, wait, recheck_s=grid.config.sse_poll_s, gone=request.is_disconnected
        )
    if found is None:
        first.retry_after = 0.0  # waited: ask again at once
        return _json(first)
    found.results = first.results
    return _json(found)


@router.post(
    "/leases/{lease_id}/heartbeat",
    response_model=HeartbeatReply,
    summary="Report progress and extend the lease (keep_going=false: stop)",
)
async def heartbeat(
    body: Heartbeat,
    lease_id: str = LEASE_ID,
    address: str = Depends(worker),
    grid: GridService = Depends(service),
) -> Response:
    return _json(await grid.run(grid.scheduler.heartbeat, address, lease_id, body))


@router.put(
    "/leases/{lease_id}/result",
    response_model=ResultAck,
    summary="Upload the result's bytes; X-Content-SHA256 must match them",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def upload_result(
    request: Request,
    lease_id: str = LEASE_ID,
    x_content_sha256: str = Header(pattern=r"^[0-9a-f]{64}$"),
    address: str = Depends(worker),
    grid: GridService = Depends(service),
) -> Response:
    grid.scheduler.check_lease(address, lease_id)  # refuse before reading the body
    grid.uploads.check_disk(declared_length(request) or 0)
    ref = await grid.data.put_stream(
        request.stream(), limit=grid.config.max_result_bytes, expected=x_content_sha256
    )
    return _json(await grid.run(grid.scheduler.upload_result, address, lease_id, ref))


@router.post("/leases/{lease_id}/error", response_model=LeaseAck, summary="Report a failure")
async def report_error(
    body: ErrorReport,
    lease_id: str = LEASE_ID,
    address: str = Depends(worker),
    grid: GridService = Depends(service),
) -> LeaseAck:
    job = await grid.run(grid.scheduler.report_error, address, lease_id, body.message)
    return LeaseAck(lease_id=lease_id, lease_state="ERROR", job_state=job.state)


@router.post(
    "/leases/{lease_id}/release",
    response_model=LeaseAck,
    summary="Hand a lease back at once (the worker stops); no error is counted",
)
async def release_lease(
    lease_id: str = LEASE_ID,
    address: str = Depends(worker),
    grid: GridService = Depends(service),
) -> LeaseAck:
    lease_state, job_state = await grid.run(grid.scheduler.release_lease, address, lease_id)
    return LeaseAck(lease_id=lease_id, lease_state=lease_state, job_state=job_state)

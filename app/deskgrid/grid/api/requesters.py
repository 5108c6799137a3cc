"""Requester routes: a wallet that pays for tasks signs in with a signed challenge of the
requester's own form and gets a requester token, good for storing its input files and
fetching its results (`/data`) and nothing else."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from deskgrid.grid.api.deps import client_address, service, signing_in
from deskgrid.grid.models import ChallengeRequest, LoginReply
from deskgrid.grid.service import GridService
from deskgrid.grid.signin import REQUESTER, RequesterLoginRequest, SignInChallenge

router = APIRouter(tags=["requesters"])


@router.post(
    "/requesters/challenge",
    response_model=SignInChallenge,
    dependencies=[Depends(client_address)],
    summary="The fields of a one-time requester sign-in message (the requester builds it)",
)
async def challenge(
    body: ChallengeRequest, grid: GridService = Depends(service)
) -> SignInChallenge:
    signing_in(grid, body.address)
    return grid.auth.challenge(body.address, REQUESTER)


@router.post(
    "/requesters/login",
    response_model=LoginReply,
    response_model_exclude_none=True,
    dependencies=[Depends(client_address)],
    summary="Exchange a signed requester challenge for a requester token (data only)",
)
async def login(body: RequesterLoginRequest, grid: GridService = Depends(service)) -> LoginReply:
    signing_in(grid, body.address)
    return grid.auth.login_requester(body)

"""Data routes: content-addressed upload (submitters and requesters, within their quota, the
requesters' hourly cap and the disk's floor) and download (each caller what is its business,
`grid.data_access`; anything else is answered exactly like missing content)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import FileResponse

from deskgrid.grid.api.deps import Caller, anyone_known_caller, service, uploader
from deskgrid.grid.datastore import DataStore
from deskgrid.grid.errors import Conflict, NotFound
from deskgrid.grid.models import DataRef
from deskgrid.grid.service import GridService
from deskgrid.grid.uploads import REQUESTER_IDENTITY

router = APIRouter(tags=["data"])
GONE_MEANWHILE = (
    "The content was collected while it was being sent again (it was old and unused); "
    "upload it once more."
)
SHA256 = Path(pattern=r"^[0-9a-f]{64}$", description="sha256 of the content, lowercase hex")


@router.put(
    "/data/{sha256}",
    response_model=DataRef,
    status_code=201,
    summary="Store bytes under their sha256 (200 if already stored); submitters and requesters",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def put_data(
    request: Request,
    response: Response,
    sha256: str = SHA256,
    identity: str = Depends(uploader),
    grid: GridService = Depends(service),
) -> DataRef:
    declared = declared_length(request)
    grid.uploads.check_disk(declared or 0)
    reservation = await grid.run(grid.uploads.reserve, identity, declared)
    body = _Counted(request.stream())
    try:
        limit = min(grid.config.max_data_bytes, reservation.size)
        size = await grid.run(grid.data.size, sha256)
        if size is not None:  # the bytes are received and checked all the same
            await grid.data.receive_again(body, limit=limit, expected=sha256)
            if await grid.run(grid.data.touch, sha256) is None:  # stored again: kept a grace more
                raise Conflict(GONE_MEANWHILE)
            response.status_code = 200
            ref = DataRef(sha256=sha256, size=size)
        else:
            ref = await grid.data.put_stream(body, limit=limit, expected=sha256)
        if identity.startswith(REQUESTER_IDENTITY):  # it may read back what it stored
            address = identity.removeprefix(REQUESTER_IDENTITY)
            await grid.run(grid.access.record_upload, sha256, address)
        return ref
    finally:
        await grid.run(grid.uploads.give_back, reservation, reservation.size - body.received)


def declared_length(request: Request) -> int | None:
    """The body's Content-Length (checked by the body limit), or None when it is streamed."""
    value = request.headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


class _Counted:
    """An upload's chunks, counting the bytes received (they count against the quota)."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self.received = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            self.received += len(chunk)
            yield chunk


def content_response(data: DataStore, sha256: str, missing: str) -> Response:
    """The stored bytes of `sha256` (header X-Content-SHA256); NotFound(`missing`) if absent."""
    found = data.locate(sha256)
    if found is None:
        raise NotFound(missing)
    headers = {"X-Content-SHA256": sha256}
    if isinstance(found, bytes):
        return Response(found, media_type="application/octet-stream", headers=headers)
    return FileResponse(found, media_type="application/octet-stream", headers=headers)


def missing(sha256: str) -> str:
    """The answer to content that is not stored, or not the caller's to read (the same
    sentence, so that a refusal does not tell that the content exists)."""
    return f"No data with sha256 {sha256} is stored here."


async def may_read(grid: GridService, caller: Caller, sha256: str) -> bool:
    """Whether `caller` may read `sha256` (see `grid.data_access`)."""
    if caller.submitter:
        return True
    if caller.address is None:
        return False
    if caller.requester:
        return await grid.run(grid.access.requester_may_read, caller.address, sha256)
    return await grid.run(grid.access.worker_may_read, caller.address, sha256)


@router.get(
    "/data/{sha256}",
    response_class=FileResponse,
    summary="Download stored bytes the caller may read (else 404, as if missing)",
)
async def get_data(
    sha256: str = SHA256,
    caller: Caller = Depends(anyone_known_caller),
    grid: GridService = Depends(service),
) -> Response:
    if not await may_read(grid, caller, sha256):
        raise NotFound(missing(sha256))
    return content_response(grid.data, sha256, missing(sha256))


@router.head(
    "/data/{sha256}",
    summary="Is this content stored and the caller's to read (and its size)",
)
async def head_data(
    sha256: str = SHA256,
    caller: Caller = Depends(anyone_known_caller),
    grid: GridService = Depends(service),
) -> Response:
    size = grid.data.size(sha256) if await may_read(grid, caller, sha256) else None
    if size is None:
        return Response(status_code=404)
    return Response(status_code=200, headers={"Content-Length": str(size)})

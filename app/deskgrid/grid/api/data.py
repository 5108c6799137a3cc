"""Data routes: content-addressed upload and download (any known token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import FileResponse

from deskgrid.grid.api.deps import anyone_known, service
from deskgrid.grid.datastore import DataStore
from deskgrid.grid.errors import NotFound
from deskgrid.grid.models import DataRef
from deskgrid.grid.service import GridService

router = APIRouter(tags=["data"], dependencies=[Depends(anyone_known)])
SHA256 = Path(pattern=r"^[0-9a-f]{64}$", description="sha256 of the content, lowercase hex")


@router.put(
    "/data/{sha256}",
    response_model=DataRef,
    status_code=201,
    summary="Store bytes under their sha256 (200 if already stored)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def put_data(
    request: Request, response: Response, sha256: str = SHA256, grid: GridService = Depends(service)
) -> DataRef:
    size = grid.data.size(sha256)
    if size is not None:
        async for _ in request.stream():  # drain; the content is already here
            pass
        response.status_code = 200
        return DataRef(sha256=sha256, size=size)
    return await grid.data.put_stream(
        request.stream(), limit=grid.config.max_data_bytes, expected=sha256
    )


def content_response(data: DataStore, sha256: str, missing: str) -> Response:
    """The stored bytes of `sha256` (header X-Content-SHA256); NotFound(`missing`) if absent."""
    found = data.locate(sha256)
    if found is None:
        raise NotFound(missing)
    headers = {"X-Content-SHA256": sha256}
    if isinstance(found, bytes):
        return Response(found, media_type="application/octet-stream", headers=headers)
    return FileResponse(found, media_type="application/octet-stream", headers=headers)


@router.get("/data/{sha256}", response_class=FileResponse, summary="Download stored bytes")
async def get_data(sha256: str = SHA256, grid: GridService = Depends(service)) -> Response:
    return content_response(grid.data, sha256, f"No data with sha256 {sha256} is stored here.")


@router.head("/data/{sha256}", summary="Is this content stored (and its size)")
async def head_data(sha256: str = SHA256, grid: GridService = Depends(service)) -> Response:
    size = grid.data.size(sha256)
    if size is None:
        return Response(status_code=404)
    return Response(status_code=200, headers={"Content-Length": str(size)})

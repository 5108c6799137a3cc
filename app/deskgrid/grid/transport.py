"""The client's wire helpers: errors from responses, content checks, file streaming, and
Server-Sent Events parsing (the `text/event-stream` format)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from deskgrid.errors import DeskGridError
from deskgrid.grid.models import Event

CHUNK = 1 << 20


class GridClientError(DeskGridError):
    """The grid refused a request (`status`, `detail`) or could not be reached (status 0)."""

    def __init__(self, status: int, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after


class GridUnavailable(GridClientError):
    """The grid cannot be reached or is busy (503): try again later."""


class NotAuthorized(GridClientError):
    """401/403: a missing, expired or wrong token."""


class LeaseGone(GridClientError):
    """The lease is over (expired, cancelled, already answered): stop and ask for new work."""


async def read_sse(lines: AsyncIterator[str]) -> AsyncIterator[Event]:
    """Events from the lines of an SSE stream (comments and `retry:` are skipped)."""
    data: list[str] = []
    async for line in lines:
        if line == "":
            if data:
                yield Event.model_validate(json.loads("\n".join(data)))
                data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value.removeprefix(" "))


def error_from(response: httpx.Response, *, lease: bool = False) -> GridClientError:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if not isinstance(detail, str):
        detail = f"The grid answered {response.status_code} {response.reason_phrase}."
    retry = response.headers.get("retry-after")
    retry_after = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
    status = response.status_code
    if status in (401, 403):
        return NotAuthorized(status, detail)
    if status == 503:
        return GridUnavailable(status, detail, retry_after)
    if lease and status in (404, 409):
        return LeaseGone(status, detail)
    return GridClientError(status, detail, retry_after)


def checked(content: bytes, sha256: str | None) -> bytes:
    if sha256 and hashlib.sha256(content).hexdigest() != sha256:
        raise GridClientError(0, "The content received does not match its sha256; retry.")
    return content


def file_sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk

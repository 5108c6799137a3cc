"""The client's wire helpers: errors from responses, content checks, file streaming, and
Server-Sent Events parsing (the `text/event-stream` format).

A grid's replies are read as untrusted input: a reply body is read up to a limit (streamed;
reading stops past it), JSON is parsed by `deskgrid.boundedjson` (a nesting limit, no
recursion to exhaust), every reply is validated by its model, and an SSE line or event has a
size limit. Whatever a hostile grid sends becomes a GridClientError."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from deskgrid import boundedjson
from deskgrid.errors import DeskGridError
from deskgrid.grid.models import Event

CHUNK = 1 << 20
MAX_REPLY_BYTES = 64 << 20  # a JSON reply (a page of 1,000 jobs with their parameters)
MAX_ERROR_BYTES = 64 << 10  # the body of an error reply
MAX_REPLY_DEPTH = 128  # the grid refuses bodies deeper than 64; its replies wrap them
MAX_EVENT_BYTES = 1 << 20  # one Server-Sent Event
M = TypeVar("M", bound=BaseModel)


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


async def read_capped(response: httpx.Response, limit: int) -> httpx.Response:
    """`response` (opened with stream=True) read whole if its body is at most `limit` bytes
    (decoded), as a new response holding the body; GridClientError past the limit."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(response, limit)
    chunks: list[bytes] = []  # joined once: no over-allocation, no second copy
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _too_large(response, limit)
        chunks.append(chunk)
    skip = {"content-encoding", "content-length", "transfer-encoding"}
    return httpx.Response(
        response.status_code,
        headers=[(k, v) for k, v in response.headers.multi_items() if k.lower() not in skip],
        content=b"".join(chunks),
        request=response.request,
    )


def _too_large(response: httpx.Response, limit: int) -> GridClientError:
    return GridClientError(
        0,
        f"The grid's reply to {response.request.url.path} is larger than {limit} bytes; it is "
        "not a DeskGrid grid or it misbehaves.",
    )


async def error_of(response: httpx.Response, *, lease: bool = False) -> GridClientError:
    """The error an error reply (opened with stream=True) stands for; its body is read up to
    MAX_ERROR_BYTES (a longer one is not read: the status alone then says it)."""
    try:
        response = await read_capped(response, MAX_ERROR_BYTES)
    except GridClientError:
        response = httpx.Response(response.status_code, request=response.request)
    return error_from(response, lease=lease)


def parse_json(content: bytes, what: str = "reply") -> Any:
    try:
        return boundedjson.loads(content, max_depth=MAX_REPLY_DEPTH, max_bytes=None)
    except boundedjson.JsonRejected as exc:
        raise GridClientError(0, f"The grid sent a {what} that is not usable JSON: {exc}") from None


def valid(model: type[M], data: Any) -> M:
    """`data` as `model`, or GridClientError when the grid sent something else."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problem = str(exc.errors()[0].get("msg", "")) if exc.errors() else ""
        raise GridClientError(
            0, f"The grid sent a reply that is not a valid {model.__name__} ({problem[:200]})."
        ) from None


def valid_list(model: type[M], data: Any) -> list[M]:
    if not isinstance(data, list):
        raise GridClientError(0, f"The grid sent a reply that is not a list of {model.__name__}.")
    return [valid(model, item) for item in data]


async def bounded_lines(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[str]:
    """The lines of a byte stream (LF, CRLF or CR ends), none longer than `limit` bytes."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        start = 0
        while True:
            lf, cr = pending.find(b"\n", start), pending.find(b"\r", start)
            cut = lf if cr < 0 or (0 <= lf < cr) else cr
            if cut < 0 or (cut == cr and cut + 1 == len(pending)):  # a CR may precede an LF
                break
            yield pending[start:cut].decode("utf-8", "replace")
            start = cut + (2 if cut == cr and pending[cut + 1 : cut + 2] == b"\n" else 1)
        pending = pending[start:]
        if len(pending) > limit:
            raise GridClientError(0, f"The grid sent an event line longer than {limit} bytes.")
    if pending:
        yield pending.rstrip(b"\r").decode("utf-8", "replace")


async def read_sse(lines: AsyncIterator[str]) -> AsyncIterator[Event]:
    """Events from the lines of an SSE stream (comments and `retry:` are skipped); an event
    is at most MAX_EVENT_BYTES and must be a valid Event, else GridClientError."""
    data: list[str] = []
    size = 0
    async for line in lines:
        if line == "":
            if data:
                yield valid(Event, parse_json("\n".join(data).encode(), "event"))
                data, size = [], 0
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value.removeprefix(" "))
            size += len(value) + 1
            if size > MAX_EVENT_BYTES:
                raise GridClientError(0, f"The grid sent an event over {MAX_EVENT_BYTES} bytes.")


def error_from(response: httpx.Response, *, lease: bool = False) -> GridClientError:
    try:
        found = boundedjson.loads(response.content, max_depth=8, max_bytes=MAX_ERROR_BYTES)
        detail = found.get("detail") if isinstance(found, dict) else None
    except (ValueError, httpx.ResponseNotRead):
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

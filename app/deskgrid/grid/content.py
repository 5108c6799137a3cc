"""Content from a grid the client does not control, received within bounds.

A worker talks to grids it does not trust: the bytes of a download are counted while they
arrive and the transfer stops as soon as they pass the cap (whatever `Content-Length` says, or
when it is absent), nothing is decompressed (a small compressed body can unpack to gigabytes),
redirects are not followed, the sha256 is computed while streaming and the file appears under
its name only when it matches. Data ids are checked as hex sha256 before they go into a URL or
a path, and a grid URL must be plain http(s).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from deskgrid.errors import DeskGridError
from deskgrid.grid.transport import CHUNK, GridClientError, GridUnavailable, error_from

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# A download may take this long plus the time to receive its cap at this rate: a grid that
# dribbles its bytes cannot hold a worker for ever.
MIN_RATE = 256 * 1024  # bytes/s
BASE_SECONDS = 60.0


class ContentRefused(GridClientError):
    """The grid sent content the client will not keep (too large, another hash, compressed,
    a redirect...): asking again would not help; the job's inputs are bad."""

    def __init__(self, detail: str) -> None:
        super().__init__(422, detail)


class ContentTooLarge(ContentRefused):
    """Content larger than the client takes (declared, or sent past the limit)."""


def check_sha256(value: object) -> str:
    """`value` if it is a lowercase hex sha256, else ContentRefused (nothing of it goes into a
    URL or a path)."""
    if not isinstance(value, str) or not SHA256_RE.match(value):
        raise ContentRefused(f"The grid gave a data id that is not a sha256: {str(value)[:80]!r}.")
    return value


def check_grid_url(url: str) -> str:
    """The grid's URL without a trailing slash, or a DeskGridError sentence: it must be http or
    https with a host, and carry no user name, query or fragment."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # a port that is not a number raises ValueError
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeskGridError(
            f"The grid URL {url!r} is not an http:// or https:// address with a host name; "
            "give the grid's address, e.g. https://grid.example.org."
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise DeskGridError(
            f"The grid URL {url!r} carries a user name, a query or a fragment; give only the "
            "scheme, host, port and path of the grid."
        )
    return url.strip().rstrip("/")


def _refuse_headers(response: httpx.Response, sha256: str, max_bytes: int | None) -> None:
    if response.status_code >= 400:
        raise error_from(response)
    if response.status_code != 200:  # a redirect (never followed) or anything else unexpected
        raise ContentRefused(
            f"The grid answered {response.status_code} instead of the data {sha256}; "
            "a worker does not follow redirects."
        )
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ContentRefused(f"The grid sent the data {sha256} compressed ({encoding}).")
    declared = response.headers.get("content-length")
    if declared is not None and max_bytes is not None:
        if not declared.strip().isdigit():
            raise ContentRefused(f"The grid sent a bad Content-Length for the data {sha256}.")
        if int(declared) > max_bytes:
            raise ContentTooLarge(
                f"The data {sha256} is {int(declared)} bytes, more than the "
                f"{max_bytes} bytes accepted here."
            )


async def stream_to_file(
    http: httpx.AsyncClient,
    url: str,
    sha256: str,
    path: Path,
    *,
    headers: dict[str, str],
    max_bytes: int | None,
) -> int:
    """GET `url` into `path` (created only when the content is whole and hashes to `sha256`);
    returns its size. ContentRefused when it is larger than `max_bytes`, another content or
    not a plain 200 answer; GridUnavailable when the grid cannot be reached."""
    check_sha256(sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".download-")
    tmp = Path(tmp_name)
    hasher = hashlib.sha256()
    size = 0
    seconds = BASE_SECONDS + (max_bytes if max_bytes is not None else 1 << 30) / MIN_RATE
    request_headers = {**headers, "Accept-Encoding": "identity"}
    try:
        with os.fdopen(fd, "wb") as handle:
            async with asyncio.timeout(seconds):
                async with http.stream(
                    "GET", url, headers=request_headers, follow_redirects=False
                ) as response:
                    if response.status_code >= 400:
                        await _read_some(response)
                    _refuse_headers(response, sha256, max_bytes)
                    async for chunk in response.aiter_raw(CHUNK):
                        size += len(chunk)
                        if max_bytes is not None and size > max_bytes:
                            raise ContentTooLarge(
                                f"The data {sha256} is larger than the {max_bytes} bytes "
                                "accepted here; the download was stopped."
                            )
                        hasher.update(chunk)
                        handle.write(chunk)
        if hasher.hexdigest() != sha256:
            raise ContentRefused(f"The data received for {sha256} has another sha256.")
        os.replace(tmp, path)
        return size
    except TimeoutError:
        raise ContentRefused(
            f"The data {sha256} did not arrive within {seconds:.0f} s; the download was stopped."
        ) from None
    except httpx.TransportError as exc:
        raise GridUnavailable(0, f"Cannot reach the grid ({type(exc).__name__}).") from exc
    finally:
        tmp.unlink(missing_ok=True)


async def _read_some(response: httpx.Response, limit: int = 64 * 1024) -> None:
    """Read an error answer's body, at most `limit` bytes of it, so `error_from` can parse it."""
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > limit:
            break
    response._content = bytes(body[:limit])  # noqa: SLF001 - the bounded body, for error_from

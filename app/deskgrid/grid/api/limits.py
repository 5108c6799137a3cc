"""ASGI guards on request bodies.

`BodyLimit`: JSON bodies are small; data and result uploads may be large up to their own
limit. Oversized requests get 413 with a sentence, before the body is read when
Content-Length says so, or as soon as the stream passes the limit.

`JsonBounds`: a JSON body (any body but an upload's: FastAPI reads a body without a
content type as JSON too) is read whole (within `BodyLimit`) and checked by
`deskgrid.boundedjson` before FastAPI parses it: too deep, not UTF-8, lone surrogates,
NaN/Infinity or absurd numbers get 422 (the decoder recurses per nesting level, and deep
enough JSON would crash the process)."""

from __future__ import annotations

import json
from typing import Any

from deskgrid import boundedjson

API = "/api/v1"


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: Any, *, json_bytes: int, upload_bytes: int) -> None:
        self.app = app
        self.json_bytes = json_bytes
        self.upload_bytes = upload_bytes

    def limit_for(self, path: str) -> int:
        return self.upload_bytes if is_upload(path) else self.json_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await reply(send, 400, "The Content-Length header is not a number.")
                    return
                if declared > limit:
                    await reply(send, 413, _message(limit))
                    return
        received = 0
        started = False

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await reply(send, 413, _message(limit))


def is_upload(path: str) -> bool:
    """Routes whose body is raw bytes (data and result uploads), not JSON."""
    return path.startswith(API + "/data/") or (
        path.startswith(API + "/leases/") and path.endswith("/result")
    )


class JsonBounds:
    def __init__(self, app: Any, *, max_depth: int) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") in ("GET", "HEAD", "OPTIONS")
            or is_upload(scope.get("path", ""))
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            try:
                boundedjson.loads(body, max_depth=self.max_depth, max_bytes=None)
            except boundedjson.JsonRejected as exc:
                if exc.reason != "invalid":  # FastAPI answers invalid JSON itself (422)
                    await reply(send, 422, exc.message, close=False)  # the body was read
                    return
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()  # http.disconnect when the client goes away
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _message(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes."


async def reply(
    send: Any,
    status: int,
    detail: str,
    headers: list[tuple[bytes, str]] | None = None,
    *,
    close: bool = True,
) -> None:
    """A refusal from a guard: the API's JSON sentence. With `close`, the connection ends after
    it (a large body is then never read); without, the server skips the rest of a small body
    and the client reliably reads the refusal (a 401 that makes it log in again, a 429)."""
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *([(b"connection", b"close")] if close else []),
                *((name, value.encode("latin-1")) for name, value in headers or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

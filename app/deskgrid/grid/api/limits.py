"""An ASGI guard on request body sizes: JSON bodies are small; data and result uploads may be
large up to their own limit. Oversized requests get 413 with a sentence, before the body
is read when Content-Length says so, or as soon as the stream passes the limit."""

from __future__ import annotations

import json
from typing import Any

API = "/api/v1"


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: Any, *, json_bytes: int, upload_bytes: int) -> None:
        self.app = app
        self.json_bytes = json_bytes
        self.upload_bytes = upload_bytes

    def limit_for(self, path: str) -> int:
        if path.startswith(API + "/data/") or (
            path.startswith(API + "/leases/") and path.endswith("/result")
        ):
            return self.upload_bytes
        return self.json_bytes

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
                    await _reply(send, 400, "The Content-Length header is not a number.")
                    return
                if declared > limit:
                    await _reply(send, 413, _message(limit))
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
                await _reply(send, 413, _message(limit))


def _message(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes."


async def _reply(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

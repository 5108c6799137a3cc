"""A published app's result, fetched by its requester: the name it is offered under, whether
the task asked for it encrypted, and the download itself (the digest read from the chain, the
content from the grid's data store, checked and decrypted by `market.requester_data`).

    name = result_file_name("0x12…", manifest.result.media_type)   # "0x12….json"
    path = await save_result(grid_url, account, hub, task_id, to)  # DeskGridError: a sentence
"""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path
from typing import Any

from deskgrid import boundedjson
from deskgrid.crypto.ecies import encryption_context
from deskgrid.errors import DeskGridError

# what the usual result media types are saved as (mimetypes knows more, but not always these)
EXTENSIONS = {
    "application/json": ".json",
    "text/plain": ".txt",
    "text/csv": ".csv",
    "application/octet-stream": ".bin",
}


def result_file_name(task_id: str, media_type: str) -> str:
    """The name a task's result is offered under: `<task id>.<extension of its media type>`."""
    extension = EXTENSIONS.get(media_type) or mimetypes.guess_extension(media_type) or ".bin"
    return task_id + extension


def asks_encrypted(params_text: str) -> bool:
    """Whether a request's task document gives a result key (its result is then encrypted)."""
    try:
        doc = boundedjson.loads(params_text)
    except ValueError:
        return False
    return isinstance(doc, dict) and isinstance(doc.get("result_key"), str)


async def save_result(grid_url: str, account: Any, hub: Any, task_id: bytes, to: Path) -> Path:
    """Fetch task `task_id`'s result into `to`: its digest from the chain, its content from the
    grid (signed in as `account`), decrypted when the request gave a result key."""
    from deskgrid.market import requester_data

    hex_id = "0x" + task_id.hex()
    digest = await asyncio.to_thread(requester_data.task_result_digest, hub, task_id)
    if digest is None:
        raise DeskGridError(f"Task {hex_id} has no result on the chain yet.")
    params = await asyncio.to_thread(lambda: hub.task(task_id).params)
    return await requester_data.download_result(
        grid_url,
        account,
        digest,
        to,
        encrypted=asks_encrypted(params),
        context=encryption_context(hex_id, ""),
    )

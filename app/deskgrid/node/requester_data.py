"""A requester's data on a grid: the input files of a published app's task, sent to the grid's
content-addressed store, and the task's result, fetched back, checked and decrypted.

The wallet that pays for the task signs in to the grid as a requester (`dgr_…` token: data
only). Inputs are streamed (any size) and named in the task's request by their sha256; the
result is named on chain by the sha256 of what the workers stored (the ciphertext, when the
task asked for encryption to the wallet's key).

    digests = await upload_inputs(grid_url, account, {"text": Path("book.txt")})
    key = result_key_of(account)              # the task document's result_key
    ...pay the task...
    digest = task_result_digest(hub, task_id)
    await download_result(grid_url, account, digest, Path("out.json"), encrypted=True,
                          context=encryption_context(task_id_hex, ""))
    path = await save_result(grid_url, account, hub, task_id, to)   # all of it, from the chain
    name = result_file_name("0x12…", manifest.result.media_type)   # "0x12….json"
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from deskgrid import boundedjson
from deskgrid.chain.contracts import HubContract, TaskStatus
from deskgrid.crypto import ecies
from deskgrid.crypto.ecies import encryption_context
from deskgrid.errors import DeskGridError
from deskgrid.grid.client import ContentRefused, GridClient, GridClientError
from deskgrid.grid.content import ContentTooLarge

KEEP_FREE_BYTES = 256 * 2**20  # a result download never takes the disk below this


class RequesterDataError(DeskGridError):
    """An input that cannot be sent or a result that cannot be fetched; the message says why
    and what to do."""


def result_key_of(account: LocalAccount) -> str:
    """The wallet's compressed public key, hex without 0x: the key results are encrypted to."""
    return ecies.public_key_of(bytes(account.key)).hex()


def readable_inputs(files: Mapping[str, Path | str]) -> dict[str, Path]:
    """The input files, each checked to be a file this program can read (a sentence naming the
    input when one is not)."""
    checked: dict[str, Path] = {}
    for name, given in files.items():
        path = Path(given).expanduser()
        if not path.is_file():
            raise RequesterDataError(
                f"The input {name!r} is {str(path)!r}, which is not a file; give the path of "
                "an existing file."
            )
        try:
            with path.open("rb") as handle:
                handle.read(1)
        except OSError as exc:
            raise RequesterDataError(
                f"The input {name!r} ({path}) cannot be read ({exc.strerror or exc}); check "
                "its permissions."
            ) from None
        checked[name] = path
    return checked


async def upload_inputs(
    grid_url: str, account: LocalAccount, files: Mapping[str, Path | str]
) -> dict[str, str]:
    """Store each input file on the grid (signed in with the wallet as a requester, streamed,
    counted against the wallet's daily upload quota); returns input name -> sha256."""
    paths = readable_inputs(files)
    digests: dict[str, str] = {}
    if not paths:
        return digests
    async with GridClient(grid_url) as grid:
        await grid.sign_in_requester(account)
        for name, path in paths.items():
            try:
                ref = await grid.upload_file(path)
            except GridClientError as exc:
                raise RequesterDataError(
                    f"The grid at {grid.url} did not store the input {name!r} ({path.name}): "
                    f"{exc.detail}"
                ) from exc
            digests[name] = ref.sha256
    return digests


def task_result_digest(hub: HubContract, task_id: bytes | str) -> str | None:
    """The sha256 (hex) of a completed task's result as the chain records it; None while the
    task is not completed (active, failed, or unknown)."""
    raw = bytes.fromhex(task_id.removeprefix("0x")) if isinstance(task_id, str) else task_id
    task = hub.task(raw)
    if task.status is not TaskStatus.COMPLETED or task.result_digest == bytes(32):
        return None
    return task.result_digest.hex()


async def download_result(
    grid_url: str,
    account: LocalAccount,
    result_digest: str,
    to: Path,
    *,
    encrypted: bool,
    context: bytes,
    keep_free: int = KEEP_FREE_BYTES,
) -> Path:
    """Fetch the result stored under `result_digest` into `to`: downloaded beside it, checked
    against the digest, decrypted with the wallet's key when `encrypted` (and its convergent
    derivation under `context` checked), then renamed into place. On any error nothing is
    written at `to` and a RequesterDataError says why."""
    to = Path(to).expanduser()
    folder = to.parent if str(to.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RequesterDataError(
            f"Cannot create the folder {folder} for the result ({exc.strerror or exc}); "
            "choose another place with --to."
        ) from None
    # a grid that sends without end stops at the disk's floor, never fills the disk
    limit = max(0, shutil.disk_usage(folder).free - keep_free)
    fd, name = tempfile.mkstemp(dir=folder, prefix=f".{to.name}.", suffix=".download")
    os.close(fd)
    fetched = Path(name)
    try:
        async with GridClient(grid_url) as grid:
            await grid.sign_in_requester(account)
            try:
                await grid.download_data_to(result_digest, fetched, max_bytes=limit)
            except ContentTooLarge as exc:
                raise RequesterDataError(
                    f"The result the grid at {grid.url} sent is larger than the free space of "
                    f"{folder} allows (keeping {keep_free // 2**20:,} MiB free): "
                    f"{exc.detail} Nothing was written; free some space or choose another "
                    "place with --to."
                ) from exc
            except ContentRefused as exc:
                raise RequesterDataError(
                    f"The result the grid at {grid.url} sent does not match the digest the "
                    f"chain records ({result_digest}): {exc.detail} Nothing was written; try "
                    "again, or ask the grid's operator."
                ) from exc
            except GridClientError as exc:
                if exc.status == 404:
                    raise RequesterDataError(
                        f"The grid at {grid.url} does not have the result {result_digest} "
                        "(it may have collected it, or the task ran on another grid); ask "
                        "the grid that ran the task."
                    ) from exc
                raise RequesterDataError(
                    f"The grid at {grid.url} did not send the result: {exc.detail}"
                ) from exc
        if encrypted:
            _decrypt(account, fetched, to, context)
        else:
            os.replace(fetched, to)
    finally:
        with contextlib.suppress(OSError):
            fetched.unlink()
    return to


def _decrypt(account: LocalAccount, sealed: Path, to: Path, context: bytes) -> None:
    """Decrypt `sealed` into `to`, which appears only once the whole result authenticated and
    was found encrypted the way every honest replica encrypts it (convergent, under
    `context`)."""
    key = bytes(account.key)
    opened = sealed.with_name(sealed.name + ".plain")
    try:
        try:
            ecies.decrypt_file(key, sealed, opened)
        except ecies.EncryptedDataError as exc:
            raise RequesterDataError(f"{exc.message} Nothing was written.") from exc
        if not ecies.check_convergent(key, sealed, context):
            raise RequesterDataError(
                "This result was not encrypted the way the task's workers encrypt it (for this "
                f"task, {context.decode('ascii', 'replace')}): it is not the result the task "
                "agreed on. Nothing was written; ask the grid's operator."
            )
        os.replace(opened, to)
    finally:
        opened.unlink(missing_ok=True)


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
    hex_id = "0x" + task_id.hex()
    digest = await asyncio.to_thread(task_result_digest, hub, task_id)
    if digest is None:
        raise DeskGridError(f"Task {hex_id} has no result on the chain yet.")
    params = await asyncio.to_thread(lambda: hub.task(task_id).params)
    return await download_result(
        grid_url,
        account,
        digest,
        to,
        encrypted=asks_encrypted(params),
        context=encryption_context(hex_id, ""),
    )

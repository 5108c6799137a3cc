"""Files replaced in one step: written to a temporary file beside the target, flushed to disk,
then renamed over it, so a crash leaves the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def write_atomic(
    path: Path, data: bytes | str, *, mode: int = 0o600, sync_folder: bool = False
) -> Path:
    """Replace `path` with `data` (str: UTF-8). `mode` is set before any byte is written
    (0600 by default: owner only); `sync_folder` also flushes the rename itself to disk."""
    with open_atomic(path, mode=mode, sync_folder=sync_folder) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    return path


@contextlib.contextmanager
def open_atomic(path: Path, *, mode: int = 0o600, sync_folder: bool = False) -> Iterator[BinaryIO]:
    """A binary file to write in steps that replaces `path` when the block ends without an
    error; on an error `path` is left as it was and the temporary file removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_folder:
        fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (renames, new files) to disk; a no-op where folders cannot be
    opened (Windows)."""
    if os.name != "posix":  # pragma: no cover - directories cannot be opened on Windows
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

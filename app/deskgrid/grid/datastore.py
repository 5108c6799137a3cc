"""Content-addressed files: every blob is stored once, under its sha256, in the data folder.

Uploads are written to a temporary file while hashed, checked, then renamed into place, so a
reader never sees a partial file and a crash leaves no corrupt blob.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import secrets
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from deskgrid.grid.errors import BadRequest, NotFound, TooLarge
from deskgrid.grid.models import DataRef

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_sha256(value: str) -> str:
    if not _SHA256.match(value or ""):
        raise BadRequest("A content hash is 64 lowercase hexadecimal characters (sha256).")
    return value


class DataStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._dirs: set[Path] = set()
        self._count = itertools.count()
        self._id = secrets.token_hex(4)

    def path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / "sha256" / sha256[:2] / sha256

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def exists(self, sha256: str) -> bool:
        return self.size(sha256) is not None

    def read_bytes(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"No data with sha256 {sha256} is stored here.") from None

    def put_bytes(self, data: bytes, expected: str | None = None) -> DataRef:
        digest = hashlib.sha256(data).hexdigest()
        if expected is not None and expected != digest:
            raise BadRequest(_mismatch(expected, digest))
        target = self.path(digest)
        if not target.exists():
            self._make_dir(target.parent)
            # next to its target, so the rename stays in one folder; unique across processes
            # and across stores sharing one folder in one process
            tmp = target.parent / f".{digest}.{os.getpid()}.{self._id}.{next(self._count)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
            self._install(tmp, target)
        return DataRef(sha256=digest, size=len(data))

    async def put_stream(
        self, chunks: AsyncIterator[bytes], *, limit: int, expected: str | None = None
    ) -> DataRef:
        """Store a streamed upload of at most `limit` bytes; `expected` is its claimed sha256."""
        if expected is not None:
            check_sha256(expected)
        hasher = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(f"The upload is larger than the limit of {limit} bytes.")
                    hasher.update(chunk)
                    handle.write(chunk)
            digest = hasher.hexdigest()
            if expected is not None and expected != digest:
                raise BadRequest(_mismatch(expected, digest))
            target = self.path(digest)
            if target.exists():
                tmp.unlink()
            else:
                self._install(tmp, target)
            return DataRef(sha256=digest, size=size)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _install(self, tmp: Path, target: Path) -> None:
        self._make_dir(target.parent)
        os.replace(tmp, target)

    def _make_dir(self, folder: Path) -> None:
        if folder not in self._dirs:
            folder.mkdir(parents=True, exist_ok=True)
            self._dirs.add(folder)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _mismatch(expected: str, actual: str) -> str:
    return (
        f"The content does not match its declared sha256 ({expected}); "
        f"the bytes received hash to {actual}. Upload the file again."
    )

"""Content-addressed data: every blob is stored once, under its sha256.

Small blobs (at most `SMALL_BLOB_BYTES`: results of trivial jobs, small inputs) are rows of
the grid's database (`blobs`), so a result reported inline costs one row in the transaction
that records it instead of a file of its own. Larger ones are files in the data folder:
written to a temporary file while hashed, checked, then renamed into place, so a reader never
sees a partial file and a crash leaves no corrupt blob. Readers look in both places.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import secrets
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from deskgrid.grid.clock import Clock, SystemClock
from deskgrid.grid.db import Database
from deskgrid.grid.errors import BadRequest, NotFound, TooLarge
from deskgrid.grid.files import FILE_MODE, private_dir
from deskgrid.grid.models import DataRef
from deskgrid.grid.rawsql import Raw, Sql

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
SMALL_BLOB_BYTES = 64 * 1024

INSERT_BLOB = Sql(
    "INSERT INTO blobs (sha256, size, content, created_at) "
    "VALUES (:sha256, :size, :content, :now) "
    "ON CONFLICT (sha256) DO UPDATE SET created_at = excluded.created_at"
)
BLOB_CONTENT = Sql("SELECT content FROM blobs WHERE sha256 = :sha256")
BLOB_SIZE = Sql("SELECT size FROM blobs WHERE sha256 = :sha256")
TOUCH_BLOB = Sql("UPDATE blobs SET created_at = :now WHERE sha256 = :sha256 RETURNING size")


def check_sha256(value: str) -> str:
    if not _SHA256.match(value or ""):
        raise BadRequest("A content hash is 64 lowercase hexadecimal characters (sha256).")
    return value


def insert_blobs(db: Raw, blobs: Mapping[str, bytes], now: float) -> None:
    """Store small blobs (sha256 -> content, already checked) in the caller's transaction."""
    if blobs:
        rows = [
            {"sha256": k, "size": len(v), "content": v, "now": now}
            for k, v in sorted(blobs.items())
        ]
        db.execute_many(INSERT_BLOB, rows)


class DataStore:
    def __init__(
        self,
        root: Path,
        db: Database,
        *,
        small_limit: int = SMALL_BLOB_BYTES,
        clock: Clock | None = None,
    ) -> None:
        self.root = root
        self.db = db
        self.clock = clock or SystemClock()
        self.small_limit = small_limit
        self._tmp = root / "tmp"
        private_dir(root)
        private_dir(self._tmp)
        self._dirs: set[Path] = set()
        self._count = itertools.count()
        self._id = secrets.token_hex(4)

    def path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / "sha256" / sha256[:2] / sha256

    def size(self, sha256: str) -> int | None:
        check_sha256(sha256)
        with self.db.read() as conn:
            size = Raw(conn).scalar(BLOB_SIZE, {"sha256": sha256})
        if size is not None:
            return int(size)
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def exists(self, sha256: str) -> bool:
        return self.size(sha256) is not None

    def touch(self, sha256: str) -> int | None:
        """The size of stored content (None: not stored), whose age starts again now: it
        was stored again or named by a submission, so collection keeps it for another grace
        period (see `collection`)."""
        check_sha256(sha256)
        with self.db.write() as conn:
            size = Raw(conn).scalar(TOUCH_BLOB, {"sha256": sha256, "now": self.clock.now()})
        if size is not None:
            return int(size)
        path = self.path(sha256)
        try:
            now = self.clock.now()
            os.utime(path, (now, now))
            return path.stat().st_size
        except FileNotFoundError:
            return None

    def locate(self, sha256: str) -> bytes | Path | None:
        """A small blob's bytes, a large one's file, or None if it is not stored."""
        content = self._row(sha256)
        if content is not None:
            return content
        path = self.path(sha256)
        return path if path.exists() else None

    def read_bytes(self, sha256: str, db: Raw | None = None) -> bytes:
        """The stored bytes; `db`: read through that open transaction (which sees the blobs
        it inserted itself)."""
        content = self._row(sha256, db)
        if content is not None:
            return content
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"No data with sha256 {sha256} is stored here.") from None

    def _row(self, sha256: str, db: Raw | None = None) -> bytes | None:
        check_sha256(sha256)
        if db is not None:
            content = db.scalar(BLOB_CONTENT, {"sha256": sha256})
        else:
            with self.db.read() as conn:
                content = Raw(conn).scalar(BLOB_CONTENT, {"sha256": sha256})
        return None if content is None else bytes(content)

    def check(self, data: bytes, expected: str | None = None) -> DataRef:
        """The reference of `data`; BadRequest if it does not hash to `expected`."""
        digest = hashlib.sha256(data).hexdigest()
        if expected is not None and expected != digest:
            raise BadRequest(_mismatch(expected, digest))
        return DataRef(sha256=digest, size=len(data))

    def is_small(self, size: int) -> bool:
        return size <= self.small_limit

    def put_bytes(self, data: bytes, expected: str | None = None) -> DataRef:
        ref = self.check(data, expected)
        if self.is_small(len(data)):
            with self.db.write() as conn:
                insert_blobs(Raw(conn), {ref.sha256: data}, self.clock.now())
            return ref
        digest = ref.sha256
        target = self.path(digest)
        if not self._refresh(target):
            self._make_dir(target.parent)
            # next to its target, so the rename stays in one folder; unique across processes
            # and across stores sharing one folder in one process
            tmp = target.parent / f".{digest}.{os.getpid()}.{self._id}.{next(self._count)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
            self._install(tmp, target)
        return ref

    async def put_stream(
        self, chunks: AsyncIterator[bytes], *, limit: int, expected: str | None = None
    ) -> DataRef:
        """Store a streamed upload of at most `limit` bytes; `expected` is its claimed sha256."""
        if expected is not None:
            check_sha256(expected)
        head = bytearray()  # kept in memory while small enough for the database
        stream = aiter(chunks)
        async for chunk in stream:
            head += chunk
            _check_limit(len(head), limit)
            if not self.is_small(len(head)):
                break
        else:
            return self.put_bytes(bytes(head), expected)
        hasher = hashlib.sha256(head)
        size = len(head)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(head)
                async for chunk in stream:
                    size += len(chunk)
                    _check_limit(size, limit)
                    hasher.update(chunk)
                    handle.write(chunk)
            digest = hasher.hexdigest()
            if expected is not None and expected != digest:
                raise BadRequest(_mismatch(expected, digest))
            target = self.path(digest)
            if self._refresh(target):
                tmp.unlink()
            else:
                self._install(tmp, target)
            return DataRef(sha256=digest, size=size)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    async def receive_again(
        self, chunks: AsyncIterator[bytes], *, limit: int, expected: str
    ) -> None:
        """Receive an upload of content that is already stored (at most `limit` bytes) and
        check that it hashes to `expected`, keeping nothing: who sends it must have the bytes,
        not only their digest. BadRequest if it does not match."""
        hasher = hashlib.sha256()
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            _check_limit(size, limit)
            hasher.update(chunk)
        digest = hasher.hexdigest()
        if digest != expected:
            raise BadRequest(_mismatch(expected, digest))

    def _refresh(self, target: Path) -> bool:
        """True if `target` is stored; its age starts again now."""
        try:
            now = self.clock.now()
            os.utime(target, (now, now))
            return True
        except FileNotFoundError:
            return False

    def _install(self, tmp: Path, target: Path) -> None:
        self._make_dir(target.parent)
        now = self.clock.now()
        os.utime(tmp, (now, now))  # its age, for collection, on the grid's clock
        os.replace(tmp, target)

    def _make_dir(self, folder: Path) -> None:
        if folder not in self._dirs:
            private_dir(folder)
            self._dirs.add(folder)


def _check_limit(size: int, limit: int) -> None:
    if size > limit:
        raise TooLarge(f"The upload is larger than the limit of {limit} bytes.")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _mismatch(expected: str, actual: str) -> str:
    return (
        f"The content does not match its declared sha256 ({expected}); "
        f"the bytes received hash to {actual}. Upload the file again."
    )

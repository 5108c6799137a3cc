"""Finished results kept on disk until the grid acknowledges them.

Each result is two files in the pending folder: `<lease_id>.result` (the bytes) and
`<lease_id>.json` (job id, app, sha256, size, when, and the worker's address: workers of one
node share the folder, and each uploads only its own results). Both are written atomically
(temporary file, fsync, rename) and the `.json` last: it marks a complete entry, so a crash
in between leaves only a stray `.result`, which `entries()` ignores and `clean()` removes.
A worker that restarts uploads its complete entries before asking for new work.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from deskgrid.atomicfile import write_atomic
from deskgrid.grid.transport import file_sha256

_LEASE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@dataclass(frozen=True)
class PendingResult:
    lease_id: str
    job_id: str
    app: str
    sha256: str
    size: int
    finished_at: float
    worker: str = ""  # the address of the worker whose lease it is


class PendingStore:
    """The folder of results waiting for the grid's acknowledgement."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def _paths(self, lease_id: str) -> tuple[Path, Path]:
        if not _LEASE_ID.match(lease_id):
            raise ValueError(f"Not a lease id: {lease_id!r}")
        return self.folder / f"{lease_id}.result", self.folder / f"{lease_id}.json"

    def save(
        self, lease_id: str, job_id: str, app: str, data: bytes, worker: str = ""
    ) -> PendingResult:
        """Keep a finished result (durably) before anything is sent."""
        result_path, meta_path = self._paths(lease_id)
        entry = PendingResult(
            lease_id=lease_id,
            job_id=job_id,
            app=app,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            finished_at=time.time(),
            worker=worker.lower(),
        )
        write_atomic(result_path, data, sync_folder=True)
        write_atomic(meta_path, json.dumps(asdict(entry), sort_keys=True), sync_folder=True)
        return entry

    def incoming(self, lease_id: str) -> Path:
        """Where a runner moves the result file of `lease_id` (then `adopt` it)."""
        result_path, _ = self._paths(lease_id)
        return result_path.with_suffix(".incoming")

    def adopt(
        self, lease_id: str, job_id: str, app: str, source: Path, worker: str = ""
    ) -> PendingResult:
        """Keep a finished result that is already a file (moved, never read into memory)."""
        result_path, meta_path = self._paths(lease_id)
        with source.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(source, result_path)
        entry = PendingResult(
            lease_id=lease_id,
            job_id=job_id,
            app=app,
            sha256=file_sha256(result_path),
            size=result_path.stat().st_size,
            finished_at=time.time(),
            worker=worker.lower(),
        )
        write_atomic(meta_path, json.dumps(asdict(entry), sort_keys=True), sync_folder=True)
        return entry

    def intact_path(self, entry: PendingResult) -> Path | None:
        """The result's file when it is there and matches its sha256 (read in chunks)."""
        result_path, _ = self._paths(entry.lease_id)
        try:
            return result_path if file_sha256(result_path) == entry.sha256 else None
        except OSError:
            return None

    def entries(self, worker: str | None = None) -> list[PendingResult]:
        """Complete entries (those of `worker` when given), oldest first; a damaged one is
        skipped."""
        found: list[PendingResult] = []
        for meta_path in self.folder.glob("*.json"):
            try:
                entry = PendingResult(**json.loads(meta_path.read_text(encoding="utf-8")))
                result_path, _ = self._paths(entry.lease_id)
            except (OSError, ValueError, TypeError):
                continue
            mine = worker is None or entry.worker in ("", worker.lower())
            if mine and result_path.exists():
                found.append(entry)
        return sorted(found, key=lambda e: e.finished_at)

    def load(self, entry: PendingResult) -> bytes | None:
        """The result's bytes, or None when they are missing or do not match their sha256."""
        result_path, _ = self._paths(entry.lease_id)
        try:
            data = result_path.read_bytes()
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == entry.sha256 else None

    def remove(self, lease_id: str) -> None:
        """Forget a result (acknowledged by the grid, or its lease is gone): meta first."""
        result_path, meta_path = self._paths(lease_id)
        meta_path.unlink(missing_ok=True)
        result_path.unlink(missing_ok=True)

    def clean(self) -> int:
        """Remove `.result` files without a meta file and stray temporary files."""
        count = 0
        for path in self.folder.iterdir():
            orphan = path.suffix == ".result" and not path.with_suffix(".json").exists()
            if orphan or path.name.endswith((".tmp", ".incoming")):
                path.unlink(missing_ok=True)
                count += 1
        return count

"""Collecting unreferenced data: stored content that no job the grid still holds refers to
(as an input, or as a lease's result, the canonical one included) and that was stored, stored
again or named by a submission more than `data_grace_s` ago is deleted, database rows and
files alike, in small batches that walk the store a little further each round.

Races: a submitter uploads content, then submits the job that names it. Between the two,
the content is referenced by nothing; the grace period keeps it (storing it again, even
when it was already stored, and naming it in a submission start its grace period again, so
content named by a job being submitted right now is always fresh). A row is deleted by one
statement that checks, as it deletes, that it is still old and unreferenced; a file is
checked against the database, then its age is read again just before it is unlinked.
Leftover temporary files (an upload cut off by a crash) older than the grace are deleted
too. The image archives of the published apps the grid serves (`keep`) are never deleted.
With content, the record of who uploaded it (`data_access`) goes, unless it was renewed
after the cutoff (uploaded again meanwhile).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection
from pathlib import Path

from deskgrid.grid.clock import Clock
from deskgrid.grid.config import GridConfig
from deskgrid.grid.datastore import DataStore
from deskgrid.grid.db import Database
from deskgrid.grid.rawsql import Raw, Sql

_REFERENCED = (
    "EXISTS (SELECT 1 FROM leases WHERE leases.result_sha256 = {x}) "
    "OR EXISTS (SELECT 1 FROM job_inputs WHERE job_inputs.sha256 = {x})"
)
OLD_BLOBS = Sql(
    """
SELECT sha256, created_at FROM blobs
WHERE created_at < :cutoff AND (created_at, sha256) > (:after_at, :after)
ORDER BY created_at, sha256
LIMIT :limit
"""
)
DELETE_UNREFERENCED_BLOB = Sql(
    "DELETE FROM blobs WHERE sha256 = :sha256 AND created_at < :cutoff "
    f"AND NOT ({_REFERENCED.format(x=':sha256')})"
)
# The uploaders recorded for content that is gone (`data_access`); a record renewed since
# the cutoff (the content uploaded again meanwhile) stays.
FORGET_UPLOADERS = Sql(
    "DELETE FROM data_uploads WHERE sha256 = :sha256 AND recorded_at < :cutoff "
    "AND NOT EXISTS (SELECT 1 FROM blobs WHERE blobs.sha256 = :sha256)"
)
IS_REFERENCED = Sql(f"SELECT ({_REFERENCED.format(x=':sha256')})")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class Collector:
    def __init__(
        self,
        db: Database,
        data: DataStore,
        config: GridConfig,
        clock: Clock,
        *,
        keep: Callable[[], Collection[str]] = frozenset,
    ) -> None:
        """`keep()`: content kept whatever refers to it (the served apps' image archives)."""
        self.db = db
        self.keep = keep
        self.data = data
        self.config = config
        self.clock = clock
        self._after: tuple[float, str] = (-1.0, "")  # the rows' walk: last (age, hash) seen
        self._folders: list[Path] = []  # the files' walk: folders still to list
        self._files: list[Path] = []  # and files still to look at

    def collect_rows(self, limit: int) -> int:
        """Look at the next `limit` old rows of the blobs table; delete the unreferenced
        ones. Returns how many were looked at (fewer than `limit`: the walk starts over)."""
        cutoff = self.clock.now() - self.config.data_grace_s
        after_at, after = self._after
        with self.db.write() as conn:
            db = Raw(conn)
            params = {"cutoff": cutoff, "after_at": after_at, "after": after, "limit": limit}
            old = db.all(OLD_BLOBS, params)
            kept = self.keep()
            rows = [
                {"sha256": row["sha256"], "cutoff": cutoff}
                for row in old
                if row["sha256"] not in kept
            ]
            if rows:
                db.execute_many(DELETE_UNREFERENCED_BLOB, rows)
                db.execute_many(FORGET_UPLOADERS, rows)
        if len(old) == limit:
            self._after = (old[-1]["created_at"], old[-1]["sha256"])
        else:  # the end of the old rows: the next walk starts over
            self._after = (-1.0, "")
        return len(old)

    def collect_files(self, limit: int) -> int:
        """Look at the next `limit` files of the data folder; delete the old unreferenced
        ones and old leftovers. Returns how many were looked at (fewer than `limit`: the
        walk reached its end, the next one starts over)."""
        batch = self._next_files(limit)
        cutoff = self.clock.now() - self.config.data_grace_s
        old = [path for path in batch if _older(path, cutoff)]
        leftovers = [path for path in old if not _DIGEST.match(path.name)]
        kept = self.keep()
        stored = [path for path in old if _DIGEST.match(path.name) and path.name not in kept]
        unreferenced = []
        if stored:
            with self.db.read() as conn:
                db = Raw(conn)
                for path in stored:
                    if not db.scalar(IS_REFERENCED, {"sha256": path.name}):
                        unreferenced.append(path)
        for path in leftovers + unreferenced:
            if _older(path, cutoff):  # not stored again meanwhile
                path.unlink(missing_ok=True)
        gone = [{"sha256": p.name, "cutoff": cutoff} for p in unreferenced if not p.exists()]
        if gone:
            with self.db.write() as conn:
                Raw(conn).execute_many(FORGET_UPLOADERS, gone)
        return len(batch)

    def _next_files(self, limit: int) -> list[Path]:
        """The walk's next `limit` files, folder after folder; fewer at its end."""
        if not self._folders and not self._files:  # a new walk
            shards = self.data.root / "sha256"
            self._folders = [self.data.root / "tmp"]
            if shards.is_dir():
                self._folders += sorted(p for p in shards.iterdir() if p.is_dir())
        batch: list[Path] = []
        while len(batch) < limit:
            if not self._files:
                if not self._folders:
                    break
                folder = self._folders.pop(0)
                try:
                    self._files = [Path(e.path) for e in os.scandir(folder) if e.is_file()]
                except FileNotFoundError:
                    continue
            taken = limit - len(batch)
            batch += self._files[:taken]
            self._files = self._files[taken:]
        return batch


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False

"""What a grid accepts to store: per-identity upload quotas and a floor of free disk space.

An identity is a submitter token or a worker's address. Submitters upload data (a job's
inputs); a worker uploads nothing but the results of its own live leases, so its storage is
bounded by its leases (one result per lease, at most `max_result_bytes`) and its leases by its
daily quota (`quota`). A submitter's uploads count against `upload_quota_bytes` a day: every
byte it sends, stored anew or stored again, in a window of a day that opens with its first
upload after the previous window closed. An upload reserves its declared size (or what is left)
before the body is read, so concurrent uploads cannot overrun the quota, and gives back what it
did not use.

The disk guard refuses an upload (507) when the data folder's disk would keep less than
`min_free_disk_bytes` free after it: the grid stops taking data before the disk is full and
its database can no longer record results.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import text

from deskgrid.grid.clock import Clock
from deskgrid.grid.config import MIB, GridConfig
from deskgrid.grid.db import Database
from deskgrid.grid.errors import InsufficientStorage, RateLimited
from deskgrid.grid.quota import DAY

_USAGE = text("SELECT window_start, bytes FROM upload_usage WHERE identity = :identity")
_USAGE_LOCKED = text(
    "SELECT window_start, bytes FROM upload_usage WHERE identity = :identity FOR UPDATE"
)
_SET_USAGE = text(
    "INSERT INTO upload_usage (identity, window_start, bytes) VALUES (:identity, :window, :bytes) "
    "ON CONFLICT (identity) DO UPDATE SET window_start = excluded.window_start, "
    "bytes = excluded.bytes"
)
_GIVE_BACK = text(
    "UPDATE upload_usage SET bytes = CASE WHEN bytes > :unused THEN bytes - :unused ELSE 0 END "
    "WHERE identity = :identity AND window_start = :window"
)
_FORGET = text("DELETE FROM upload_usage WHERE window_start < :before")


class UploadGuard:
    def __init__(self, db: Database, config: GridConfig, clock: Clock, folder: Path) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.folder = folder

    def check_disk(self, incoming: int) -> None:
        """Refuse (507) an upload of `incoming` bytes that would leave the data folder's disk
        with less than the configured floor free."""
        floor = self.config.min_free_disk_bytes
        if floor <= 0:
            return
        free = shutil.disk_usage(self.folder).free
        if free - incoming < floor:
            raise InsufficientStorage(
                f"The grid's disk is nearly full ({_mib(free)} free, keeping at least "
                f"{_mib(floor)}); the upload was refused. Try again later, or ask the grid's "
                "operator to free space (or lower --min-free-disk)."
            )

    def reserve(self, identity: str, size: int | None) -> tuple[int, float]:
        """Reserve `size` bytes (None: all that is left, at most one upload's limit) of the
        identity's daily quota; returns the bytes reserved and the window they count in.
        RateLimited (429, with when it frees) when they do not fit."""
        quota = self.config.upload_quota_bytes
        limit = self.config.max_data_bytes
        if quota <= 0:
            return (limit if size is None else size), 0.0
        now = self.clock.now()
        with self.db.write() as conn:
            query = _USAGE_LOCKED if self.db.is_postgresql else _USAGE
            row = conn.execute(query, {"identity": identity}).first()
            window, used = (now, 0) if row is None or now >= row[0] + DAY else (row[0], row[1])
            left = quota - int(used)
            wanted = min(limit, left) if size is None else size
            if wanted > left or left <= 0:
                frees = max(1.0, window + DAY - now)
                raise RateLimited(
                    f"This upload ({_mib(wanted)}) does not fit in the {_mib(left)} left of "
                    f"today's upload quota ({_mib(quota)} a day); the quota frees in "
                    f"{frees / 3600.0:.1f} h. Upload less, or ask the grid's operator to "
                    "raise --upload-quota.",
                    frees,
                )
            params = {"identity": identity, "window": window, "bytes": int(used) + wanted}
            conn.execute(_SET_USAGE, params)
        return wanted, window

    def give_back(self, identity: str, window: float, unused: int) -> None:
        """Return the part of a reservation an upload did not use."""
        if unused > 0 and self.config.upload_quota_bytes > 0:
            with self.db.write() as conn:
                params = {"identity": identity, "window": window, "unused": unused}
                conn.execute(_GIVE_BACK, params)

    def forget_old(self) -> int:
        """Drop the counters of windows that closed a day ago or more."""
        with self.db.write() as conn:
            return int(conn.execute(_FORGET, {"before": self.clock.now() - 2 * DAY}).rowcount)


def _mib(size: int) -> str:
    """A size for a sentence: bytes, KiB, MiB or GiB."""
    for unit, scale in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024)):
        if abs(size) >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} bytes"

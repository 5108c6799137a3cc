"""What a grid accepts to store: per-identity upload quotas and a floor of free disk space.

An identity is a submitter token or a worker's address. Submitters upload data (a job's
inputs); a worker uploads nothing but the results of its own live leases, so its storage is
bounded by its leases (one result per lease, at most `max_result_bytes`) and its leases by its
daily quota (`quota`). A submitter's uploads count against `upload_quota_bytes` a day: every
byte it sends, stored anew or stored again, in a window of a day that opens with its first
upload after the previous window closed. An upload reserves its declared size (or what is left)
before the body is read, so concurrent uploads cannot overrun the quota, and gives back what it
did not use.

A requester (a wallet storing its task's input files) counts against its own daily quota
(`requester_upload_quota_bytes`, per address) and, with all requesters together, against the
grid's hourly cap (`requester_upload_bytes_per_hour`): anyone can make wallets, so the cap
bounds what many of them can send an hour, and uploads nobody's job refers to are collected
after the data grace (`grid.collection`).

The disk guard refuses an upload (507) when the data folder's disk would keep less than
`min_free_disk_bytes` free after it: the grid stops taking data before the disk is full and
its database can no longer record results.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
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


REQUESTER_IDENTITY = "requester:"  # + the wallet's address
ALL_REQUESTERS = "requesters:hour"  # the counter of every requester's uploads in the hour
HOUR = 3600.0


@dataclass(frozen=True)
class Reservation:
    """Bytes reserved for one upload, and the counters (identity, window) they are charged to."""

    size: int
    counters: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class _Limit:
    identity: str
    quota: int
    period: float


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

    def _limits(self, identity: str) -> list[_Limit]:
        if not identity.startswith(REQUESTER_IDENTITY):
            return [_Limit(identity, self.config.upload_quota_bytes, DAY)]
        return [
            _Limit(identity, self.config.requester_upload_quota_bytes, DAY),
            _Limit(ALL_REQUESTERS, self.config.requester_upload_bytes_per_hour, HOUR),
        ]

    def reserve(self, identity: str, size: int | None) -> Reservation:
        """Reserve `size` bytes (None: all that is left, at most one upload's limit) of the
        identity's daily quota (a requester's: also of all requesters' hourly cap).
        RateLimited (429, with when it frees) when they do not fit."""
        limits = [limit for limit in self._limits(identity) if limit.quota > 0]
        wanted = self.config.max_data_bytes if size is None else size
        if not limits:
            return Reservation(wanted)
        now = self.clock.now()
        query = _USAGE_LOCKED if self.db.is_postgresql else _USAGE
        with self.db.write() as conn:
            usage = []
            for limit in limits:  # always in this order: the address, then the hourly cap
                row = conn.execute(query, {"identity": limit.identity}).first()
                fresh = row is None or now >= row[0] + limit.period
                window, used = (now, 0) if fresh else (float(row[0]), int(row[1]))
                usage.append((limit, window, used))
                if size is None:
                    wanted = min(wanted, limit.quota - used)
            for limit, window, used in usage:
                left = limit.quota - used
                if wanted > left or left <= 0:
                    raise self._refusal(identity, limit, wanted, left, window + limit.period - now)
            for limit, window, used in usage:
                params = {"identity": limit.identity, "window": window, "bytes": used + wanted}
                conn.execute(_SET_USAGE, params)
        return Reservation(wanted, tuple((limit.identity, w) for limit, w, _ in usage))

    def _refusal(
        self, identity: str, limit: _Limit, wanted: int, left: int, frees: float
    ) -> RateLimited:
        frees = max(1.0, frees)
        if limit.identity == ALL_REQUESTERS:
            return RateLimited(
                f"This grid takes at most {_mib(limit.quota)} of requesters' uploads an hour "
                f"and has {_mib(max(left, 0))} left this hour, less than this upload "
                f"({_mib(wanted)}). Try again in {_minutes(frees)}, or ask the grid's "
                "operator to raise --requester-upload-mb-per-hour.",
                frees,
            )
        option = (
            "--requester-upload-quota-mb"
            if identity.startswith(REQUESTER_IDENTITY)
            else "--upload-quota"
        )
        return RateLimited(
            f"This upload ({_mib(wanted)}) does not fit in the {_mib(max(left, 0))} left of "
            f"today's upload quota ({_mib(limit.quota)} a day); the quota frees in "
            f"{frees / 3600.0:.1f} h. Upload less, or ask the grid's operator to raise "
            f"{option}.",
            frees,
        )

    def give_back(self, reservation: Reservation, unused: int) -> None:
        """Return the part of a reservation an upload did not use."""
        if unused <= 0 or not reservation.counters:
            return
        with self.db.write() as conn:
            for identity, window in reservation.counters:
                params = {"identity": identity, "window": window, "unused": unused}
                conn.execute(_GIVE_BACK, params)

    def forget_old(self) -> int:
        """Drop the counters of windows that closed a day ago or more."""
        with self.db.write() as conn:
            return int(conn.execute(_FORGET, {"before": self.clock.now() - 2 * DAY}).rowcount)


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60.0))
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60.0:.1f} h"


def _mib(size: int) -> str:
    """A size for a sentence: bytes, KiB, MiB or GiB."""
    for unit, scale in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024)):
        if abs(size) >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} bytes"

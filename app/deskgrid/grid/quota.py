"""How many leases a worker may take: a cap on leases in progress (BOINC's
`max_wus_in_progress`) and a daily quota (BOINC's `daily_result_quota`).

The cap is `max_active_leases_per_core` × the cores the worker declares, never more than
`max_active_leases_per_worker`. The quota starts at `worker_quota_start` leases a day for a
new identity; each valid result doubles it (up to `worker_quota_max`); each expired lease or
invalid result halves it and each reported error takes one off (down to `worker_quota_min`):
as BOINC does, an error costs less than a lost lease or a wrong result, because an honest
worker meets errors when an app fails on its job (the job then needs `max_error_results` of
them to fail, and the worker must be able to give them). A worker that finishes what it
takes never meets its quota: it grows faster than the worker can use it. One that hoards
leases and lets them expire, or returns wrong results, loses its quota within a few leases;
one that reports errors takes at most its quota a day; a fresh identity starts small again.

The quota counts the leases handed out in a window of a day that opens with the first lease
after the previous window closed. Both live on the worker's row, which a work request
already reads; the window's count is written back with the leases it hands out (one update
in the request's transaction), and the quota's doublings and halvings ride on the updates
of the worker's trust and error counters (`queries`). The SQL keeps the stored quota between
1 and QUOTA_CEILING; the configured bounds are applied when it is read (`of`) and written
back with the next lease.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deskgrid.grid.config import GridConfig

DAY = 86400.0
QUOTA_CEILING = 1 << 30  # the stored quota never overflows a 32-bit integer when doubled


def active_cap(config: GridConfig, cores: int) -> int:
    """Leases a worker declaring `cores` cores may hold in progress at once."""
    per_core = config.max_active_leases_per_core * max(1, cores)
    return max(1, min(config.max_active_leases_per_worker, per_core))


@dataclass(frozen=True)
class DailyQuota:
    """A worker's daily quota as of `now`: the quota, its window and the leases used."""

    quota: int
    window: float
    used: int

    @classmethod
    def of(cls, worker: Mapping[str, Any], config: GridConfig, now: float) -> DailyQuota:
        stored = worker["daily_quota"]
        quota = config.worker_quota_start if stored is None else int(stored)
        quota = max(config.worker_quota_min, min(config.worker_quota_max, quota))
        window, used = worker["quota_window"], worker["quota_used"] or 0
        if window is None or now >= window + DAY:
            window, used = now, 0  # a new window opens
        return cls(quota=quota, window=float(window), used=int(used))

    @property
    def left(self) -> int:
        return max(0, self.quota - self.used)

    def frees_in(self, now: float) -> float:
        """Seconds until the window closes and the quota is whole again."""
        return max(1.0, self.window + DAY - now)

    def reason(self, now: float) -> str:
        hours = self.frees_in(now) / 3600.0
        return (
            f"This worker took its daily quota of {self.quota} leases; it frees in "
            f"{hours:.1f} h. Valid results raise the quota; errors, lost leases and invalid "
            "results lower it."
        )


def cap_reason(active: int, cap: int) -> str:
    return (
        f"This worker already holds {active} leases in progress, its limit ({cap}); "
        "finish or report them before asking for more."
    )


def merge_factors(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Two doublings of one worker's quota in a transaction as one update."""
    return {**old, "factor": min(QUOTA_CEILING, int(old["factor"]) * int(new["factor"]))}

"""Observations for the volunteer policy, from psutil and an activity source."""

from __future__ import annotations

import time
from collections.abc import Callable

import psutil

from deskgrid.worker.activity import ActivitySource, default_activity_source
from deskgrid.worker.policy import Observations


class SystemObserver:
    """Samples the machine. `own_cpu_seconds()` is the CPU time used so far by DeskGrid's own
    jobs (the worker sums its executions' `cpu_seconds()`), so that `other_cpu_pct` counts
    only the other programs: the load the volunteer's own work puts on the machine."""

    def __init__(
        self,
        activity: ActivitySource | None = None,
        own_cpu_seconds: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.activity = activity or default_activity_source()
        self.own_cpu_seconds = own_cpu_seconds
        self._last: tuple[float, float, float] | None = None  # (wall, busy cpu, own cpu)

    def _busy_seconds(self) -> float:
        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        return sum(times) - idle

    def other_cpu_pct(self) -> float | None:
        """CPU use of other programs since the previous call (None on the first call)."""
        now, busy, own = time.monotonic(), self._busy_seconds(), self.own_cpu_seconds()
        last, self._last = self._last, (now, busy, own)
        if last is None or now <= last[0]:
            return None
        capacity = (now - last[0]) * (psutil.cpu_count() or 1)
        other = (busy - last[1]) - (own - last[2])
        return min(100.0, max(0.0, 100.0 * other / capacity))

    def observe(self, paused_by_user: bool = False) -> Observations:
        battery = None
        try:
            sensors = psutil.sensors_battery()
        except (AttributeError, NotImplementedError, OSError):
            sensors = None
        if sensors is not None and sensors.power_plugged is not None:
            battery = not sensors.power_plugged
        return Observations(
            cpu_count=psutil.cpu_count() or 1,
            user_idle_seconds=self.activity.idle_seconds(),
            other_cpu_pct=self.other_cpu_pct(),
            on_batteries=battery,
            memory_total_mb=psutil.virtual_memory().total // 2**20,
            paused_by_user=paused_by_user,
        )

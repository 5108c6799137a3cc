"""Observations for the volunteer policy, from psutil and an activity source."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import psutil

from deskgrid.worker.activity import ActivitySource, default_activity_source
from deskgrid.worker.policy import Observations


def process_tree_cpu_seconds(root: psutil.Process | None = None) -> float:
    """CPU time (user + system) used so far by `root` (default: this process), its children
    that ended, and every live descendant: DeskGrid's app, its local node and its jobs."""
    root = root or psutil.Process()
    total = 0.0
    for proc in (root, *_descendants(root)):
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def _descendants(root: psutil.Process) -> list[psutil.Process]:
    try:
        return root.children(recursive=True)
    except psutil.Error:
        return []


class SystemObserver:
    """Samples the machine. `other_cpu_pct` counts only the other programs: the CPU time of
    DeskGrid itself is left out, that is this process and its descendants (in the desktop app:
    the app, its local node, the donated jobs; for `deskgrid worker`: the worker and its jobs)
    plus `outside_cpu_seconds()`, DeskGrid's work that runs outside that tree (a Docker job's
    container). A counter that goes back (a new job's) counts from zero, never as a drop."""

    def __init__(
        self,
        activity: ActivitySource | None = None,
        outside_cpu_seconds: Callable[[], float] = lambda: 0.0,
        own_tree: Callable[[], float] = process_tree_cpu_seconds,
    ) -> None:
        self.activity = activity or default_activity_source()
        self.outside_cpu_seconds = outside_cpu_seconds
        self.own_tree = own_tree
        self._last: tuple[float, float, float, float] | None = None  # wall, busy, tree, outside

    def _busy_seconds(self) -> float:
        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        return sum(times) - idle

    def other_cpu_pct(self) -> float | None:
        """CPU use of other programs since the previous call (None on the first call)."""
        now, busy = time.monotonic(), self._busy_seconds()
        tree, outside = self.own_tree(), self.outside_cpu_seconds()
        last, self._last = self._last, (now, busy, tree, outside)
        if last is None or now <= last[0]:
            return None
        capacity = (now - last[0]) * (psutil.cpu_count() or 1)
        own = _grown(tree, last[2]) + _grown(outside, last[3])
        other = (busy - last[1]) - own
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


def _grown(now: float, before: float) -> float:
    """How much a CPU-time counter grew; a counter that went back restarted from zero."""
    return now - before if now >= before else now

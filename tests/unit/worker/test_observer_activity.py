"""The system observer and the activity sources (with psutil and the display faked)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import namedtuple

import psutil
import pytest

from deskgrid.worker import activity, observer
from deskgrid.worker.activity import FixedIdle, NoActivitySource, default_activity_source
from deskgrid.worker.observer import SystemObserver, process_tree_cpu_seconds

CpuTimes = namedtuple("CpuTimes", "user system idle iowait")
Battery = namedtuple("Battery", "percent secsleft power_plugged")


@pytest.fixture
def fake_machine(monkeypatch: pytest.MonkeyPatch):
    state = {"times": CpuTimes(0, 0, 0, 0), "clock": 0.0, "battery": None}
    monkeypatch.setattr(observer.psutil, "cpu_times", lambda: state["times"])
    monkeypatch.setattr(observer.psutil, "cpu_count", lambda: 2)
    monkeypatch.setattr(observer.psutil, "sensors_battery", lambda: state["battery"])
    monkeypatch.setattr(observer.time, "monotonic", lambda: state["clock"])
    return state


def test_other_cpu_excludes_deskgrid_itself(fake_machine) -> None:
    tree, outside = [0.0], [0.0]
    obs = SystemObserver(
        FixedIdle(100), outside_cpu_seconds=lambda: outside[0], own_tree=lambda: tree[0]
    )
    assert obs.observe().other_cpu_pct is None  # first sample
    # 10 s on 2 cores = 20 CPU-seconds; 12 busy, of which 6 are DeskGrid's processes (the app,
    # its node, a native job) and 2 a container job: others use 4 = 20 %.
    fake_machine["clock"] = 10.0
    fake_machine["times"] = CpuTimes(10, 2, 8, 0)
    tree[0], outside[0] = 6.0, 2.0
    seen = obs.observe()
    assert seen.other_cpu_pct == pytest.approx(20.0)
    assert seen.cpu_count == 2 and seen.user_idle_seconds == 100
    assert seen.memory_total_mb and seen.memory_total_mb > 0


def test_a_new_jobs_counter_is_not_read_as_other_programs(fake_machine) -> None:
    """A container job ends and the next one's counter starts at zero: its first 1 s is
    DeskGrid's, not a drop of 7 s that would show as others' load and suspend the worker."""
    outside = [8.0]
    obs = SystemObserver(FixedIdle(100), outside_cpu_seconds=lambda: outside[0], own_tree=float)
    obs.observe()
    fake_machine["clock"] = 1.0
    fake_machine["times"] = CpuTimes(1, 0, 1, 0)  # 1 busy CPU-second, all the new job's
    outside[0] = 1.0
    assert obs.observe().other_cpu_pct == pytest.approx(0.0)


def test_the_process_tree_counts_children_alive_and_ended() -> None:
    """Real processes: a child's CPU time is DeskGrid's while it runs and after it ends."""
    before = process_tree_cpu_seconds()
    burn = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass"
    child = subprocess.Popen([sys.executable, "-c", burn + "\ntime.sleep(30)"])
    try:
        proc = psutil.Process(child.pid)
        deadline = time.monotonic() + 60
        while sum(proc.cpu_times()[:2]) < 0.5 and time.monotonic() < deadline:
            time.sleep(0.05)
        used = sum(proc.cpu_times()[:2])
        assert used >= 0.5
        assert process_tree_cpu_seconds() - before >= used - 0.02  # alive: a descendant
    finally:
        child.kill()
        child.wait()
    assert process_tree_cpu_seconds() - before >= used - 0.02  # ended and reaped: still counted


def test_batteries(fake_machine) -> None:
    obs = SystemObserver(NoActivitySource())
    assert obs.observe().on_batteries is None
    fake_machine["battery"] = Battery(50, 100, False)
    assert obs.observe().on_batteries is True
    fake_machine["battery"] = Battery(50, 100, True)
    assert obs.observe().on_batteries is False


def test_no_display_means_no_activity_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_ID", raising=False)
    source = default_activity_source()
    assert isinstance(source, NoActivitySource)
    assert source.idle_seconds() is None


def test_logind_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_SESSION_ID", "3")

    class Done:
        stdout = "IdleHint=yes\nIdleSinceHint=1000000000\n"

    monkeypatch.setattr(activity.subprocess, "run", lambda *a, **k: Done())
    monkeypatch.setattr(activity.time, "time", lambda: 1060.0)
    assert activity.LogindIdle().idle_seconds() == pytest.approx(60.0)
    Done.stdout = "IdleHint=no\nIdleSinceHint=0\n"
    assert activity.LogindIdle().idle_seconds() == 0.0

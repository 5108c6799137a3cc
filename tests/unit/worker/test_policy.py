"""Every rule of the volunteer policy, the throttle schedule and the saved preferences."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from pydantic import ValidationError

from deskgrid.worker.policy import (
    Observations,
    Preferences,
    SuspendReason,
    allowed_cores,
    decide,
    duty_cycle,
    in_time_window,
    throttle,
)

NOON = datetime(2024, 5, 1, 12, 0)
IDLE = Observations(cpu_count=8, user_idle_seconds=3600, other_cpu_pct=0, on_batteries=False)


def prefs(**kw) -> Preferences:
    return Preferences(**kw)


def obs(**kw) -> Observations:
    fields = {**IDLE.__dict__, **kw}
    return Observations(**fields)


def test_runs_when_idle_with_the_defaults() -> None:
    decision = decide(Preferences(), IDLE, NOON)
    assert decision.run and decision.code is SuspendReason.NONE
    assert decision.cores == 4
    assert decision.reason == "Computing on 4 cores."


@pytest.mark.parametrize(
    ("pct", "count", "cores"),
    [(50, 8, 4), (100, 8, 8), (10, 8, 1), (1, 2, 1), (75, 2, 1), (99, 4, 3), (100, 1, 1)],
)
def test_max_ncpus_pct(pct: float, count: int, cores: int) -> None:
    assert allowed_cores(prefs(max_ncpus_pct=pct), count) == cores
    assert decide(prefs(max_ncpus_pct=pct), obs(cpu_count=count), NOON).cores == cores


def test_user_active_suspends_unless_allowed() -> None:
    active = obs(user_idle_seconds=30)
    decision = decide(prefs(idle_time_to_run=3), active, NOON)
    assert not decision.run and decision.code is SuspendReason.USER_ACTIVE
    assert "in use" in decision.reason and "3 min" in decision.reason
    assert decide(prefs(run_if_user_active=True), active, NOON).run


def test_idle_time_to_run_threshold() -> None:
    p = prefs(idle_time_to_run=5)
    assert not decide(p, obs(user_idle_seconds=299), NOON).run
    assert decide(p, obs(user_idle_seconds=300), NOON).run


def test_unknown_activity_does_not_suspend() -> None:
    assert decide(Preferences(), obs(user_idle_seconds=None), NOON).run


def test_batteries() -> None:
    decision = decide(Preferences(), obs(on_batteries=True), NOON)
    assert not decision.run and decision.code is SuspendReason.BATTERIES
    assert decision.reason == "Suspended: the computer is on batteries."
    assert decide(prefs(run_on_batteries=True), obs(on_batteries=True), NOON).run
    assert decide(Preferences(), obs(on_batteries=None), NOON).run  # no battery at all


def test_suspend_cpu_usage() -> None:
    decision = decide(prefs(suspend_cpu_usage=25), obs(other_cpu_pct=40), NOON)
    assert not decision.run and decision.code is SuspendReason.CPU_BUSY
    assert "40 %" in decision.reason and "25 %" in decision.reason
    assert decide(prefs(suspend_cpu_usage=25), obs(other_cpu_pct=25), NOON).run
    assert decide(prefs(suspend_cpu_usage=0), obs(other_cpu_pct=100), NOON).run
    assert decide(prefs(suspend_cpu_usage=25), obs(other_cpu_pct=None), NOON).run


@pytest.mark.parametrize(
    ("start", "end", "hour", "minute", "inside"),
    [
        (0, 0, 3, 0, True),  # equal: any time
        (9, 17, 9, 0, True),
        (9, 17, 16, 59, True),
        (9, 17, 17, 0, False),
        (9, 17, 8, 59, False),
        (22, 6, 23, 0, True),  # wraps past midnight
        (22, 6, 5, 59, True),
        (22, 6, 6, 0, False),
        (22, 6, 12, 0, False),
        (8.5, 9, 8, 29, False),
        (8.5, 9, 8, 30, True),
    ],
)
def test_time_window(start: float, end: float, hour: int, minute: int, inside: bool) -> None:
    p = prefs(start_hour=start, end_hour=end)
    now = datetime(2024, 5, 1, hour, minute)
    assert in_time_window(p, now) is inside
    decision = decide(p, IDLE, now)
    assert decision.run is inside
    if not inside:
        assert decision.code is SuspendReason.TIME_OF_DAY
        assert "outside the hours you allow" in decision.reason


def test_time_window_reason_shows_the_hours() -> None:
    decision = decide(prefs(start_hour=22, end_hour=6.5), IDLE, NOON)
    assert decision.reason == "Suspended: outside the hours you allow (22:00–06:30)."


def test_paused_by_user_comes_first() -> None:
    decision = decide(Preferences(), obs(paused_by_user=True, on_batteries=True), NOON)
    assert decision.code is SuspendReason.USER_REQUEST and decision.reason == "Paused by you."


def test_memory_cap_busy_and_idle() -> None:
    p = prefs(ram_max_used_busy_pct=25, ram_max_used_idle_pct=80, run_if_user_active=True)
    assert decide(p, obs(memory_total_mb=16000, user_idle_seconds=10), NOON).memory_mb == 4000
    assert decide(p, obs(memory_total_mb=16000), NOON).memory_mb == 12800
    assert decide(p, obs(memory_total_mb=None), NOON).memory_mb is None


def test_suspended_decision_still_reports_cores() -> None:
    decision = decide(Preferences(), obs(on_batteries=True), NOON)
    assert decision.cores == 4


def test_reason_mentions_the_cpu_limit() -> None:
    decision = decide(prefs(cpu_usage_limit=40, max_ncpus_pct=12.5), IDLE, NOON)
    assert decision.reason == "Computing on 1 core at 40 % of the time."


@pytest.mark.parametrize(
    "bad",
    [
        {"max_ncpus_pct": 0},
        {"max_ncpus_pct": 101},
        {"cpu_usage_limit": 0},
        {"start_hour": 24},
        {"suspend_cpu_usage": -1},
        {"idle_time_to_run": -1},
    ],
)
def test_preferences_are_validated(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Preferences(**bad)


# -- saved preferences ----------------------------------------------------------------------------
# -- throttle -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pct", "on", "off"), [(100, 1.0, 0.0), (50, 0.5, 0.5), (25, 0.25, 0.75), (0.1, 0.01, 0.99)]
)
def test_duty_cycle(pct: float, on: float, off: float) -> None:
    assert duty_cycle(pct) == pytest.approx((on, off))


class FakeExecution:
    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.log: list[tuple[str, float]] = []
        self.paused = False

    async def pause(self) -> None:
        self.paused = True
        self.log.append(("pause", self.clock[0]))

    async def resume(self) -> None:
        self.paused = False
        self.log.append(("resume", self.clock[0]))


async def run_throttle(limits: list[float], periods: int) -> tuple[FakeExecution, float]:
    clock = [0.0]
    execution = FakeExecution(clock)
    running = 0.0
    calls = iter(limits)
    current = [limits[0]]

    def limit() -> float:
        current[0] = next(calls, current[0])
        return current[0]

    async def fake_sleep(seconds: float) -> None:
        nonlocal running
        if not execution.paused:
            running += seconds
        clock[0] += seconds
        if clock[0] >= periods - 1e-9:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await throttle(execution, limit, period=1.0, sleep=fake_sleep)
    return execution, running


async def test_throttle_runs_the_set_share_of_each_period() -> None:
    execution, running = await run_throttle([30.0], periods=10)
    assert running == pytest.approx(3.0)
    assert not execution.paused  # left running when stopped
    assert execution.log[:3] == [("resume", 0.0), ("pause", pytest.approx(0.3)), ("resume", 1.0)]


async def test_throttle_follows_a_changed_limit() -> None:
    _, running = await run_throttle([50.0, 50.0, 100.0, 100.0, 10.0], periods=5)
    assert running == pytest.approx(0.5 + 0.5 + 1 + 1 + 0.1)


async def test_throttle_at_100_never_pauses() -> None:
    execution, running = await run_throttle([100.0], periods=3)
    assert running == pytest.approx(3.0)
    assert [e for e, _ in execution.log if e == "pause"] == []

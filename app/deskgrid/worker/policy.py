"""The volunteer's preferences and when, and how much, the worker may compute.

BOINC's names and meanings: `max_ncpus_pct` (share of the cores), `cpu_usage_limit` (duty
cycle of running jobs: run X % of each period, pause the rest), `run_if_user_active` and
`idle_time_to_run` (minutes without keyboard/mouse before computing), `suspend_cpu_usage`
(suspend while other programs use more than this % of the CPU; 0 = never), `run_on_batteries`,
`start_hour`/`end_hour` (a daily window; equal = any time; may wrap past midnight) and
`ram_max_used_busy_pct`/`ram_max_used_idle_pct` (memory cap while in use / idle).

`decide(prefs, observations, now)` is pure: the worker feeds it what it observes and gets
back whether to run, the reason shown to the volunteer (the tray shows it), and how many cores
and how much memory jobs may use. `throttle()` enforces `cpu_usage_limit` on an execution.

Memory: a job may use the smaller of what its app declares it needs and what the volunteer
allows now (`job_memory_limit`); the runners stop a job that uses more. The worker tells the
grid the most the volunteer ever allows a job (`advertised_memory_mb`), so the grid leases it
only jobs whose app needs no more.
"""

from __future__ import annotations

import asyncio
import enum
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class Preferences(BaseModel):
    """What the volunteer allows. Defaults lean towards leaving the computer alone."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    max_ncpus_pct: float = Field(50.0, gt=0, le=100)
    cpu_usage_limit: float = Field(100.0, ge=1, le=100)
    run_if_user_active: bool = False
    idle_time_to_run: float = Field(3.0, ge=0, le=24 * 60)  # minutes
    suspend_cpu_usage: float = Field(25.0, ge=0, le=100)  # 0 = never suspend for CPU load
    run_on_batteries: bool = False
    start_hour: float = Field(0.0, ge=0, lt=24)
    end_hour: float = Field(0.0, ge=0, lt=24)
    ram_max_used_busy_pct: float = Field(50.0, gt=0, le=100)
    ram_max_used_idle_pct: float = Field(90.0, gt=0, le=100)
    # run apps other developers published (in the Docker sandbox only); off unless chosen
    run_docker_apps: bool = False


class SuspendReason(enum.StrEnum):
    NONE = "none"
    USER_REQUEST = "user_request"
    BATTERIES = "batteries"
    USER_ACTIVE = "user_active"
    TIME_OF_DAY = "time_of_day"
    CPU_BUSY = "cpu_busy"


@dataclass(frozen=True)
class Observations:
    """What the worker sees. None means unknown: a rule that needs it does not suspend."""

    cpu_count: int
    user_idle_seconds: float | None = None
    other_cpu_pct: float | None = None  # CPU use of everything but DeskGrid's jobs, 0..100
    on_batteries: bool | None = None
    memory_total_mb: int | None = None
    paused_by_user: bool = False  # "Pause computing" in the tray


@dataclass(frozen=True)
class Decision:
    run: bool
    reason: str  # the sentence shown to the volunteer
    cores: int  # cores jobs may use (computed even when suspended)
    memory_mb: int | None  # memory jobs may use, None when the total is unknown
    code: SuspendReason = SuspendReason.NONE


def allowed_cores(prefs: Preferences, cpu_count: int) -> int:
    """BOINC's rule: floor(cores × pct), at least one."""
    return max(1, math.floor(cpu_count * prefs.max_ncpus_pct / 100 + 1e-9))


def memory_allowance_mb(prefs: Preferences, memory_total_mb: int, user_active: bool) -> int:
    """BOINC's rule: the memory jobs may use, in MiB: `ram_max_used_busy_pct` of the total
    while the computer is in use, `ram_max_used_idle_pct` while it is idle; at least 1."""
    pct = prefs.ram_max_used_busy_pct if user_active else prefs.ram_max_used_idle_pct
    return max(1, int(memory_total_mb * pct / 100))


def advertised_memory_mb(prefs: Preferences, memory_total_mb: int) -> int:
    """The most memory the volunteer ever lets a job use, in MiB, which the worker tells the
    grid: the allowance while the computer is idle, or, when jobs also run while it is in
    use, the larger of the two allowances."""
    idle = memory_allowance_mb(prefs, memory_total_mb, user_active=False)
    if not prefs.run_if_user_active:
        return idle
    return max(idle, memory_allowance_mb(prefs, memory_total_mb, user_active=True))


@dataclass(frozen=True)
class MemoryLimit:
    """A job's memory limit in MiB, and whether it is the volunteer's (else its app's)."""

    mb: int
    by_volunteer: bool


def job_memory_limit(app_need_mb: int, volunteer_mb: int | None) -> MemoryLimit:
    """The smaller of the app's declared need and what the volunteer allows now (None:
    unknown, the app's need applies); a tie is the app's."""
    if volunteer_mb is not None and volunteer_mb < app_need_mb:
        return MemoryLimit(max(1, volunteer_mb), by_volunteer=True)
    return MemoryLimit(max(1, app_need_mb), by_volunteer=False)


def in_time_window(prefs: Preferences, now: datetime) -> bool:
    start, end = prefs.start_hour, prefs.end_hour
    if start == end:
        return True
    hour = now.hour + now.minute / 60 + now.second / 3600
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end  # the window wraps past midnight


def _hh_mm(hour: float) -> str:
    minutes = round(hour * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def decide(prefs: Preferences, obs: Observations, now: datetime) -> Decision:
    """Whether to compute now, why not, and with how many cores and how much memory."""
    cores = allowed_cores(prefs, obs.cpu_count)
    idle_needed = prefs.idle_time_to_run * 60
    user_active = obs.user_idle_seconds is not None and obs.user_idle_seconds < idle_needed
    memory = (
        memory_allowance_mb(prefs, obs.memory_total_mb, user_active)
        if obs.memory_total_mb is not None
        else None
    )

    def suspend(code: SuspendReason, reason: str) -> Decision:
        return Decision(False, reason, cores, memory, code)

    if obs.paused_by_user:
        return suspend(SuspendReason.USER_REQUEST, "Paused by you.")
    if obs.on_batteries and not prefs.run_on_batteries:
        return suspend(SuspendReason.BATTERIES, "Suspended: the computer is on batteries.")
    if user_active and not prefs.run_if_user_active:
        return suspend(
            SuspendReason.USER_ACTIVE,
            f"Suspended: the computer is in use (computing starts after "
            f"{prefs.idle_time_to_run:g} min without keyboard or mouse).",
        )
    if not in_time_window(prefs, now):
        return suspend(
            SuspendReason.TIME_OF_DAY,
            f"Suspended: outside the hours you allow ({_hh_mm(prefs.start_hour)}–"
            f"{_hh_mm(prefs.end_hour)}).",
        )
    if (
        prefs.suspend_cpu_usage > 0
        and obs.other_cpu_pct is not None
        and obs.other_cpu_pct > prefs.suspend_cpu_usage
    ):
        return suspend(
            SuspendReason.CPU_BUSY,
            f"Suspended: other programs use {obs.other_cpu_pct:.0f} % of the CPU "
            f"(more than {prefs.suspend_cpu_usage:g} %).",
        )
    reason = f"Computing on {cores} core{'s' if cores > 1 else ''}"
    if prefs.cpu_usage_limit < 100:
        reason += f" at {prefs.cpu_usage_limit:g} % of the time"
    return Decision(True, reason + ".", cores, memory)


# -- the duty-cycle throttle --------------------------------------------------------------------
class Pausable(Protocol):
    async def pause(self) -> None: ...

    async def resume(self) -> None: ...


def duty_cycle(cpu_usage_limit: float, period: float = 1.0) -> tuple[float, float]:
    """(seconds running, seconds paused) in each period for a CPU usage limit in %."""
    pct = min(100.0, max(1.0, cpu_usage_limit))
    on = period * pct / 100
    return on, period - on


async def throttle(
    execution: Pausable,
    limit: Callable[[], float],
    period: float = 1.0,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Run `execution` `limit()` % of each period and pause it the rest, until cancelled.

    `limit` is read every period, so a change of preference applies at once. The execution is
    always left running when the throttle stops.
    """
    try:
        while True:
            on, off = duty_cycle(limit(), period)
            if off <= 0:
                await execution.resume()
                await sleep(period)
                continue
            await execution.resume()
            await sleep(on)
            await execution.pause()
            await sleep(off)
    finally:
        await execution.resume()

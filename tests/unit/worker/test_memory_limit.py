"""A job's memory limit: the smaller of its app's need and the volunteer's allowance; what the
worker tells the grid; the sentence a stopped job gets."""

from __future__ import annotations

from pathlib import Path

import psutil

from deskgrid.apps.registry import get_app
from deskgrid.worker.policy import (
    MemoryLimit,
    Preferences,
    advertised_memory_mb,
    job_memory_limit,
    memory_allowance_mb,
)
from deskgrid.worker.runner import Limits, app_memory_need_mb, memory_stop_message
from deskgrid.worker.worker import Worker, WorkerConfig


def test_the_smaller_of_the_apps_need_and_the_volunteers_allowance() -> None:
    assert job_memory_limit(256, 1000) == MemoryLimit(256, by_volunteer=False)
    assert job_memory_limit(256, 200) == MemoryLimit(200, by_volunteer=True)
    assert job_memory_limit(256, 256) == MemoryLimit(256, by_volunteer=False)
    assert job_memory_limit(256, None) == MemoryLimit(256, by_volunteer=False)  # unknown total


def test_a_multicore_app_needs_its_memory_per_declared_core() -> None:
    vanity = get_app("vanity")  # multicore, declares 1 core and 256 MiB
    assert app_memory_need_mb(vanity, 1) == 256
    assert app_memory_need_mb(vanity, 8) == 8 * 256
    assert Limits.for_app(vanity, 8).memory_mb == 8 * 256
    echo = get_app("echo")  # one core whatever it is given
    assert app_memory_need_mb(echo, 8) == echo.resources.memory_mb


def test_the_allowance_follows_the_busy_and_idle_shares() -> None:
    prefs = Preferences(ram_max_used_busy_pct=25, ram_max_used_idle_pct=75)
    assert memory_allowance_mb(prefs, 16000, user_active=True) == 4000
    assert memory_allowance_mb(prefs, 16000, user_active=False) == 12000
    assert memory_allowance_mb(Preferences(ram_max_used_idle_pct=0.001), 100, False) == 1


def test_the_grid_is_told_the_most_a_job_may_ever_use() -> None:
    # jobs run only while the computer is idle: the idle allowance
    idle_only = Preferences(ram_max_used_busy_pct=25, ram_max_used_idle_pct=75)
    assert advertised_memory_mb(idle_only, 16000) == 12000
    # jobs run while it is in use too: the larger of both allowances
    always = Preferences(
        run_if_user_active=True, ram_max_used_busy_pct=80, ram_max_used_idle_pct=50
    )
    assert advertised_memory_mb(always, 16000) == 12800


def test_the_sentence_names_the_limit_that_stopped_the_job() -> None:
    volunteer = Limits(memory_mb=300, memory_by_volunteer=True)
    assert memory_stop_message(volunteer) == (
        "Stopped: the job used more than 300 MiB, the memory this volunteer allows "
        "(Volunteer › Memory cap)."
    )
    assert memory_stop_message(Limits(memory_mb=256)) == (
        "Stopped: the job used more than 256 MiB, the memory its app declares it needs."
    )


async def test_the_worker_advertises_its_volunteers_allowance(tmp_path: Path) -> None:
    prefs = Preferences(ram_max_used_busy_pct=10, ram_max_used_idle_pct=40)
    worker = Worker(
        WorkerConfig(grid_url="http://127.0.0.1:9", state_dir=tmp_path, preferences=prefs)
    )
    total = psutil.virtual_memory().total // 2**20
    caps = await worker.capabilities()
    assert caps.memory_mb == int(total * 40 / 100)
    assert caps.memory_mb < total
    # preferences apply live: what the worker tells the grid next follows them
    worker.preferences = Preferences(ram_max_used_busy_pct=10, ram_max_used_idle_pct=20)
    assert worker.memory_to_advertise() == int(total * 20 / 100)

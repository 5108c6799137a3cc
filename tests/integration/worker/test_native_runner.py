"""The native runner with real subprocesses."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import psutil
import pytest

from deskgrid.apps.registry import get_app
from deskgrid.paths import sub_dir
from deskgrid.worker.native_runner import NativeRunner
from deskgrid.worker.runner import (
    Execution,
    Job,
    Limits,
    ProgressEvent,
    Runner,
    RunnerError,
    Status,
    run_job,
)

from .conftest import helper_app

pytestmark = pytest.mark.integration


def jobs_left() -> list[Path]:
    return list((sub_dir("worker") / "jobs").glob("*"))


def app_job(name: str, params: dict, **kw) -> Job:
    app = get_app(name)
    return Job("job-1", app, app.validate(params), **kw)


async def test_protocol_and_apps() -> None:
    runner = NativeRunner()
    assert isinstance(runner, Runner) and runner.available()
    assert runner.can_run(get_app("vanity"))
    execution = await runner.start(app_job("echo", {"text": "x"}))
    assert isinstance(execution, Execution)
    await execution.wait()


async def test_echo_success_and_directory_removed() -> None:
    outcome = await run_job(NativeRunner(), app_job("echo", {"text": "hello grid"}))
    assert outcome.status is Status.SUCCESS and outcome.ok
    assert outcome.result == b"hello grid"
    assert jobs_left() == []


async def test_progress_events() -> None:
    events: list[ProgressEvent] = []
    outcome = await run_job(
        NativeRunner(), app_job("sleep", {"seconds": 0.2, "steps": 4}), events.append
    )
    assert outcome.ok
    assert [e.fraction for e in events] == [0.25, 0.5, 0.75, 1.0]


async def test_vanity_job_on_two_cores() -> None:
    events: list[ProgressEvent] = []
    job = app_job("vanity", {"patterns": ["1Ab"], "full_key": True}, cores=2)
    outcome = await run_job(NativeRunner(), job, events.append)
    assert outcome.ok, outcome.message
    assert get_app("vanity").verify(job.params, outcome.result or b"")
    assert events[-1].fraction == 1.0 and events[-1].figures["keys_tried"] > 0


async def test_app_error_is_the_apps_sentence() -> None:
    outcome = await run_job(NativeRunner(), app_job("fail", {"message": "Out of luck."}))
    assert outcome.status is Status.ERROR
    assert outcome.message == "Out of luck."
    assert jobs_left() == []


async def test_refused_params_are_a_sentence() -> None:
    app = get_app("vanity")
    outcome = await run_job(NativeRunner(), Job("j", app, {"patterns": ["2x"], "full_key": True}))
    assert outcome.status is Status.ERROR
    assert "always start with '1'" in outcome.message


async def test_sandbox_environment(helper_runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKGRID_WALLET_PASSWORD", "hunter2")
    monkeypatch.setenv("SSH_AUTH_SOCK", "/tmp/agent")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/bus")
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    job = Job("j", helper_app("env", memory_mb=100), {}, inputs={"data.txt": b"in"})
    outcome = await run_job(helper_runner, job)
    assert outcome.ok, outcome.message
    seen = json.loads(outcome.result or b"")
    env = seen["env"]
    for name in ("DESKGRID_WALLET_PASSWORD", "SSH_AUTH_SOCK", "DBUS_SESSION_BUS_ADDRESS"):
        assert name not in env
    assert "t0ken" not in json.dumps(env) and "hunter2" not in json.dumps(env)
    assert env["HOME"] == seen["cwd"] == env["TMPDIR"]
    assert seen["files"] == ["data.txt"]
    assert seen["nice"] == 19
    assert seen["as"][0] == (100 + 768) * 2**20
    assert seen["cpu"][0] == Limits.for_app(job.app).cpu_seconds
    assert seen["pgid_is_pid"]


async def test_unsafe_input_name_is_refused(helper_runner) -> None:
    job = Job("j", helper_app("env"), {}, inputs={"../escape": b"x"})
    with pytest.raises(RunnerError, match="not a plain file name"):
        await helper_runner.start(job)
    assert jobs_left() == []


async def test_memory_limit(helper_runner) -> None:
    outcome = await run_job(helper_runner, Job("j", helper_app("memory", memory_mb=64), {}))
    assert outcome.status is Status.ERROR
    assert "MemoryError" in outcome.message or "memory" in outcome.message.lower()


async def test_cpu_time_limit(helper_runner) -> None:
    job = Job("j", helper_app("cpu"), {}, limits=Limits(cpu_seconds=1, wall_seconds=60))
    outcome = await run_job(helper_runner, job)
    assert outcome.status is Status.ERROR
    assert "CPU time limit of 1 s" in outcome.message


async def test_wall_clock_limit() -> None:
    job = app_job("sleep", {"seconds": 60}, limits=Limits(wall_seconds=0.5))
    outcome = await run_job(NativeRunner(), job)
    assert outcome.status is Status.TIMEOUT
    assert "longer than its limit of 0.5 s" in outcome.message
    assert jobs_left() == []


async def test_cancel_kills_the_whole_process_group(helper_runner) -> None:
    events: list[ProgressEvent] = []
    execution = await helper_runner.start(Job("j", helper_app("family"), {}), events.append)
    while not events:
        await asyncio.sleep(0.05)
    child = events[0].figures["child"]
    assert psutil.pid_exists(child)
    await execution.cancel()
    outcome = await execution.wait()
    assert outcome.status is Status.CANCELLED
    for _ in range(100):
        if not psutil.pid_exists(child) or psutil.Process(child).status() == "zombie":
            break
        await asyncio.sleep(0.05)
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == "zombie"
    assert jobs_left() == []


async def test_pause_and_resume(helper_runner) -> None:
    job = Job("j", helper_app("busy"), {"seconds": 0.5})
    execution = await helper_runner.start(job)
    await execution.pause()
    assert execution.paused
    proc = psutil.Process(execution.pid)  # type: ignore[attr-defined]
    for _ in range(100):
        if proc.status() == psutil.STATUS_STOPPED:
            break
        await asyncio.sleep(0.02)
    assert proc.status() == psutil.STATUS_STOPPED
    await execution.resume()
    assert not execution.paused
    outcome = await execution.wait()
    assert outcome.ok


async def test_missing_result_and_junk_progress(helper_runner) -> None:
    outcome = await run_job(helper_runner, Job("j", helper_app("noresult"), {}))
    assert outcome.status is Status.ERROR and "without writing a result" in outcome.message
    events: list[ProgressEvent] = []
    outcome = await run_job(helper_runner, Job("j", helper_app("junk"), {}), events.append)
    assert outcome.ok
    assert events == [ProgressEvent(1.0, {"keys": 3})]


def test_no_leftover_job_directories() -> None:
    assert not os.path.exists(sub_dir("worker") / "jobs") or jobs_left() == []

"""What the worker asks of a runner: run one job in a sandbox and report on it.

A runner (`NativeRunner`, `DockerRunner`) starts a job and returns an `Execution`: a handle
to pause and resume it (the duty-cycle throttle), cancel it (lease lost, volunteer came back),
read its CPU time, and wait for its `JobOutcome`. Progress arrives through a callback as
`ProgressEvent`s. Every job gets a fresh directory that is removed when it ends.
"""

from __future__ import annotations

import enum
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import psutil

from deskgrid import boundedjson
from deskgrid.apps.sdk import AppSpec
from deskgrid.errors import DeskGridError
from deskgrid.paths import sub_dir

MAX_RESULT_BYTES = 64 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class RunClock:
    """A job's running time, not counting the time it spent paused (the wall-clock limit
    uses it, so a throttled job is not penalised)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self._paused_since: float | None = None
        self._paused_total = 0.0

    @property
    def paused(self) -> bool:
        return self._paused_since is not None

    def mark_paused(self) -> None:
        if self._paused_since is None:
            self._paused_since = time.monotonic()

    def mark_resumed(self) -> None:
        if self._paused_since is not None:
            self._paused_total += time.monotonic() - self._paused_since
            self._paused_since = None

    def running_seconds(self) -> float:
        now = time.monotonic()
        paused = self._paused_total + (now - self._paused_since if self._paused_since else 0.0)
        return now - self.started - paused

    def elapsed(self) -> float:
        """Seconds since the start, pauses included."""
        return time.monotonic() - self.started


class RunnerError(DeskGridError):
    """A job that cannot be started here (no Docker, no image, bad input name...)."""


class Status(enum.StrEnum):
    SUCCESS = "success"
    ERROR = "error"  # the app failed or broke a limit: `message` says which
    TIMEOUT = "timeout"  # the wall clock limit passed
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Limits:
    """Sandbox limits for one job (from the app's resources unless the worker narrows them)."""

    memory_mb: int = 256
    cpu_seconds: int = 3600  # CPU time over all the job's cores
    wall_seconds: float = 3600.0  # running time; time spent paused does not count
    pids: int = 64

    @classmethod
    def for_app(cls, app: AppSpec, cores: int = 1) -> Limits:
        res = app.resources
        return cls(
            memory_mb=res.memory_mb,
            cpu_seconds=int(res.max_seconds * max(cores, res.cores)) + 10,
            wall_seconds=float(res.max_seconds),
        )


@dataclass(frozen=True)
class Job:
    """One job to run: the app, its (validated) params, input files by name, cores allotted."""

    job_id: str
    app: AppSpec
    params: dict[str, Any]
    inputs: Mapping[str, bytes] = field(default_factory=dict)
    cores: int = 1
    limits: Limits | None = None

    @property
    def effective_limits(self) -> Limits:
        return self.limits or Limits.for_app(self.app, self.cores)


@dataclass(frozen=True)
class ProgressEvent:
    fraction: float | None  # 0..1 when the app knows it
    figures: dict[str, Any] = field(default_factory=dict)  # e.g. keys_tried, keys_per_second


@dataclass(frozen=True)
class JobOutcome:
    status: Status
    result: bytes | None = None
    message: str = ""  # a sentence when status is not SUCCESS
    seconds: float = 0.0  # wall clock from start to end
    cpu_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is Status.SUCCESS


ProgressCallback = Callable[[ProgressEvent], None]


@runtime_checkable
class Execution(Protocol):
    """A started job."""

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    async def cancel(self) -> None: ...

    @property
    def paused(self) -> bool: ...

    def cpu_seconds(self) -> float: ...

    async def wait(self) -> JobOutcome: ...


@runtime_checkable
class Runner(Protocol):
    kind: str  # "native" or "docker"

    def available(self) -> bool: ...

    def can_run(self, app: AppSpec) -> bool: ...

    async def start(self, job: Job, on_progress: ProgressCallback | None = None) -> Execution: ...


async def run_job(
    runner: Runner, job: Job, on_progress: ProgressCallback | None = None
) -> JobOutcome:
    """Start a job and wait for its outcome."""
    execution = await runner.start(job, on_progress)
    return await execution.wait()


# -- helpers shared by the runners -------------------------------------------------------------
def jobs_dir() -> Path:
    path = sub_dir("worker") / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


OWNER_FILE = "owner"  # in a job directory: "<pid> <process start time>" of the worker


def _process_mark(pid: int) -> str | None:
    """`"<pid> <start time>"` of a running process (start times tell a reused pid apart)."""
    try:
        return f"{pid} {psutil.Process(pid).create_time():.3f}"
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _owner_alive(path: Path) -> bool:
    try:
        mark = (path / OWNER_FILE).read_text(encoding="ascii").strip()
        pid = int(mark.split()[0])
    except (OSError, ValueError, IndexError):
        return False
    return _process_mark(pid) == mark


def remove_leftover_job_dirs() -> int:
    """Remove job directories left by a crash (call when the worker starts, before any job);
    returns how many there were. A directory whose worker process still runs (another worker
    sharing this data folder) is left alone."""
    count = 0
    for path in jobs_dir().iterdir():
        if _owner_alive(path):
            continue
        shutil.rmtree(path, ignore_errors=True)
        count += 1
    return count


class JobDir:
    """A fresh directory for one job: `work/` (the app's directory, with its inputs),
    `params.json` and `result` (inside work/ for Docker, beside it for native jobs)."""

    def __init__(self, job: Job, world_writable: bool = False) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="job-", dir=jobs_dir()))
        (self.root / OWNER_FILE).write_text(_process_mark(os.getpid()) or "", encoding="ascii")
        self.work = self.root / "work"
        self.work.mkdir()
        for name, data in job.inputs.items():
            if not _SAFE_NAME.match(name):
                self.remove()
                raise RunnerError(f"The job's input name {name!r} is not a plain file name.")
            (self.work / name).write_bytes(data)
        self.params = self.root / "params.json"
        self.params.write_text(json.dumps(job.params), encoding="utf-8")
        if world_writable:  # a container user that is not us must write its result
            os.chmod(self.work, 0o777)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def parse_progress(line: bytes) -> ProgressEvent | None:
    """A progress line (`{"progress": 0.4, ...}`) or None for anything else."""
    try:
        data = boundedjson.loads(line, max_depth=8, max_bytes=64 * 1024)
    except ValueError:
        return None
    if not isinstance(data, dict) or "progress" not in data:
        return None
    fraction = data.pop("progress")
    if isinstance(fraction, bool) or not isinstance(fraction, int | float | None):
        return None
    if fraction is not None:
        fraction = min(1.0, max(0.0, float(fraction)))
    figures = {k: v for k, v in data.items() if isinstance(v, int | float | str | bool)}
    return ProgressEvent(fraction, figures)


def read_result(path: Path) -> bytes | str:
    """The result bytes, or a sentence saying why there are none."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "The app ended without writing a result."
    if size > MAX_RESULT_BYTES:
        return f"The app's result is larger than {MAX_RESULT_BYTES // 2**20} MiB."
    return path.read_bytes()


def last_line(text: str, limit: int = 500) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""

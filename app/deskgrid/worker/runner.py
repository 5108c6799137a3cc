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
import stat
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
# Names a job's input may not take: the files the runner itself puts in the job's folder, and
# the device names Windows reserves in every folder.
RUNNER_FILES = frozenset({"params.json", "result"})
WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{port}{n}" for port in ("com", "lpt") for n in range(1, 10)}
)


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


def check_input_names(names: list[str]) -> None:
    """RunnerError unless every name is a plain file name (no folder, no leading dot, not one
    of the runner's own files) and no two are the same, even ignoring case."""
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not _SAFE_NAME.match(name):
            raise RunnerError(f"The job's input name {str(name)[:80]!r} is not a plain file name.")
        if name.lower() in RUNNER_FILES or name.lower().split(".")[0] in WINDOWS_DEVICES:
            raise RunnerError(f"The job's input name {name!r} is reserved; the job is refused.")
        if name.lower() in seen:
            raise RunnerError(f"The job names two inputs {name!r}; the job is refused.")
        seen.add(name.lower())


class Status(enum.StrEnum):
    SUCCESS = "success"
    ERROR = "error"  # the app failed or broke a limit: `message` says which
    TIMEOUT = "timeout"  # the wall clock limit passed
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Limits:
    """Sandbox limits for one job (from the app's resources unless the worker narrows them)."""

    memory_mb: int = 256  # the job is stopped when its processes use more
    memory_by_volunteer: bool = False  # the limit is the volunteer's (else the app's need)
    cpu_seconds: int = 3600  # CPU time over all the job's cores
    wall_seconds: float = 3600.0  # running time; time spent paused does not count
    pids: int = 64
    output_mb: int = 512  # what the job may write in its folder (besides its inputs)
    min_free_disk_mb: int = 0  # the job is stopped when the disk's free space drops below

    @classmethod
    def for_app(cls, app: AppSpec, cores: int = 1) -> Limits:
        res = app.resources
        return cls(
            memory_mb=app_memory_need_mb(app, cores),
            cpu_seconds=int(res.max_seconds * max(cores, res.cores)) + 10,
            wall_seconds=float(res.max_seconds),
        )


def app_memory_need_mb(app: AppSpec, cores: int = 1) -> int:
    """The memory one run of `app` needs on `cores` cores: what it declares, or, for a
    multicore app given more cores than it declares, as much more as it has cores more (it
    runs a process per core)."""
    res = app.resources
    if res.multicore and cores > res.cores:
        return -(-res.memory_mb * cores // max(1, res.cores))
    return res.memory_mb


def memory_stop_message(limits: Limits) -> str:
    """The sentence for a job stopped because it used more memory than its limit."""
    if limits.memory_by_volunteer:
        return (
            f"Stopped: the job used more than {limits.memory_mb} MiB, the memory this "
            "volunteer allows (Volunteer › Memory cap)."
        )
    return (
        f"Stopped: the job used more than {limits.memory_mb} MiB, the memory its app "
        "declares it needs."
    )


@dataclass(frozen=True)
class Job:
    """One job to run: the app, its (validated) params, input files by name (their content,
    or the path of a file already on disk, which is linked into the job's folder), cores
    allotted, and where a successful result file is moved (`result_to`; None: the outcome
    carries the result's bytes)."""

    job_id: str
    app: AppSpec
    params: dict[str, Any]
    inputs: Mapping[str, bytes | Path] = field(default_factory=dict)
    cores: int = 1
    limits: Limits | None = None
    result_to: Path | None = None

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
    result_file: Path | None = None  # the result, moved to the job's `result_to`

    @property
    def ok(self) -> bool:
        return self.status is Status.SUCCESS

    @property
    def size(self) -> int:
        """The result's size in bytes."""
        if self.result_file is not None:
            return self.result_file.stat().st_size
        return len(self.result or b"")


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
        self.root = owned_dir("job-")
        self.work = self.root / "work"
        self.work.mkdir()
        try:
            check_input_names(list(job.inputs))
            for name, source in job.inputs.items():
                _place_input(self.work / name, source, readable=world_writable)
        except BaseException:
            self.remove()
            raise
        self.params = self.root / "params.json"
        self.params.write_text(json.dumps(job.params), encoding="utf-8")
        if world_writable:  # a container user that is not us must write its result
            os.chmod(self.work, 0o777)
        self.baseline_bytes = folder_usage(self.root)[0]  # inputs and params: not the job's

    def output_bytes(self) -> tuple[int, int]:
        """(bytes, entries) the job has added to its folder."""
        used, entries = folder_usage(self.root)
        return max(0, used - self.baseline_bytes), entries

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _place_input(target: Path, source: bytes | Path, readable: bool) -> None:
    """Put one input in the job's folder: bytes are written; a file is linked (no second copy
    on disk) or, on another file system, copied."""
    if isinstance(source, bytes):
        target.write_bytes(source)
    else:
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    if readable:  # a container user that is not us must read it
        os.chmod(target, 0o644)


def owned_dir(prefix: str) -> Path:
    """A fresh folder in the jobs folder marked with this process, so that a crash's leftover
    is removed at the next start (`remove_leftover_job_dirs`)."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir=jobs_dir()))
    (root / OWNER_FILE).write_text(_process_mark(os.getpid()) or "", encoding="ascii")
    return root


MAX_JOB_FILES = 10_000


def folder_usage(root: Path, max_entries: int = MAX_JOB_FILES) -> tuple[int, int]:
    """(bytes, entries) under `root`, not following links; counting stops past `max_entries`
    (a job that makes that many files is over its limit anyway)."""
    total, entries = 0, 0
    stack = [root]
    while stack and entries <= max_entries:
        try:
            with os.scandir(stack.pop()) as found:
                for entry in found:
                    entries += 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += info.st_blocks * 512 if hasattr(info, "st_blocks") else info.st_size
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(Path(entry.path))
                    if entries > max_entries:
                        break
        except OSError:
            continue
    return total, entries


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


def read_result(path: Path, move_to: Path | None = None) -> bytes | Path | str:
    """The result bytes (or, with `move_to`, the result file moved there, never read into
    memory), or a sentence saying why there are none."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return "The app ended without writing a result."
    if not stat.S_ISREG(info.st_mode):
        return "The app's result is not a plain file."
    if info.st_size > MAX_RESULT_BYTES:
        return f"The app's result is larger than {MAX_RESULT_BYTES // 2**20} MiB."
    if move_to is None:
        return path.read_bytes()
    move_to.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(path, move_to)
    except OSError:  # another file system
        shutil.copyfile(path, move_to)
    return move_to


def last_line(text: str, limit: int = 500) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""

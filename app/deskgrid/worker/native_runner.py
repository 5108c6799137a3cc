"""The native runner: a built-in app in a low-priority, resource-limited subprocess.

The job runs `python -m deskgrid.apps.run` (`deskgrid --run-app` in a frozen build) in its own
process group at nice 19, with limits on address space,
CPU time, file size and core dumps, in a fresh directory that is its HOME and TMPDIR, and with
a scrubbed environment: nothing of the volunteer's (tokens, keyring or D-Bus addresses, SSH
agent, DeskGrid settings) reaches it.
The wall clock limit counts running time only: a job paused by the throttle is not penalised.
Memory is held to the job's limit (`Limits.memory_mb`: the smaller of its app's need and what
the volunteer allows) without cgroups: four times a second the supervisor measures the memory
of the job's whole process tree (`proctree.tree_memory_over`: resident set sizes, and near the
limit proportional set sizes on Linux, so pages shared after a fork count once) and kills the
tree when it passes the limit; the address-space limit of each process (the job's memory plus
an allowance for the interpreter's mappings) stops an allocation far past it in between
(`deskgrid.apps.run` then exits with its out-of-memory code). Either way the job ends as an
error whose message says which limit it passed (`runner.memory_stop_message`).

No process of a job outlives it: whatever the way it ends (its own exit, an error, a limit, a
cancel), its group and every descendant are killed (`proctree.kill_tree`); on Linux the first
process is the job's guard (`apps.guard`), which keeps the whole tree under it and kills it
when the app ends or the worker dies (parent-death signal, even after a SIGKILL); each running
job is recorded in the worker's state folder so that a restarted worker kills what a dead one
left (`proctree.JobRecords`).

The worker's runner keeps one warm process ready for DeskGrid's own apps (`NativeRunner`,
`warm`): started the same way (group, nice, parent-death signal, scrubbed environment,
record), it imports the apps and waits for one job, whose limits, HOME and TMPDIR it sets
before it reads anything of the job; it then runs the job under its guard like a cold one.
No process serves two jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from deskgrid.apps import RUN_APP_FLAG
from deskgrid.apps.guard import PR_SET_PDEATHSIG
from deskgrid.apps.guard import supported as guard_supported
from deskgrid.apps.registry import extra_app_names
from deskgrid.apps.run import EXIT_MEMORY, WARM_FLAG
from deskgrid.apps.sdk import AppSpec
from deskgrid.worker.proctree import JobRecords, kill_tree, tree_memory_over
from deskgrid.worker.runner import (
    MAX_LINE_BYTES,
    MAX_RESULT_BYTES,
    Job,
    JobDir,
    JobOutcome,
    Limits,
    ProgressCallback,
    Status,
    jobs_dir,
    last_line,
    memory_stop_message,
    parse_progress,
)
from deskgrid.worker.supervised import DISK_CHECK_SECONDS, MIB, SupervisedExecution

POSIX = os.name == "posix"
# The interpreter maps shared libraries, thread stacks and malloc arenas beyond what the app
# itself allocates: the address-space limit is the app's memory plus this allowance.
ADDRESS_SPACE_ALLOWANCE_MB = 768
MAX_STDERR = 64 * 1024
# Environment variables passed through (none can carry a secret); everything else is dropped.
PASSED_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "PYTHONPATH",
    "DESKGRID_APP_MODULES",
    "SYSTEMROOT",
    "WINDIR",
)

log = logging.getLogger(__name__)


def app_command() -> list[str]:
    """How to start `deskgrid.apps.run`: with this interpreter from source, or in a frozen
    build (where `sys.executable` is the deskgrid program) through its `--run-app` entry."""
    if getattr(sys, "frozen", False):
        return [sys.executable, RUN_APP_FLAG]
    return [sys.executable, "-s", "-m", "deskgrid.apps.run"]


def scrubbed_environment(workdir: Path) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update(
        HOME=str(workdir),
        TMPDIR=str(workdir),
        TEMP=str(workdir),
        TMP=str(workdir),
        PYTHONNOUSERSITE="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def _libc_prctl() -> Callable[..., int] | None:
    """prctl(2), looked up before a fork (nothing is loaded between fork and exec)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _preexec(limits: Limits | None, nice: int) -> Callable[[], None]:
    """The child's setup before exec; `limits` None: a warm process, which sets its job's
    limits itself (`job_rlimits`)."""
    prctl = _libc_prctl()
    worker = os.getpid()

    rlimits = job_rlimits(limits) if limits is not None else {}

    def apply() -> None:  # runs in the child between fork and exec
        import resource

        if prctl is not None:  # die with the worker's thread that started us (the loop's)
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != worker:  # the worker died before that was in place
                os.kill(os.getpid(), signal.SIGKILL)
        os.nice(nice)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        kinds = {"as": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU}
        kinds["fsize"] = resource.RLIMIT_FSIZE
        for name, pair in rlimits.items():
            resource.setrlimit(kinds[name], pair)

    return apply


def job_rlimits(limits: Limits) -> dict[str, tuple[int, int]]:
    """The job's resource limits (soft, hard): address space, CPU seconds, one file's size.
    A cold job's are set between fork and exec; a warm process sets them itself when its job
    comes, before it reads anything of the job."""
    address_space = (limits.memory_mb + ADDRESS_SPACE_ALLOWANCE_MB) * 2**20
    cpu = max(1, int(limits.cpu_seconds))
    file_size = max(MAX_RESULT_BYTES, limits.output_mb * 2**20)  # one file; all: supervisor
    return {
        "as": (address_space, address_space),
        "cpu": (cpu, cpu + 5),
        "fsize": (file_size, file_size),
    }


@dataclass
class _Started:
    """A process of the runner's, with its record in the worker's state folder."""

    proc: asyncio.subprocess.Process
    record: Path | None


class NativeRunner:
    """Runs built-in apps (those with a `run` entry point) in subprocesses.

    With `warm` (the worker's), DeskGrid's own apps run warm on Linux: a process already
    started and imported (`python -m deskgrid.apps.run --warm`) takes the job, and the next
    one is started when the job ends, so each job still has a process of its own. The first
    is started with the first such job; `aclose()` ends the one waiting. Apps from
    DESKGRID_APP_MODULES, and other systems, start a process per job.
    """

    kind = "native"

    def __init__(
        self,
        command: Sequence[str] | None = None,
        nice: int = 19,
        records: JobRecords | None = None,
        warm: bool = False,
    ) -> None:
        # `command` replaces `python -m deskgrid.apps.run` (tests).
        self.command = list(command or app_command())
        # The job's first process is its guard (deskgrid.apps.guard), never to be stopped.
        self.guarded = command is None and guard_supported()
        self.standard = command is None  # runs deskgrid.apps.run, whose exit codes it knows
        self.nice = nice
        self.records = records  # running jobs, for a restarted worker to kill (None: none)
        self.warm = warm and self.guarded
        self._spare: asyncio.Task[_Started] | None = None
        self._closed = False
        self.warm_starts = 0  # jobs handed to a process that was already up

    def available(self) -> bool:
        return True

    def can_run(self, app: AppSpec) -> bool:
        return app.run is not None and not app.image

    def runs_warm(self, app: AppSpec) -> bool:
        return self.warm and app.name not in extra_app_names()

    async def start(self, job: Job, on_progress: ProgressCallback | None = None) -> NativeExecution:
        jobdir = JobDir(job)
        limits = job.effective_limits
        result = jobdir.root / "result"
        args = [job.app.name, "--params", str(jobdir.params), "--workdir", str(jobdir.work)]
        args += ["--result", str(result), "--cores", str(max(1, job.cores))]
        for name in job.inputs:
            args += ["--input", name]
        try:
            if self.runs_warm(job.app):
                started = await self._hand_over(args, jobdir.work, limits)
            else:
                started = await self._spawn(args, jobdir.work, limits)
        except BaseException:
            jobdir.remove()
            raise
        proc, record = started.proc, started.record
        if not POSIX:  # pragma: no cover - Windows: lowest priority class instead of nice
            with contextlib.suppress(psutil.Error):
                psutil.Process(proc.pid).nice(psutil.IDLE_PRIORITY_CLASS)  # type: ignore[attr-defined]
        execution = NativeExecution(proc, jobdir, result, limits, on_progress, job.result_to)
        execution.guarded = self.guarded
        execution.memory_exit = EXIT_MEMORY if self.standard else None
        warm = self.runs_warm(job.app)

        def ended() -> None:
            if self.records is not None:
                self.records.remove(record)
            if warm:
                self._start_spare()

        execution.on_end = ended
        return execution

    def _start_spare(self) -> None:
        """Start the next warm process (once the last job's processes are gone, so that it
        does not take a core from the job)."""
        if self._spare is None and not self._closed:
            self._spare = asyncio.ensure_future(self._spawn([WARM_FLAG], jobs_dir(), None))

    async def _spawn(self, args: list[str], cwd: Path, limits: Limits | None) -> _Started:
        """A new process: the job's (`limits` given) or a warm one (`limits` None)."""
        proc = await asyncio.create_subprocess_exec(
            *self.command,
            *args,
            stdin=asyncio.subprocess.DEVNULL if limits is not None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=scrubbed_environment(cwd),
            preexec_fn=_preexec(limits, self.nice) if POSIX else None,
            start_new_session=POSIX,
            limit=MAX_LINE_BYTES,
        )
        record = self.records.add(proc.pid) if self.records is not None else None
        return _Started(proc, record)

    async def _hand_over(self, args: list[str], workdir: Path, limits: Limits) -> _Started:
        """Give the job to the warm process (started now if there is none ready); the next
        one is started when this job ends."""
        started = await self._take_spare()
        if started is None:
            started = await self._spawn([WARM_FLAG], jobs_dir(), None)
        else:
            self.warm_starts += 1
        job = {"argv": args, "workdir": str(workdir), "rlimits": job_rlimits(limits)}
        stdin = started.proc.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(job).encode() + b"\n")
            await stdin.drain()
            stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            # it died waiting: its execution reports how (its exit status, its stderr)
            log.warning("the warm process %d ended before its job", started.proc.pid)
        return started

    async def _take_spare(self) -> _Started | None:
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        try:
            started = await spare
        except OSError as exc:
            log.warning("could not start a warm process (%s); starting one now", exc)
            return None
        if started.proc.returncode is not None:  # it died waiting
            self._forget(started)
            return None
        return started

    def _forget(self, started: _Started) -> None:
        if self.records is not None and started.record is not None:
            self.records.remove(started.record)

    async def aclose(self) -> None:
        """End the warm process waiting for a job, if any; none is started after."""
        self._closed = True
        spare, self._spare = self._spare, None
        if spare is None:
            return
        if not spare.done():
            spare.cancel()
        try:
            started = await spare
        except (asyncio.CancelledError, OSError):
            return
        if started.proc.returncode is None:
            kill_tree(started.proc.pid)
            with contextlib.suppress(ProcessLookupError):
                started.proc.kill()
        await started.proc.wait()
        self._forget(started)


class NativeExecution(SupervisedExecution):
    """A running native job (see runner.Execution)."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        jobdir: JobDir,
        result: Path,
        limits: Limits,
        on_progress: ProgressCallback | None,
        result_to: Path | None = None,
    ) -> None:
        super().__init__(jobdir, limits, on_progress, result_to)
        self._proc = proc
        self._result = result
        self._stderr = bytearray()
        self.guarded = False  # the first process is the job's guard: it is never stopped
        self.memory_exit: int | None = None  # the exit code of an app out of memory
        self.on_end: Callable[[], None] | None = None  # after the last process is killed
        self._start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _processes(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self._proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def cpu_seconds(self) -> float:
        """CPU time used so far by the job's processes (user + system)."""
        total = 0.0
        for proc in self._processes():
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        self._cpu = max(self._cpu, total)
        return self._cpu

    def _signal(self, action: str) -> None:
        """Send "stop", "cont" or "kill" to the whole process group; "kill" also kills every
        descendant (one that left the group too)."""
        if self._proc.returncode is not None:
            return
        if action == "kill":
            kill_tree(self._proc.pid)
        if POSIX:
            sig = {"stop": signal.SIGSTOP, "cont": signal.SIGCONT, "kill": signal.SIGKILL}[action]
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, sig)
                if sig == signal.SIGSTOP and self.guarded:  # the guard keeps watching
                    os.kill(self._proc.pid, signal.SIGCONT)
            return
        for proc in self._processes():  # pragma: no cover - Windows
            with contextlib.suppress(psutil.Error):
                {"stop": proc.suspend, "cont": proc.resume, "kill": proc.kill}[action]()

    async def pause(self) -> None:
        if not self._clock.paused and self._proc.returncode is None:
            self._signal("stop")
            self._clock.mark_paused()

    async def resume(self) -> None:
        if self._clock.paused:
            self._signal("cont")
            self._clock.mark_resumed()

    async def cancel(self) -> None:
        """Kill the job and its children; `wait()` then returns a CANCELLED outcome."""
        self._cancelled = True
        self._signal("kill")
        await self._wait_for_supervisor()

    # -- supervision -------------------------------------------------------------------------
    async def _read_progress(self) -> None:
        assert self._proc.stdout is not None
        while True:
            try:
                line = await self._proc.stdout.readline()
            except (asyncio.LimitOverrunError, ValueError):
                continue  # an over-long line: not progress
            if not line:
                return
            event = parse_progress(line)
            if event is not None and self._on_progress is not None:
                with contextlib.suppress(Exception):
                    self._on_progress(event)

    async def _read_stderr(self) -> None:
        assert self._proc.stderr is not None
        while chunk := await self._proc.stderr.read(8192):
            self._stderr += chunk
            del self._stderr[:-MAX_STDERR]

    async def _wait_within_limit(self) -> bool:
        """Wait for the process; False when the running-time limit passed first."""
        waiter = asyncio.ensure_future(self._proc.wait())
        try:
            while not waiter.done():
                remaining = self._time_left()
                if remaining is None:
                    return False
                await asyncio.wait({waiter}, timeout=min(remaining, DISK_CHECK_SECONDS))
                self.cpu_seconds()
                if not waiter.done() and self._over is None:
                    self._over = await asyncio.to_thread(self._limits_check)
                    if self._over is not None:
                        return True  # `_outcome` reports it
            return True
        finally:
            if not waiter.done():
                self._signal("kill")
                await waiter

    def _limits_check(self) -> str | None:
        """A sentence when the job's processes use more memory than its limit, or its
        folder or the disk is over theirs (`_disk_check`); the supervisor then stops it."""
        if tree_memory_over(self._proc.pid, self._limits.memory_mb * MIB):
            return memory_stop_message(self._limits)
        return self._disk_check()

    async def _supervise(self) -> JobOutcome:
        readers = [
            asyncio.create_task(self._read_progress()),
            asyncio.create_task(self._read_stderr()),
        ]
        try:
            in_time = await self._wait_within_limit()
            await asyncio.gather(*readers)
            return self._outcome(in_time)
        finally:
            for reader in readers:
                reader.cancel()
            self._kill_leftovers()
            self._jobdir.remove()

    def _kill_leftovers(self) -> None:
        """Whatever the way the job ended: kill its group and its tree, forget its record."""
        if self._proc.returncode is None:
            self._signal("kill")
        elif POSIX:  # members of the group the first process left behind
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
        if self.on_end is not None:
            try:
                self.on_end()
            except Exception as exc:  # the record stays; the next start checks it (start time)
                log.warning("Could not forget the finished job's process record (%s).", exc)

    def _outcome(self, in_time: bool) -> JobOutcome:
        early = self._ended_early(in_time)
        if early is not None:
            return early
        code = self._proc.returncode
        if code == 0:
            return self._finished(self._result)
        if code is not None and code < 0:
            return JobOutcome(Status.ERROR, message=self._signal_message(-code), **self._common())
        if code is not None and code == self.memory_exit:
            message = memory_stop_message(self._limits)
            return JobOutcome(Status.ERROR, message=message, **self._common())
        stderr = last_line(self._stderr.decode("utf-8", errors="replace"))
        message = stderr or f"The app exited with code {code}."
        return JobOutcome(Status.ERROR, message=message, **self._common())

    def _signal_message(self, signum: int) -> str:
        near_limit = self._cpu >= self._limits.cpu_seconds * 0.9
        if POSIX and (signum == signal.SIGXCPU or (signum == signal.SIGKILL and near_limit)):
            return f"The job used more than its CPU time limit of {self._limits.cpu_seconds} s."
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = str(signum)
        return f"The app was killed by signal {name}."

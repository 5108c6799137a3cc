"""A native job's processes, killed together, and the record that lets a restarted worker kill
what a dead one left running.

`kill_tree(pid)` kills a job's first process, its process group and every descendant (read
from psutil at kill time, descendants first so that orphans stay in the tree). On Linux the
job's first process is its guard (`deskgrid.apps.guard`), the subreaper of the job's tree, so
the sweep finds even a process that left the job's session.

`tree_memory_bytes(pid)` is the memory a job's processes use together, which the native
runner holds to the job's limit (`tree_memory_over`, which reads it only near the limit).

`JobRecords` keeps one file per running job in the worker's state folder: the job's pid and
process start time (a reused pid has another start time) and the same of the worker that
started it. A worker that starts kills (the tree of) every recorded job whose worker is gone
and whose process still has the recorded start time: a job that survived its worker because
the parent-death signal could not fire (a worker killed while its job was stopped, a platform
without one).
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import psutil

from deskgrid.atomicfile import write_atomic

KILL_ROUNDS = 50
POSIX = os.name == "posix"


def start_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) < 0.01


def kill_tree(pid: int, created: float | None = None, rounds: int = KILL_ROUNDS) -> int:
    """SIGKILL the process `pid` (only if it started at `created`, when given), every
    descendant and its process group; returns how many processes were sent the signal."""
    try:
        root = psutil.Process(pid)
        if created is not None and not _same(root.create_time(), created):
            return 0
    except psutil.Error:
        return 0
    killed = 0
    for _ in range(rounds):  # descendants first: orphans go to the root (the job's guard)
        try:
            found = [p for p in root.children(recursive=True) if _running(p)]
        except psutil.Error:
            found = []
        if not found:
            break
        for proc in found:
            with contextlib.suppress(psutil.Error):
                proc.kill()
                killed += 1
    if POSIX:
        with contextlib.suppress(OSError):
            if os.getpgid(pid) == pid and pid != os.getpgid(0):
                os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(psutil.Error):
        root.kill()
        killed += 1
    return killed


def tree_memory_bytes(pid: int) -> int:
    """The memory a process and its descendants use now, in bytes: on Linux the sum of their
    proportional set sizes (a page shared by several of them, as after a fork, counts once
    over all), elsewhere of their resident set sizes; 0 when the process is gone."""
    return sum(_process_memory(proc) for proc in _tree(pid))


def tree_memory_over(pid: int, limit_bytes: int) -> bool:
    """Whether `tree_memory_bytes(pid)` is over `limit_bytes`. The resident set sizes, which
    are cheap to read, are summed first: a proportional set size is never more than its
    resident set size, so the proportional ones (whose reading walks the processes' page
    tables) are read only when the resident ones pass the limit."""
    procs = _tree(pid)
    if sum(_resident(proc) for proc in procs) <= limit_bytes:
        return False
    return sum(_process_memory(proc) for proc in procs) > limit_bytes


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _resident(proc: psutil.Process) -> int:
    try:
        return int(proc.memory_info().rss)
    except psutil.Error:
        return 0


def _process_memory(proc: psutil.Process) -> int:
    pss = _proportional_set_size(proc.pid)
    return pss if pss is not None else _resident(proc)


def _proportional_set_size(pid: int) -> int | None:
    """Linux's PSS of a process in bytes; None elsewhere, on a kernel without smaps_rollup,
    or when the process is gone (its resident set size then tells)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@dataclass(frozen=True)
class JobRecord:
    path: Path
    pid: int
    created: float
    owner_pid: int
    owner_created: float


class JobRecords:
    """The folder of running jobs' records (one file per job)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def add(self, pid: int, owner: tuple[int, float] | None = None) -> Path | None:
        """Record the running job `pid` (of this process, or of `owner`: pid, start time)."""
        created = start_time(pid)
        if owner is None:
            owner = (os.getpid(), start_time(os.getpid()) or 0.0)
        if created is None:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{pid}-{created:.3f}.job"
        write_atomic(path, f"{pid} {created:.3f} {owner[0]} {owner[1]:.3f}\n")
        return path

    def remove(self, path: Path | None) -> None:
        if path is not None:
            path.unlink(missing_ok=True)

    def records(self) -> list[JobRecord]:
        found: list[JobRecord] = []
        if not self.folder.is_dir():
            return found
        for path in self.folder.glob("*.job"):
            try:
                pid, created, owner, owner_created = path.read_text(encoding="ascii").split()
                record = JobRecord(path, int(pid), float(created), int(owner), float(owner_created))
                found.append(record)
            except (OSError, ValueError):
                path.unlink(missing_ok=True)
        return found

    def kill_leftovers(self) -> int:
        """Kill the jobs a dead worker left running and forget their records; returns how
        many were still running. A job whose worker still runs (another worker sharing the
        folder) is left alone."""
        count = 0
        for record in self.records():
            if _same(start_time(record.owner_pid), record.owner_created):
                continue
            if kill_tree(record.pid, record.created):
                count += 1
            record.path.unlink(missing_ok=True)
        return count

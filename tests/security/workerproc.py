"""A real `deskgrid worker` process for the security tests, and what the tests read of it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from tests.conftest import REPO_ROOT
from tests.integration.grid.processes import Proc, _env

MIB = 2**20


def start_worker(url: str, state_dir: Path, *extra: str) -> Proc:
    command = [
        sys.executable, "-m", "deskgrid", "worker", "--grid", url,
        "--state-dir", str(state_dir), *extra,
    ]  # fmt: skip
    popen = subprocess.Popen(
        command, cwd=REPO_ROOT, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    return Proc(popen)


async def wait_line(proc: Proc, pattern: str, timeout: float = 60.0) -> None:
    """Wait for a line of the worker (in a thread: the test's loop keeps serving the grid)."""
    await asyncio.to_thread(proc.wait_line, pattern, timeout)


def peak_rss(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")


def alive(proc: psutil.Process) -> bool:
    """Running (a zombie waiting for its parent to read it has ended)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def tagged(tag: str) -> list[psutil.Process]:
    """Processes of this user whose command line carries `tag`."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if tag in cmdline and alive(proc):
            found.append(proc)
    return found


async def poll(check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Poll `check` until true (at most `seconds`: a bound, not a timing)."""
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"Timed out waiting for {what}.")
        await asyncio.sleep(0.1)

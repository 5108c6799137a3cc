"""The job's guard (Linux): no process of a job outlives the job or its worker.

`python -m deskgrid.apps.run` is the job's first process. On Linux it forks: the child runs the
app; the first process stays as the guard. The guard is the job's child subreaper
(PR_SET_CHILD_SUBREAPER), so every process the app starts stays in its tree, even one that
leaves the job's session (setsid) or whose parent exits. When the app ends, the guard kills
whatever it left behind before it exits with the app's status. The worker started the guard
with a parent-death signal (SIGKILL, set between fork and exec); the guard replaces it with
SIGTERM, which it handles: when the worker dies, even by SIGKILL, the guard kills the whole
tree. The app itself dies with the guard (its parent-death signal is SIGKILL).

Elsewhere (macOS, Windows) the app runs in the first process; the worker's process group and
its sweep of the process tree then do the job.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import traceback
from collections.abc import Callable
from types import FrameType

import psutil

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
KILL_ROUNDS = 50  # a fork bomb cannot keep the sweep going for ever
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def supported() -> bool:
    return sys.platform.startswith("linux")


def prctl(option: int, value: int) -> bool:
    """prctl(2) through the C library; False when it failed."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def set_parent_death_signal(signum: int, parent: int) -> None:
    """Be sent `signum` when the thread that started us exits; if our parent is already gone,
    that signal now (the parent died before the request was in place)."""
    prctl(PR_SET_PDEATHSIG, signum)
    if os.getppid() != parent:
        os.kill(os.getpid(), signum)


def kill_descendants(rounds: int = KILL_ROUNDS) -> int:
    """SIGKILL every descendant of this process until none is left (or `rounds` sweeps) and
    reap them; returns how many were killed."""
    me = psutil.Process()
    killed = 0
    for _ in range(rounds):
        try:
            found = me.children(recursive=True)
        except psutil.Error:
            found = []
        alive = [proc for proc in found if _alive(proc)]
        if not alive:
            break
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
                killed += 1
        _reap()
    _reap()
    return killed


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class _Stop(Exception):
    def __init__(self, signum: int) -> None:
        self.signum = signum


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signum)


def run_guarded(body: Callable[[], int]) -> int:
    """Run `body()` (the app) in a child process watched by this one; returns its exit code
    (a signal that killed the app is raised again here, so the worker sees it)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_stop)
    guard = os.getpid()
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        set_parent_death_signal(signal.SIGTERM, os.getppid())
        app = os.fork()
        if app == 0:
            _be_the_app(body, guard)
        status = _wait_for(app)
    except _Stop as stop:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        kill_descendants()
        return 128 + stop.signum
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    kill_descendants()
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(guard, signum)
        return 128 + signum
    return os.waitstatus_to_exitcode(status)


def _be_the_app(body: Callable[[], int], guard: int) -> None:
    code = 1
    try:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        set_parent_death_signal(signal.SIGKILL, guard)
        code = body()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _wait_for(app: int) -> int:
    """Reap children (orphans of the app's tree come to us) until `app` itself ends."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 1 << 8
        except InterruptedError:
            continue
        if pid == app:
            return status

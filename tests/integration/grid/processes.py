"""Starting and stopping real `deskgrid grid serve` and worker processes on loopback."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REPO_ROOT

TOKEN = "integration-submitter-token"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Proc:
    popen: subprocess.Popen
    lines: queue.Queue = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))

    def drain(self) -> list[str]:
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return self.seen

    def wait_line(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        for line in self.seen:
            if match := regex.search(line):
                return match
        while time.monotonic() < deadline:
            if self.popen.poll() is not None and self.lines.empty():
                raise AssertionError(f"process exited ({self.popen.returncode}): {self.seen}")
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if match := regex.search(line):
                return match
        raise AssertionError(f"no line matching {pattern!r} within {timeout}s: {self.seen}")

    def kill9(self) -> None:
        self.popen.kill()
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()


def start_server(db_url: str, data_dir: Path, port: int = 0, *extra: str) -> tuple[Proc, str]:
    command = [
        sys.executable, "-m", "deskgrid.cli", "grid", "serve",
        "--db", db_url, "--port", str(port), "--data-dir", str(data_dir),
        "--submitter-token", TOKEN, "--catalog", "tests.grid_fixtures:catalog",
        "--reap-interval", "0.1", "--idle-retry", "0.1", "--rate-limit", "0", *extra,
    ]  # fmt: skip
    popen = subprocess.Popen(
        command, cwd=REPO_ROOT, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    proc = Proc(popen)
    url = proc.wait_line(r"grid listening on (http://\S+)", timeout=60).group(1)
    return proc, url


def start_workers(url: str, workers: int = 1, *extra: str) -> Proc:
    command = [
        sys.executable, "-m", "tests.integration.grid.worker_proc", url,
        "--workers", str(workers), *extra,
    ]  # fmt: skip
    popen = subprocess.Popen(
        command, cwd=REPO_ROOT, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    return Proc(popen)

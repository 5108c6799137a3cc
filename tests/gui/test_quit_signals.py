"""Ctrl-C in the terminal (SIGINT) and SIGTERM quit the real app cleanly: exit code 0, no
traceback, and the local node's child process stopped with it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.gui

STARTED = re.compile(r"the local node started \(pid (\d+)\)")


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_quits_the_app_and_its_node(tmp_path: Path, signum: int) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text(
        json.dumps({"network_mode": "demo", "first_run_done": True})
    )
    env = {**os.environ, "DESKGRID_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    app = subprocess.Popen(
        [sys.executable, "-m", "deskgrid"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = home / "logs" / "deskgrid.log"
    try:
        match = wait_for(
            lambda: log.exists() and STARTED.search(log.read_text()), 90, "the local node"
        )
        node = psutil.Process(int(match.group(1)))
        app.send_signal(signum)
        _, stderr = app.communicate(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
    assert app.returncode == 0, stderr
    assert "Traceback" not in stderr and "Traceback" not in log.read_text()
    wait_for(lambda: not node.is_running() or node.status() == psutil.STATUS_ZOMBIE, 30, "node")

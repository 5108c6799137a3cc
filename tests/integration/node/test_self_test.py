"""`deskgrid --self-test` from source: a whole task end to end, each step reported."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from deskgrid.node import self_test
from deskgrid.node.self_test import STAGES, SelfTestFailed, run_self_test

pytestmark = pytest.mark.integration

SCRIPT = """
import sys
from deskgrid.cli import main
code = main(["--self-test"])
qt = sorted(m for m in sys.modules if m.startswith("PySide6"))
print("qt modules:", qt)
sys.exit(code)
"""


def test_self_test_passes_and_reports_every_step(deskgrid_home):
    env = dict(os.environ, DESKGRID_HOME=str(deskgrid_home))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=240, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    steps = ("load the modules", "start the local node", "fund the demo wallet", "requester: pay")
    for step in steps:
        assert f"ok    {step}" in out
    for _kind, name, _sentence in STAGES:
        assert f"ok    {name}" in out
    assert "ok    requester: key combined and verified" in out
    assert "self-test passed: 11 steps" in out
    assert "qt modules: []" in out  # the core never imports Qt
    # The self-test used its own data folder: only its log is in the person's.
    assert [p.name for p in deskgrid_home.iterdir()] == ["logs"]
    assert [p.name for p in (deskgrid_home / "logs").iterdir()] == ["self-test.log"]
    log = (deskgrid_home / "logs" / "self-test.log").read_text()
    assert "self-test starts" in log and "self-test ended with exit code 0" in log


def test_a_failing_step_is_named_with_a_sentence(monkeypatch, capsys, deskgrid_home):
    from deskgrid import logs
    from deskgrid.node.local import LocalNode

    async def broken_start(self, progress=None):
        raise OSError("no free port")

    monkeypatch.setattr(LocalNode, "start", broken_start)
    log_file = logs.setup_logging("self-test")  # as `deskgrid --self-test` does
    assert run_self_test() == 1
    captured = capsys.readouterr()
    assert "FAIL  start the local node" in captured.out
    assert "self-test failed at step 'start the local node'" in captured.err
    assert "did not start. (no free port)" in captured.err
    assert f"the details are in {log_file}" in captured.err
    assert "Traceback" not in captured.err  # the traceback is for the log
    logs.reset_logging()
    text = log_file.read_text()
    assert "self-test step 'start the local node' failed" in text
    assert "OSError: no free port" in text


def test_a_task_stuck_before_the_grid_names_the_oracle(monkeypatch):
    async def quiet_follow(self, interval=0.3):
        from deskgrid.oracle.timeline import TimelineEvent

        yield TimelineEvent("0x1", "requested", "chain", 0.0)
        await asyncio.sleep(30)

    from deskgrid.node.requester import VanityRun

    monkeypatch.setattr(VanityRun, "follow", quiet_follow)
    lines: list[str] = []
    test = self_test.SelfTest(lines.append, timeout=1.0)
    with pytest.raises(SelfTestFailed) as failed:
        asyncio.run(test.run())
    assert failed.value.step == "oracle: job queued on the grid"
    assert "did not pass the paid task to the grid" in str(failed.value)

"""The node child's standard error goes to `node-stderr.log` in the log folder, and a failed
start names the node's log file."""

from __future__ import annotations

import sys

import pytest

from deskgrid import logs
from deskgrid.desktop import node_backend
from deskgrid.desktop.node_backend import NodeBackend
from deskgrid.errors import DeskGridError

CRASH = "import sys; sys.stderr.write('ImportError: a crash before logging\\n'); sys.exit(3)"


async def test_a_crash_before_logging_lands_in_node_stderr_log(deskgrid_home, monkeypatch):
    monkeypatch.setattr(
        node_backend, "node_command", lambda *_a, **_k: [sys.executable, "-c", CRASH]
    )
    with pytest.raises(DeskGridError) as failed:
        await NodeBackend().start()
    message = str(failed.value)
    assert "stopped while starting (exit code 3)" in message
    assert f"see its log, {deskgrid_home / 'logs' / 'node.log'} (and node-stderr.log" in message
    stderr_log = logs.log_file("node-stderr")
    assert stderr_log.read_text() == "ImportError: a crash before logging\n"

    with pytest.raises(DeskGridError):  # appended, not replaced, by the next start
        await NodeBackend().start()
    assert stderr_log.read_text().count("a crash before logging") == 2


def test_an_unexpected_error_names_the_app_log(deskgrid_home):
    from deskgrid.ui.tasks import error_sentence

    sentence = error_sentence(RuntimeError("boom"))
    assert f"report it with the log, {deskgrid_home / 'logs' / 'deskgrid.log'}." in sentence
    path = logs.setup_logging("deskgrid", console=False)
    assert str(path) in error_sentence(KeyError("x"))

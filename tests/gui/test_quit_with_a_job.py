"""Quitting while a paid job is on its way: the window's tasks are cancelled before the local
node stops, so nothing fails against the stopped node (no error, no traceback in the log);
a paid task is kept by the requester journal and resumed at the next start."""

from __future__ import annotations

import logging

import pytest

from deskgrid.desktop.node_backend import NodeBackend
from deskgrid.desktop.settings import SettingsStore
from deskgrid.ui.controller import AppController, close_down
from deskgrid.ui.main_window import MainWindow
from tests.gui.conftest import run_async

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("after_ms", [0, 300, 1500])
def test_quitting_with_a_job_running_logs_no_error(qtbot, caplog, after_ms: int) -> None:
    settings = SettingsStore()
    settings.update(first_run_done=True, network_mode="demo")
    controller = AppController(
        settings, backend_factory=lambda _s, bus: NodeBackend(bus), block_interval=0.2
    )
    window = MainWindow(controller)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(controller.booted, timeout=60_000):
        window.start()
    window.show_pane("jobs")
    pane = window.panes["jobs"]
    qtbot.waitUntil(lambda: pane.current_app() is not None, timeout=10_000)
    pane.form.patterns_edit.setText("1Abcd")  # long enough to still run when the app quits
    qtbot.waitUntil(pane.run_button.isEnabled, timeout=10_000)
    pane.run_button.click()
    qtbot.waitUntil(lambda: pane.review is not None and pane.review.isVisible(), timeout=10_000)
    pane.review.pay_button.click()
    qtbot.wait(after_ms)

    caplog.set_level(logging.WARNING)
    run_async(qtbot, close_down(controller), timeout=60_000)
    qtbot.wait(500)  # what was still running in threads has ended by now
    assert controller.backend is None
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [f"{r.name}: {r.getMessage()}" for r in errors]

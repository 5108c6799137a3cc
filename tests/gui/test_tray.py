"""The tray controller against a stub window: menu rebuilt on show, donation toggled from the
menu, icon state following the worker, close-to-tray, and no tray = a window; and the state
icons (resources/tray, a painted dot when a file is missing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QCloseEvent, QColor
from PySide6.QtWidgets import QMainWindow

from deskgrid import resources
from deskgrid.ui.tray import COLOURS, NO_TRAY, TRAY_STATES, TrayController, state_icon
from deskgrid.worker.donation import Donation
from tests.gui.fake_worker import FakeWorker

pytestmark = pytest.mark.gui


class StubWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.raised = 0

    def bring_to_front(self) -> None:
        self.raised += 1
        self.show()


@pytest.fixture
def parts(qtbot):
    window = StubWindow()
    qtbot.addWidget(window)
    donation = Donation(worker_factory=FakeWorker)
    donation.grid_url = "http://127.0.0.1:1"
    quits: list[bool] = []
    tray = TrayController(window, donation, available=True, quit_app=lambda: quits.append(True))
    yield window, donation, tray, quits
    if donation.running:
        from tests.gui.conftest import run_async

        run_async(qtbot, donation.stop())


def test_menu_is_rebuilt_on_show_and_toggles_donation(qtbot, parts):
    window, donation, tray, quits = parts
    assert tray.state == "idle"
    assert [a.text() for a in tray.menu.actions() if a.text()] == [
        "Open DeskGrid", "Donate my CPU", "Snooze 1 h", "Quit DeskGrid",
    ]  # fmt: skip
    assert not tray.actions["donate"].isChecked() and not tray.actions["snooze"].isEnabled()
    tray.actions["donate"].trigger()
    qtbot.waitUntil(lambda: donation.running, timeout=3000)
    tray.menu.aboutToShow.emit()
    assert tray.actions["donate"].isChecked() and tray.actions["snooze"].isEnabled()

    worker = donation.worker
    worker.push(state="computing", reason="Computing echo job j1.")
    qtbot.waitUntil(lambda: tray.state == "computing", timeout=3000)
    assert "Computing echo job j1." in tray.tray.toolTip()
    worker.push(state="error", reason="The grid is unreachable. Trying again in 4 s.")
    qtbot.waitUntil(lambda: tray.state == "error", timeout=3000)
    assert "unreachable" in tray.tray.toolTip()

    tray.actions["snooze"].trigger()
    assert donation.paused and worker.paused_by_user
    worker.push(state="suspended", reason="Paused by you.")
    qtbot.waitUntil(lambda: tray.state == "suspended", timeout=3000)
    tray.menu.aboutToShow.emit()
    assert tray.actions["snooze"].text() == "Resume now"
    tray.actions["snooze"].trigger()
    assert not donation.paused and not worker.paused_by_user

    tray.menu.aboutToShow.emit()
    tray.actions["donate"].trigger()
    qtbot.waitUntil(lambda: not donation.running, timeout=3000)
    qtbot.waitUntil(lambda: tray.state == "idle", timeout=3000)
    tray.menu.aboutToShow.emit()
    assert not tray.actions["donate"].isChecked()

    tray.actions["open"].trigger()
    assert window.raised == 1 and window.isVisible()
    tray.actions["quit"].trigger()
    assert quits == [True] and tray.quitting


def test_close_goes_to_the_tray(qtbot, parts):
    window, _, tray, _ = parts
    window.show()
    event = QCloseEvent()
    assert tray.eventFilter(window, event) and not event.isAccepted()
    assert not window.isVisible()
    tray.quitting = True
    assert not tray.eventFilter(window, QCloseEvent())


def test_donate_is_disabled_without_a_grid(qtbot):
    window = StubWindow()
    qtbot.addWidget(window)
    tray = TrayController(window, Donation(worker_factory=FakeWorker), available=True)
    assert not tray.actions["donate"].isEnabled()
    tray.start_donating()  # nothing to start
    assert not tray.donation.running


def test_without_a_tray_it_says_so_and_stays_a_window(qtbot):
    window = StubWindow()
    qtbot.addWidget(window)
    tray = TrayController(window, Donation(worker_factory=FakeWorker), available=False)
    assert not tray.active
    assert window.statusBar().currentMessage() == NO_TRAY
    window.show()
    window.close()
    assert not window.isVisible()


def _pixel(icon, x: int, y: int) -> QColor:
    image = icon.pixmap(64, 64).toImage()
    return image.pixelColor(x * image.width() // 64, y * image.height() // 64)


def test_state_icons_are_the_logo_with_the_state_badge(qtbot):
    for state in TRAY_STATES:
        icon = state_icon(state)
        assert not icon.isNull(), state
        assert _pixel(icon, 8, 32).name() == "#1f6feb", state  # the logo's blue
        assert _pixel(icon, 48, 37).name() == COLOURS[state], state  # the badge (above its sign)
    assert _pixel(state_icon("stopped"), 48, 37).name() == COLOURS["idle"]  # idle for others


def test_a_missing_state_icon_falls_back_to_a_painted_dot(qtbot, monkeypatch):
    monkeypatch.setattr(resources, "path", lambda name: Path("/nonexistent") / name)
    icon = state_icon("error")
    assert not icon.isNull()
    assert _pixel(icon, 8, 32).name() == COLOURS["error"]


def test_quitting_with_tasks_running_says_they_resume_without_asking(qtbot, parts, capsys):
    window, _donation, tray, quits = parts
    window.quit_sentence = lambda: "1 task is still running: DeskGrid resumes it."
    tray.quit()
    assert quits == [True]  # quit at once: no dialog waits for an answer
    assert window.statusBar().currentMessage() == "1 task is still running: DeskGrid resumes it."
    assert "DeskGrid: 1 task is still running" in capsys.readouterr().out

"""The tray: an icon that shows what the worker does (idle / computing / suspended / error),
a tooltip with the reason, a menu rebuilt each time it opens (Open, Donate on/off, Snooze 1 h,
Quit), close-to-tray, and desktop notifications (`notify`; the wallet's ended jobs once
`follow_job_ends` is called). Without a system tray the app says so and stays a window, and
notifications go to the window's status bar."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QStatusBar, QSystemTrayIcon

from deskgrid import resources
from deskgrid.desktop.settings import SettingsStore
from deskgrid.ui.bridge import QtEventBridge
from deskgrid.ui.job_notices import JobNotices
from deskgrid.ui.tasks import spawn
from deskgrid.worker.donation import Donation
from deskgrid.worker.status import WorkerStatus

log = logging.getLogger("deskgrid.ui.tray")

SNOOZE_SECONDS = 3600
NOTICE_MS = 15_000
NO_TRAY = "No system tray is available: DeskGrid stays a window (closing it quits)."
# The tray's states (`icon_state`), each drawn by resources/tray/<state>.svg: the logo with a
# state badge. The colours are those badges', for a painted dot if a file is missing.
TRAY_STATES = ("idle", "computing", "suspended", "error")
COLOURS = {
    "idle": "#7b8794",
    "computing": "#2e7d32",
    "suspended": "#f0a202",
    "error": "#c62828",
}


class TrayWindow(Protocol):
    """What the tray needs of the main window (a stub in tests)."""

    def bring_to_front(self) -> None: ...

    def hide(self) -> None: ...

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 - Qt's name

    def installEventFilter(self, watched: QObject) -> None: ...  # noqa: N802 - Qt's name


def state_icon(state: str) -> QIcon:
    """The tray icon for a state (resources/tray/<state>.svg; idle's for an unknown state)."""
    if state not in TRAY_STATES:
        state = "idle"
    path = resources.path(f"tray/{state}.svg")
    return QIcon(str(path)) if path.exists() else painted_icon(state)


def painted_icon(state: str, size: int = 32) -> QIcon:
    """A round icon in the state's colour (a white centre dot while computing): the fallback
    when the state's icon file is missing."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(COLOURS.get(state, COLOURS["idle"])))
    painter.drawEllipse(QRectF(2, 2, size - 4, size - 4))
    if state == "computing":
        painter.setBrush(QColor("white"))
        painter.drawEllipse(QRectF(size * 0.35, size * 0.35, size * 0.3, size * 0.3))
    painter.end()
    return QIcon(pixmap)


def icon_state(status: WorkerStatus, paused: bool = False) -> str:
    if status.state == "stopped":
        return "suspended" if paused else "idle"
    if paused and status.state != "error":
        return "suspended"
    return status.state


class TrayController(QObject):
    status_changed = Signal(object)  # WorkerStatus, on the GUI thread

    def __init__(
        self,
        window: TrayWindow,
        donation: Donation,
        *,
        available: bool | None = None,
        quit_app: Callable[[], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.donation = donation
        self.quit_app = quit_app or QCoreApplication.quit
        self.quitting = False
        self.state = "idle"
        self.actions: dict[str, QAction] = {}
        self.job_notices: JobNotices | None = None
        if available is None:
            available = QSystemTrayIcon.isSystemTrayAvailable()
        self.active = bool(available)
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.tray = QSystemTrayIcon(self)
        self.tray.setContextMenu(self.menu)
        self.tray.activated.connect(self._activated)
        self.status_changed.connect(self.show_status)
        self._unsubscribe = donation.subscribe(self.status_changed.emit)
        self.show_status(donation.status)
        self.rebuild_menu()
        if self.active:
            window.installEventFilter(self)
            self.tray.show()
        else:
            window.statusBar().showMessage(NO_TRAY)

    # -- icon and tooltip ---------------------------------------------------------------

    def show_status(self, status: WorkerStatus) -> None:
        self.state = icon_state(status, self.donation.paused)
        self.tray.setIcon(state_icon(self.state))
        reason = "Paused by you." if self.donation.paused and status.state == "stopped" else ""
        self.tray.setToolTip(f"DeskGrid — {reason or status.reason}")

    def refresh(self) -> None:
        self.show_status(self.donation.status)

    # -- menu ---------------------------------------------------------------------------

    def rebuild_menu(self) -> None:
        """Rebuilt on every show, so it reflects the worker as it is now."""
        self.menu.clear()
        self.actions = {}
        self.actions["open"] = self.menu.addAction("Open DeskGrid", self.open_window)
        self.menu.addSeparator()
        donate = self.menu.addAction("Donate my CPU")
        donate.setCheckable(True)
        donate.setChecked(self.donation.running)
        donate.setEnabled(self.donation.running or bool(self.donation.grid_url))
        donate.triggered.connect(self.set_donating)
        self.actions["donate"] = donate
        if self.donation.paused:
            self.actions["snooze"] = self.menu.addAction("Resume now", self.resume)
        else:
            self.actions["snooze"] = self.menu.addAction("Snooze 1 h", self.snooze)
            self.actions["snooze"].setEnabled(self.donation.running)
        self.menu.addSeparator()
        self.actions["quit"] = self.menu.addAction("Quit DeskGrid", self.quit)

    def open_window(self) -> None:
        self.window.bring_to_front()

    def set_donating(self, on: bool) -> None:
        if on:
            spawn(self.donation.start(), self._error)
        else:
            spawn(self.donation.stop(), self._error)

    def start_donating(self) -> None:
        """`deskgrid --tray`: donate once the app is up, when a grid is known."""
        if not self.donation.running and self.donation.grid_url:
            self.set_donating(True)

    def snooze(self) -> None:
        self.donation.snooze(SNOOZE_SECONDS)
        self.refresh()

    def resume(self) -> None:
        self.donation.set_paused(False)
        self.refresh()

    def quit(self) -> None:
        says = getattr(self.window, "quit_sentence", None)  # the main window's; stubs have none
        sentence = says() if says is not None else None
        if sentence:  # said, not asked: quitting never waits on a dialog
            log.warning("Quitting: %s", sentence)
            print(f"DeskGrid: {sentence}", flush=True)
            self.notify("DeskGrid", sentence)
        self.quitting = True
        self.tray.hide()
        self._unsubscribe()
        self.quit_app()

    # -- notifications ------------------------------------------------------------------

    def notify(self, title: str, text: str, warning: bool = False) -> None:
        """A desktop notification from the tray icon; the window's status bar shows it too
        (the only place when there is no tray)."""
        self.window.statusBar().showMessage(text, NOTICE_MS)
        if self.active:
            icons = QSystemTrayIcon.MessageIcon
            kind = icons.Warning if warning else icons.Information
            self.tray.showMessage(title, text, kind, NOTICE_MS)

    def follow_job_ends(self, bridge: QtEventBridge, settings: SettingsStore | None = None) -> None:
        """Notify when a task of the open wallet ends (unless `settings` turns it off)."""
        if self.job_notices is None:
            self.job_notices = JobNotices(bridge, self.notify, settings, parent=self)

    def _error(self, sentence: str) -> None:
        self.window.statusBar().showMessage(sentence)
        self.tray.setToolTip(f"DeskGrid — {sentence}")
        if self.active:
            self.tray.showMessage("DeskGrid", sentence, QSystemTrayIcon.MessageIcon.Warning)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_window()

    # -- close to tray ------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Close and self.active and not self.quitting:
            event.ignore()
            self.window.hide()
            return True
        return super().eventFilter(watched, event)

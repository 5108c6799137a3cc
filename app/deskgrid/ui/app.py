"""`deskgrid` with no subcommand: the desktop app (one instance per user and data folder)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from deskgrid import logs
from deskgrid.errors import DeskGridError


def _display_available() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_gui(args: argparse.Namespace | None = None) -> int:
    """Open the main window (or bring the running one forward) and run until it closes.

    With `--tray` the window starts hidden in the system tray and donating starts once the app
    is up; without a system tray the window opens and says so. It logs to `deskgrid.log` in
    the data folder's `logs/` (warnings on standard error too), uncaught exceptions in Qt's
    slots and in the event loop's callbacks with their traceback."""
    if not _display_available():
        raise DeskGridError(
            "No graphical display is available: start DeskGrid from a desktop session, or use "
            "a subcommand (deskgrid --help)."
        )
    logs.setup_logging("deskgrid", verbose=getattr(args, "verbose", 0))  # once: idempotent
    from deskgrid.ui.qt_platform import check_qt_platform

    check_qt_platform()  # before Qt, which would abort the process on a missing library
    import qasync
    from PySide6.QtWidgets import QApplication

    from deskgrid.desktop.settings import SettingsStore
    from deskgrid.ui.controller import AppController, close_down
    from deskgrid.ui.gc_guard import MainThreadCollector
    from deskgrid.ui.icons import icon
    from deskgrid.ui.interrupt import QuitOnSignal
    from deskgrid.ui.main_window import MainWindow
    from deskgrid.ui.single_instance import SingleInstance, ask_running_instance_to_raise
    from deskgrid.ui.tray import TrayController
    from deskgrid.ui.volunteer_pane import donation_for

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DeskGrid")
    app.setOrganizationName("DeskGrid")
    app.setDesktopFileName("deskgrid")
    app.setWindowIcon(icon("deskgrid"))
    if ask_running_instance_to_raise():
        print("DeskGrid is already running; its window was brought forward.")
        return 0
    instance = SingleInstance()
    instance.listen()

    collector = MainThreadCollector(parent=app)  # noqa: F841 - lives with the app
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    controller = AppController(SettingsStore())
    window = MainWindow(controller)
    instance.raise_requested.connect(window.bring_to_front)
    donation = donation_for(controller)
    tray = TrayController(window, donation)
    tray.follow_job_ends(controller.bridge, controller.settings)
    window.quit_app = tray.quit
    interrupt = QuitOnSignal(tray.quit, parent=app)  # Ctrl-C and SIGTERM quit as Quit does
    app.setQuitOnLastWindowClosed(not tray.active)
    tray_mode = bool(getattr(args, "tray", False))
    if not (tray_mode and tray.active and not controller.needs_first_run):
        window.show()
    if tray_mode:
        controller.booted.connect(tray.start_donating)
    window.start()
    try:
        loop.run_forever()
        loop.run_until_complete(close_down(controller, donation))
    finally:
        interrupt.close()
        instance.close()
        loop.close()
    return 0

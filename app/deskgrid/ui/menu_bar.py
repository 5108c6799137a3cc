"""The main window's menu bar, where desktop users look first: File (Publish an app…, Open
data folder, Open log folder, Quit) and Help (About). A folder that cannot be opened (no file
manager) is said in the status bar with its path, never silently."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox

from deskgrid import __version__, logs, paths
from deskgrid.ui.folders import open_folder

ABOUT = (
    f"<h3>DeskGrid {__version__}</h3>"
    "<p>Pay in RLC for computing done on a volunteer desktop grid, or donate your idle CPU.</p>"
    "<p>Licensed under the Apache License 2.0.</p>"
)
NOTICE_MS = 15_000


def open_folder_or_say(window: QMainWindow, folder: Path, what: str) -> None:
    """Open `folder`, or say in the status bar why not and where it is."""
    failed = open_folder(folder, what)
    if failed:
        window.statusBar().showMessage(failed, NOTICE_MS)


def build_menu_bar(
    window: QMainWindow,
    quit_app: Callable[[], None],
    publish_app: Callable[[], None] | None = None,
) -> QAction | None:
    """Add File and Help menus to `window`; Quit calls `quit_app` (the tray's quit when there
    is a tray, so that closing to the tray does not stop it). With `publish_app`, File starts
    with "Publish an app…", whose action is returned (the window enables it)."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.setToolTipsVisible(True)  # a disabled action says why in its tooltip
    publish_action = None
    if publish_app is not None:
        publish_action = file_menu.addAction("&Publish an app…", lambda: publish_app())
        file_menu.addSeparator()
    file_menu.addAction(
        "Open &data folder",
        lambda: open_folder_or_say(window, paths.data_dir(), "the data folder"),
    )
    file_menu.addAction(
        "Open &log folder",
        lambda: open_folder_or_say(window, logs.log_folder(), "the log folder"),
    )
    file_menu.addSeparator()
    quit_action = file_menu.addAction("&Quit DeskGrid", lambda: quit_app())
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    help_menu = bar.addMenu("&Help")
    help_menu.addAction("&About DeskGrid", lambda: show_about(window))
    return publish_action


def show_about(window: QMainWindow) -> QMessageBox:
    """The About box, opened without blocking the event loop."""
    box = QMessageBox(QMessageBox.Icon.Information, "About DeskGrid", ABOUT, parent=window)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.open()
    window.about_box = box  # type: ignore[attr-defined]  # kept alive while it is open
    return box

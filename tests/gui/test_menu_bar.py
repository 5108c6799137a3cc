"""The menu bar: File (Publish an app…, Open data folder, Open log folder, Quit) and Help
(About)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QDesktopServices

from deskgrid import paths

pytestmark = pytest.mark.gui


def actions(window) -> dict[str, object]:
    found = {}
    for menu_action in window.menuBar().actions():
        for action in menu_action.menu().actions():
            if action.text():
                found[action.text().replace("&", "")] = action
    return found


def test_the_menus_open_the_folders_quit_and_tell_about(qtbot, make_window, monkeypatch):
    window = make_window()
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Help"]
    found = actions(window)
    assert set(found) == {
        "Publish an app…",
        "Open data folder",
        "Open log folder",
        "Quit DeskGrid",
        "About DeskGrid",
    }

    opened: list[Path] = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", lambda url: opened.append(Path(url.toLocalFile())) or True
    )
    found["Open data folder"].trigger()
    found["Open log folder"].trigger()
    assert opened == [paths.data_dir(), paths.data_dir() / "logs"]
    assert (paths.data_dir() / "logs").is_dir()

    quits = []
    window.quit_app = lambda: quits.append(True)
    found["Quit DeskGrid"].trigger()
    assert quits == [True]

    found["About DeskGrid"].trigger()
    assert window.about_box.isVisible() and "DeskGrid" in window.about_box.text()
    window.about_box.close()


def test_a_folder_that_cannot_be_opened_is_said_with_its_path(qtbot, make_window, monkeypatch):
    window = make_window()
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)  # no file manager
    actions(window)["Open log folder"].trigger()
    message = window.statusBar().currentMessage()
    assert "Could not open the log folder (no file manager answered)" in message
    assert str(paths.data_dir() / "logs") in message

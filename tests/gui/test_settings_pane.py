"""The settings pane: data folder, confirmations saved, network choice validated."""

from __future__ import annotations

import pytest

from deskgrid import paths
from deskgrid.desktop.settings import SettingsStore

pytestmark = pytest.mark.gui


def test_settings_pane_saves_and_validates(qtbot, booted):
    pane = booted.panes["settings"]
    booted.show_pane("settings")
    assert booted.stack.currentWidget() is pane
    assert pane.data_folder.text() == str(paths.data_dir()) and pane.data_folder.isReadOnly()
    assert pane.network.demo.isChecked()
    pane.confirmations.setValue(3)
    assert SettingsStore().settings.confirmations == 3
    pane.network.network.setChecked(True)
    pane.network.rpc_url.setText("http://127.0.0.1:8545")
    pane.network.hub_address.setText("not an address")
    pane.apply_network()
    assert "is not an Ethereum hub contract address" in pane.status.text()
    assert SettingsStore().settings.network_mode == "demo"


def test_open_log_folder_opens_the_logs_of_the_data_folder(qtbot, booted, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QDesktopServices

    pane = booted.panes["settings"]
    booted.show_pane("settings")
    opened: list[str] = []
    answer = [True]

    def open_url(url) -> bool:
        opened.append(url.toLocalFile())
        return answer[0]

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(open_url))
    button = pane.open_logs_button
    assert button.text() == "Open log folder" and button.isVisible()
    folder = paths.data_dir() / "logs"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert opened == [str(folder)] and folder.is_dir()
    assert not pane.status.text()

    answer[0] = False  # no file manager: the pane says so, with the folder
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert pane.status.kind == "error"
    assert "Could not open the log folder" in pane.status.text()
    assert str(folder) in pane.status.text()


def test_no_display_is_a_sentence(monkeypatch, capsys):
    from deskgrid.cli import main

    monkeypatch.setattr("sys.platform", "linux")
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert main([]) == 2
    assert "No graphical display is available" in capsys.readouterr().err


def test_help_still_lists_the_subcommands(capsys):
    from deskgrid.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "--tray" in out and "chain" in out

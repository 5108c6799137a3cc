"""Autostart: the XDG entry installed and removed, the LaunchAgent text."""

from __future__ import annotations

import plistlib
from pathlib import Path

from deskgrid import autostart


def test_xdg_entry_honours_xdg_config_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert not autostart.installed("linux")
    autostart.install("linux")
    path = tmp_path / "cfg" / "autostart" / "deskgrid.desktop"
    assert autostart.installed("linux") and path.exists()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\n") and "Type=Application" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert exec_line.endswith(" --tray")
    autostart.remove("linux")
    assert not path.exists() and not autostart.installed("linux")
    autostart.remove("linux")  # removing twice is fine


def test_xdg_default_is_dot_config(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert autostart.xdg_entry_path() == tmp_path / ".config" / "autostart" / "deskgrid.desktop"


def test_desktop_entry_quotes_paths_with_spaces() -> None:
    text = autostart.desktop_entry(["/opt/my apps/deskgrid", "--tray"])
    assert "Exec='/opt/my apps/deskgrid' --tray" in text


def test_launch_agent_plist_is_valid_and_runs_at_load() -> None:
    text = autostart.launch_agent_plist(["/Applications/DeskGrid & co/deskgrid", "--tray"])
    data = plistlib.loads(text.encode())
    assert data["Label"] == "org.deskgrid.tray"
    assert data["ProgramArguments"] == ["/Applications/DeskGrid & co/deskgrid", "--tray"]
    assert data["RunAtLoad"] is True


def test_run_key_value_quotes_spaces() -> None:
    value = autostart.run_key_value([r"C:\Program Files\DeskGrid\deskgrid.exe", "--tray"])
    assert value == r'"C:\Program Files\DeskGrid\deskgrid.exe" --tray'


def test_command_ends_with_tray() -> None:
    assert autostart.command()[-1] == "--tray"

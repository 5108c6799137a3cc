"""Autostart: the XDG entry installed and removed, the LaunchAgent text."""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

import deskgrid
from deskgrid.desktop import autostart


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


def exec_argv(entry: str) -> list[str]:
    """The argv of an entry's Exec key, read as the XDG Desktop Entry spec says: the string
    escapes first (a doubled backslash is one), then arguments split on spaces, double quotes
    group, and inside them a backslash takes the next character literally; `%%` is a `%`."""
    value = next(line for line in entry.splitlines() if line.startswith("Exec="))[5:]
    value = value.replace("\\\\", "\\")
    argv: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    for char in value:
        if escaped:
            current.append(char)  # type: ignore[union-attr]
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
            current = current if current is not None else []
        elif char == " " and not quoted:
            if current is not None:
                argv.append("".join(current))
            current = None
        else:
            current = (current or []) + [char] if current is None else current + [char]
    if current is not None:
        argv.append("".join(current))
    return [part.replace("%%", "%") for part in argv]


@pytest.mark.parametrize(
    "path",
    ["/opt/deskgrid/DeskGrid", "/opt/my apps/deskgrid", '/o"dd/$HOME/`x`/back\\slash/100%'],
)
def test_desktop_entry_exec_reads_back_as_the_same_argv(path: str) -> None:
    text = autostart.desktop_entry([path, "--tray"])
    assert exec_argv(text) == [path, "--tray"]


def test_desktop_entry_quotes_paths_with_spaces_in_double_quotes() -> None:
    text = autostart.desktop_entry(["/opt/my apps/deskgrid", "--tray"])
    assert 'Exec="/opt/my apps/deskgrid" --tray' in text


def test_the_written_command_runs_this_deskgrid(tmp_path: Path, monkeypatch) -> None:
    """The entry autostart writes starts this very installation: run its command with
    `--version` instead of `--tray`."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    autostart.install("linux")
    argv = exec_argv(autostart.xdg_entry_path().read_text(encoding="utf-8"))
    assert argv[-1] == "--tray"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # as a login session
    done = subprocess.run(
        [*argv[:-1], "--version"], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"deskgrid {deskgrid.__version__}"


def test_a_frozen_build_starts_itself(monkeypatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/deskgrid/DeskGrid")
    assert autostart.command() == ["/opt/deskgrid/DeskGrid", "--tray"]


def test_python_m_deskgrid_prints_the_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "deskgrid", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"deskgrid {deskgrid.__version__}"


def test_launch_agent_plist_is_valid_and_runs_at_load() -> None:
    text = autostart.launch_agent_plist(["/Applications/DeskGrid & co/deskgrid", "--tray"])
    data = plistlib.loads(text.encode())
    assert data["Label"] == "org.deskgrid.tray"
    assert data["ProgramArguments"] == ["/Applications/DeskGrid & co/deskgrid", "--tray"]
    assert data["RunAtLoad"] is True


def test_run_key_value_quotes_spaces() -> None:
    value = autostart.run_key_value([r"C:\Program Files\DeskGrid\deskgrid.exe", "--tray"])
    assert value == r'"C:\Program Files\DeskGrid\deskgrid.exe" --tray'


def test_command_is_this_interpreter_never_another_deskgrid_on_path(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    argv = autostart.command()
    assert argv[-4:] == [sys.executable, "-m", "deskgrid", "--tray"]

"""Start DeskGrid at login, in the tray (`deskgrid --tray`).

Linux: an XDG autostart entry, `$XDG_CONFIG_HOME/autostart/deskgrid.desktop` (default
`~/.config`). Windows: the `DeskGrid` value of the current user's Run key. macOS: a
LaunchAgent, `~/Library/LaunchAgents/org.deskgrid.tray.plist`. `install()`, `remove()` and
`installed()` pick the one for this system.

The command names this very installation, never whatever `deskgrid` is first on PATH: the
frozen program itself, else this interpreter with `-m deskgrid` (a virtualenv's interpreter
finds its packages without being activated), with PYTHONPATH kept when the package was found
through it (a run from a source folder).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

APP_NAME = "DeskGrid"
DESKTOP_FILE = "deskgrid.desktop"
LAUNCH_AGENT_LABEL = "org.deskgrid.tray"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


def command(*args: str) -> list[str]:
    """The command that starts this DeskGrid with `args` (default: in the tray)."""
    args = args or ("--tray",)
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    python = Path(sys.executable)
    windowless = python.with_name("pythonw.exe")
    if sys.platform == "win32" and windowless.exists():
        python = windowless  # no console window at login
    argv = [str(python), "-m", "deskgrid", *args]
    source_root = Path(__file__).resolve().parents[2]  # the folder that holds `deskgrid/`
    path_entries = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    from_source = any(Path(p).resolve() == source_root for p in path_entries)
    if from_source and sys.platform != "win32":
        argv = ["env", f"PYTHONPATH={os.pathsep.join(path_entries)}", *argv]
    return argv


# -- Linux: XDG autostart -----------------------------------------------------------------


def xdg_entry_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / DESKTOP_FILE


# Characters that make an argument of an Exec key need double quotes (XDG Desktop Entry spec).
_XDG_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def xdg_exec_argument(part: str) -> str:
    """One argument of an Exec key: double-quoted when needed (inside, `"`, `` ` ``, `$` and
    `\\` take a backslash), `%` doubled, and every backslash doubled again because the key's
    value is itself an escaped string."""
    part = part.replace("%", "%%")
    if part and not (_XDG_RESERVED & set(part)):
        return part
    quoted = "".join("\\" + c if c in '"`$\\' else c for c in part)
    return '"' + quoted.replace("\\", "\\\\") + '"'


def desktop_entry(argv: Sequence[str]) -> str:
    exec_line = " ".join(xdg_exec_argument(part) for part in argv)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={APP_NAME}\n"
        "Comment=Donate CPU to the DeskGrid desktop grid from the tray\n"
        f"Exec={exec_line}\n"
        "Icon=deskgrid\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def install_xdg(argv: Sequence[str] | None = None) -> Path:
    path = xdg_entry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(desktop_entry(argv or command()), encoding="utf-8")
    return path


def remove_xdg() -> None:
    xdg_entry_path().unlink(missing_ok=True)


def installed_xdg() -> bool:
    return xdg_entry_path().exists()


# -- macOS: a LaunchAgent -----------------------------------------------------------------


def launch_agent_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"


def launch_agent_plist(argv: Sequence[str]) -> str:
    """The LaunchAgent's text (pure)."""
    args = "\n".join(f"        <string>{escape(part)}</string>" for part in argv)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
        '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
        '<plist version="1.0">\n'
        "<dict>\n"
        "    <key>Label</key>\n"
        f"    <string>{LAUNCH_AGENT_LABEL}</string>\n"
        "    <key>ProgramArguments</key>\n"
        "    <array>\n"
        f"{args}\n"
        "    </array>\n"
        "    <key>RunAtLoad</key>\n"
        "    <true/>\n"
        "</dict>\n"
        "</plist>\n"
    )


def install_launch_agent(argv: Sequence[str] | None = None) -> Path:
    path = launch_agent_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(launch_agent_plist(argv or command()), encoding="utf-8")
    return path


def remove_launch_agent() -> None:
    launch_agent_path().unlink(missing_ok=True)


def installed_launch_agent() -> bool:
    return launch_agent_path().exists()


# -- Windows: the Run key -----------------------------------------------------------------


def run_key_value(argv: Sequence[str]) -> str:
    return " ".join(f'"{part}"' if " " in part else part for part in argv)


def install_run_key(argv: Sequence[str] | None = None) -> None:
    import winreg  # type: ignore[import-not-found]

    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
        winreg.SetValueEx(key, APP_NAME, 0, winreg.REG_SZ, run_key_value(argv or command()))


def remove_run_key() -> None:
    import winreg  # type: ignore[import-not-found]

    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
        try:
            winreg.DeleteValue(key, APP_NAME)
        except FileNotFoundError:
            pass


def installed_run_key() -> bool:
    import winreg  # type: ignore[import-not-found]

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            winreg.QueryValueEx(key, APP_NAME)
    except FileNotFoundError:
        return False
    return True


# -- this system --------------------------------------------------------------------------


def install(platform: str | None = None) -> None:
    """Start DeskGrid in the tray at login."""
    platform = platform or sys.platform
    if platform == "win32":
        install_run_key()
    elif platform == "darwin":
        install_launch_agent()
    else:
        install_xdg()


def remove(platform: str | None = None) -> None:
    platform = platform or sys.platform
    if platform == "win32":
        remove_run_key()
    elif platform == "darwin":
        remove_launch_agent()
    else:
        remove_xdg()


def installed(platform: str | None = None) -> bool:
    platform = platform or sys.platform
    if platform == "win32":
        return installed_run_key()
    if platform == "darwin":
        return installed_launch_agent()
    return installed_xdg()

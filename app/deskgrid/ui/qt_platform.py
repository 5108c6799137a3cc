"""Before Qt opens a window on X11: the system libraries its xcb platform plugin loads.

Without one of them Qt aborts the process with a message that names only the first missing
library; DeskGrid says instead, in one sentence, every Debian/Ubuntu package to install."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

from deskgrid.errors import DeskGridError

# The libraries Qt 6's xcb plugin (and the widgets on it) load, and the packages that ship them.
XCB_LIBRARIES: Mapping[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def uses_xcb(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt will open its windows through X11 (xcb) here."""
    env = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith("linux"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0].split(";")[0] == "xcb"
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def _loadable(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def missing_packages(
    libraries: Mapping[str, str] = XCB_LIBRARIES, loadable: Callable[[str], bool] = _loadable
) -> list[str]:
    """The packages of the libraries that cannot be loaded, in a stable order."""
    return sorted({package for name, package in libraries.items() if not loadable(name)})


def check_qt_platform(libraries: Mapping[str, str] = XCB_LIBRARIES) -> None:
    """A DeskGridError naming the packages to install when Qt's X11 plugin could not load."""
    if not uses_xcb():
        return
    missing = missing_packages(libraries)
    if missing:
        raise DeskGridError(
            "DeskGrid cannot open its window: Qt's X11 support needs system libraries that are "
            f"missing. Install them (Debian/Ubuntu: sudo apt install {' '.join(missing)}), "
            "then start DeskGrid again."
        )

"""How long the volunteer has left keyboard and mouse alone, per platform.

`idle_seconds()` returns None when it cannot tell (no display, no supported API); the policy
then does not suspend for user activity (see docs/volunteer.md). Sources, tried in order:
X11's screensaver extension (libXss), systemd-logind's IdleSinceHint (Wayland desktops that
set it), Windows' GetLastInputInfo, macOS's HIDIdleTime.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import subprocess
import sys
import time
from typing import Protocol


class ActivitySource(Protocol):
    def idle_seconds(self) -> float | None: ...


class NoActivitySource:
    """Cannot tell (headless machines): always None."""

    def idle_seconds(self) -> float | None:
        return None


class FixedIdle:
    """A source for tests and demos."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds

    def idle_seconds(self) -> float | None:
        return self.seconds


class _XScreenSaverInfo(ctypes.Structure):
    _fields_ = [
        ("window", ctypes.c_ulong),
        ("state", ctypes.c_int),
        ("kind", ctypes.c_int),
        ("til_or_since", ctypes.c_ulong),
        ("idle", ctypes.c_ulong),
        ("eventMask", ctypes.c_ulong),
    ]


class X11Idle:
    """XScreenSaverQueryInfo on $DISPLAY (needs libX11 and libXss)."""

    def __init__(self) -> None:
        x11_name, xss_name = ctypes.util.find_library("X11"), ctypes.util.find_library("Xss")
        if not os.environ.get("DISPLAY") or not x11_name or not xss_name:
            raise OSError("no X11 display or libXss")
        self._x11 = ctypes.cdll.LoadLibrary(x11_name)
        self._xss = ctypes.cdll.LoadLibrary(xss_name)
        self._x11.XOpenDisplay.restype = ctypes.c_void_p
        self._x11.XDefaultRootWindow.restype = ctypes.c_ulong
        self._x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self._xss.XScreenSaverAllocInfo.restype = ctypes.POINTER(_XScreenSaverInfo)
        self._xss.XScreenSaverQueryInfo.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulong,
            ctypes.POINTER(_XScreenSaverInfo),
        ]
        self._display = self._x11.XOpenDisplay(None)
        if not self._display:
            raise OSError("cannot open the X11 display")
        self._info = self._xss.XScreenSaverAllocInfo()

    def idle_seconds(self) -> float | None:
        root = self._x11.XDefaultRootWindow(self._display)
        if not self._xss.XScreenSaverQueryInfo(self._display, root, self._info):
            return None
        return self._info.contents.idle / 1000.0


class LogindIdle:
    """systemd-logind's IdleHint/IdleSinceHint of this session (set by most Wayland desktops)."""

    def idle_seconds(self) -> float | None:
        session = os.environ.get("XDG_SESSION_ID")
        if not session:
            return None
        try:
            out = subprocess.run(
                ["loginctl", "show-session", session, "-p", "IdleHint", "-p", "IdleSinceHint"],
                capture_output=True,
                text=True,
                timeout=2,
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return None
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        if values.get("IdleHint") != "yes":
            return 0.0 if values.get("IdleHint") == "no" else None
        since_us = int(values.get("IdleSinceHint", "0") or 0)
        return max(0.0, time.time() - since_us / 1e6) if since_us else None


class WindowsIdle:  # pragma: no cover - Windows only
    def idle_seconds(self) -> float | None:
        class LastInputInfo(ctypes.Structure):
            _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]

        info = LastInputInfo()
        info.cbSize = ctypes.sizeof(info)
        if not ctypes.windll.user32.GetLastInputInfo(ctypes.byref(info)):  # type: ignore[attr-defined]
            return None
        ticks = ctypes.windll.kernel32.GetTickCount()  # type: ignore[attr-defined]
        return ((ticks - info.dwTime) & 0xFFFFFFFF) / 1000.0


class MacIdle:  # pragma: no cover - macOS only
    def idle_seconds(self) -> float | None:
        try:
            out = subprocess.run(
                ["ioreg", "-c", "IOHIDSystem", "-d", "4"],
                capture_output=True,
                text=True,
                timeout=2,
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return None
        match = re.search(r'"HIDIdleTime" = (\d+)', out)
        return int(match.group(1)) / 1e9 if match else None


def default_activity_source() -> ActivitySource:
    """The best source this platform offers, or NoActivitySource."""
    if sys.platform == "win32":  # pragma: no cover
        return WindowsIdle()
    if sys.platform == "darwin":  # pragma: no cover
        return MacIdle()
    try:
        return X11Idle()
    except OSError:
        pass
    if os.environ.get("XDG_SESSION_ID") and LogindIdle().idle_seconds() is not None:
        return LogindIdle()
    return NoActivitySource()

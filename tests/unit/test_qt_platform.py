"""The check before Qt opens a window on X11: a missing system library is a sentence naming
the package to install, not Qt's abort."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from deskgrid.errors import DeskGridError
from deskgrid.ui import qt_platform
from tests.conftest import require


def test_every_library_qt_needs_loads_here() -> None:
    """CI installs the packages README names; on such a machine nothing is missing (the
    libraries really load: the check is not vacuous)."""
    missing = qt_platform.missing_packages()
    require(not missing, f"Qt's X11 libraries: apt install {' '.join(missing)}")
    assert qt_platform.missing_packages(loadable=lambda name: False) == sorted(
        set(qt_platform.XCB_LIBRARIES.values())
    )


def test_a_missing_library_names_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    libraries = {
        **qt_platform.XCB_LIBRARIES,
        "libdeskgrid-absent-a.so.9": "libdeskgrid-absent-a9",
        "libdeskgrid-absent-b.so.9": "libdeskgrid-absent-b9",
    }
    with pytest.raises(DeskGridError) as err:
        qt_platform.check_qt_platform(libraries)
    assert "sudo apt install libdeskgrid-absent-a9 libdeskgrid-absent-b9)" in str(err.value)


@pytest.mark.parametrize(
    ("env", "platform", "xcb"),
    [
        ({"DISPLAY": ":0"}, "linux", True),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({"DISPLAY": ":0"}, "darwin", False),
        ({}, "linux", False),
    ],
)
def test_when_qt_uses_x11(env: dict[str, str], platform: str, xcb: bool) -> None:
    assert qt_platform.uses_xcb(env, platform) is xcb


def test_the_app_says_it_instead_of_aborting(tmp_path) -> None:
    """A real start of the app with a library made unloadable: one sentence, exit 2."""
    code = (
        "import sys; from deskgrid.ui import qt_platform; "
        "qt_platform.XCB_LIBRARIES = {**qt_platform.XCB_LIBRARIES, "
        "'libdeskgrid-absent.so.9': 'libdeskgrid-absent9'}; "
        "qt_platform.check_qt_platform.__defaults__ = (qt_platform.XCB_LIBRARIES,); "
        "from deskgrid.cli import main; sys.exit(main([]))"
    )
    env = {
        **os.environ,
        "DISPLAY": ":12345",
        "DESKGRID_HOME": str(tmp_path),
        "QT_QPA_PLATFORM": "",
    }
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 2, done.stderr
    assert "sudo apt install libdeskgrid-absent9)" in done.stderr
    assert "Traceback" not in done.stderr

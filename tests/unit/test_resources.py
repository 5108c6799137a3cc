"""The resource files (top-level resources/, installed as `deskgrid.resources`): the package
finds them, every tray state has its icon, the XML files are well-formed, and the wheel's
package data takes every one of them."""

from __future__ import annotations

import configparser
import fnmatch
import tomllib
import typing
import xml.etree.ElementTree as ET
from importlib.resources import files
from pathlib import Path

import pytest

from deskgrid import resources
from tests.conftest import REPO_ROOT

SOURCE = REPO_ROOT / "resources"
SVG = "{http://www.w3.org/2000/svg}svg"
METAINFO = "linux/org.deskgrid.DeskGrid.metainfo.xml"
PANE_ICONS = ("deskgrid", "wallet", "jobs", "volunteer", "settings")


def test_the_installed_package_resolves_to_a_folder_with_the_files():
    root = files("deskgrid.resources")
    assert isinstance(root, Path) and root.is_dir()
    assert resources.path("icons/deskgrid.svg") == root / "icons" / "deskgrid.svg"
    for name in (
        *(f"icons/{icon}.svg" for icon in PANE_ICONS),
        "linux/deskgrid.desktop",
        METAINFO,
    ):
        assert resources.path(name).is_file(), name


def test_every_tray_state_has_an_icon_file():
    from deskgrid.ui.tray import TRAY_STATES, icon_state
    from deskgrid.worker.status import WorkerState, WorkerStatus

    for state in TRAY_STATES:
        assert resources.path(f"tray/{state}.svg").is_file(), state
    # and the tray shows no other state
    for state in typing.get_args(WorkerState):
        for paused in (False, True):
            assert icon_state(WorkerStatus(state=state), paused) in TRAY_STATES


@pytest.mark.parametrize(
    "svg", sorted(SOURCE.rglob("*.svg")), ids=lambda p: str(p.relative_to(SOURCE))
)
def test_every_svg_is_well_formed(svg: Path):
    root = ET.parse(svg).getroot()
    assert root.tag == SVG
    assert root.get("viewBox"), "a viewBox, so that it scales"


def test_the_metainfo_names_the_desktop_entry():
    root = ET.parse(resources.path(METAINFO)).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == Path(METAINFO).name.removesuffix(".metainfo.xml")
    for tag in ("name", "summary", "metadata_license", "project_license"):
        assert (root.findtext(tag) or "").strip(), tag
    assert root.find("description/p") is not None
    assert root.find("content_rating") is not None
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert resources.path(f"linux/{launchable.text}").is_file()


def test_the_desktop_entry_uses_the_app_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(resources.path("linux/deskgrid.desktop"))
    assert resources.path(f"icons/{entry['Desktop Entry']['Icon']}.svg").is_file()


def test_the_package_data_takes_every_resource_file():
    """An editable install reads the folder itself; a wheel only what package-data names."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"]["deskgrid.resources"] == "resources"
    patterns = config["package-data"]["deskgrid.resources"]
    for path in SOURCE.rglob("*"):
        name = path.relative_to(SOURCE).as_posix()
        if path.is_dir() or "__pycache__" in name or name in ("__init__.py", "README.md"):
            continue
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name

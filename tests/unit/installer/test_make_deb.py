"""The .deb layout (installer/make_deb.py) from a stand-in bundle."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, require

sys.path.insert(0, str(REPO_ROOT / "installer"))
make_deb = pytest.importorskip("make_deb")


def fake_bundle(tmp_path: Path) -> tuple[Path, Path]:
    bundle = tmp_path / "dist" / "deskgrid"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "DeskGrid").write_text('#!/bin/sh\necho DeskGrid "$@"\n')
    (bundle / "DeskGrid").chmod(0o755)
    (bundle / "deskgrid-cli").symlink_to("DeskGrid")
    icons = tmp_path / "icons"
    for size in (16, 256):
        (icons / f"{size}x{size}").mkdir(parents=True)
        (icons / f"{size}x{size}" / "deskgrid.png").write_bytes(b"png")
    return bundle, icons


def test_layout(tmp_path: Path):
    bundle, icons = fake_bundle(tmp_path)
    root = tmp_path / "root"
    make_deb.stage(bundle, icons, root)
    assert os.readlink(root / "usr/bin/deskgrid") == "/opt/deskgrid/deskgrid-cli"
    assert os.readlink(root / "opt/deskgrid/deskgrid-cli") == "DeskGrid"
    assert (root / "usr/share/icons/hicolor/256x256/apps/deskgrid.png").exists()
    assert (root / "usr/share/icons/hicolor/scalable/apps/deskgrid.svg").exists()
    assert (root / "usr/share/metainfo/org.deskgrid.DeskGrid.metainfo.xml").exists()
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(root / "usr/share/applications/deskgrid.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == "/opt/deskgrid/DeskGrid"
    assert desktop["Icon"] == "deskgrid"
    assert entry["Desktop Action tray"]["Exec"].endswith("--tray")


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli (appstream)")
def test_appstream_accepts_the_metainfo_and_its_desktop_entry(tmp_path: Path):
    bundle, icons = fake_bundle(tmp_path)
    root = tmp_path / "root"
    make_deb.stage(bundle, icons, root)
    done = subprocess.run(
        ["appstreamcli", "validate-tree", "--no-net", str(root)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_control_lists_the_system_libraries():
    text = make_deb.control("1.2.3", "amd64", 1000)
    assert "Version: 1.2.3\n" in text and "Architecture: amd64\n" in text
    depends = next(line for line in text.splitlines() if line.startswith("Depends: "))
    for package in ("libstdc++6", "libgl1", "libx11-6", "libssl3 | libssl3t64"):
        assert package in depends


def test_dpkg_deb_builds_an_installable_package(tmp_path: Path):
    require(shutil.which("dpkg-deb") is not None, "dpkg-deb (Debian's dpkg)")
    bundle, icons = fake_bundle(tmp_path)
    deb = make_deb.build(bundle, icons, "0.0.1", tmp_path)
    listing = subprocess.run(
        ["dpkg-deb", "--contents", str(deb)], check=True, capture_output=True, text=True
    ).stdout
    assert "./usr/bin/deskgrid -> /opt/deskgrid/deskgrid-cli" in listing
    assert "./opt/deskgrid/DeskGrid" in listing
    info = subprocess.run(
        ["dpkg-deb", "--field", str(deb), "Package"], check=True, capture_output=True, text=True
    ).stdout
    assert info.strip() == "deskgrid"

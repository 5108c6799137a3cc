"""Package the Linux bundle as a .deb with dpkg-deb (standard library only).

    python installer/make_deb.py --bundle DIST/deskgrid --icons ICONS --version 0.1.0 --out DIR

Layout: the bundle in /opt/deskgrid, `deskgrid` on PATH (/usr/bin/deskgrid, a link to the
console executable), a menu entry (/usr/share/applications/deskgrid.desktop), the AppStream
metainfo (/usr/share/metainfo/org.deskgrid.DeskGrid.metainfo.xml) and the app icon in the
hicolor theme (PNG sizes and the SVG in scalable/apps). The entry, the metainfo and the SVG come
from the repository's resources/ folder (the files the app ships as deskgrid.resources), the
PNGs from render_icons.py. Depends lists the system libraries the bundle leaves out
(bundle_filter.LINUX_SYSTEM_LIBRARIES) and those PyInstaller never bundles (GL, EGL, xcb,
Wayland client).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bundle_filter import debian_depends  # noqa: E402

ROOT = HERE.parent
RESOURCES = ROOT / "resources"
SVG = RESOURCES / "icons" / "deskgrid.svg"
DESKTOP_ENTRY = RESOURCES / "linux" / "deskgrid.desktop"
METAINFO = RESOURCES / "linux" / "org.deskgrid.DeskGrid.metainfo.xml"
INSTALL_DIR = "opt/deskgrid"
ALWAYS_FROM_SYSTEM = ("libc6", "libgl1", "libegl1", "libxcb1", "libwayland-client0")
# Renamed in the 64-bit time_t transition (Ubuntu 24.04, Debian 13): either name will do.
T64 = ("libssl3", "libglib2.0-0", "libpng16-16")
SUGGESTS = ("libpq5", "docker.io")

POSTINST = """#!/bin/sh
set -e
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q /usr/share/applications || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
fi
"""


def depends() -> str:
    names = sorted(set(debian_depends()) | set(ALWAYS_FROM_SYSTEM))
    return ", ".join(f"{n} | {n}t64" if n in T64 else n for n in names)


def control(version: str, arch: str, installed_kb: int) -> str:
    return (
        f"Package: deskgrid\nVersion: {version}\nArchitecture: {arch}\n"
        "Maintainer: DeskGrid developers <deskgrid@users.noreply.github.com>\n"
        f"Installed-Size: {installed_kb}\nSection: net\nPriority: optional\n"
        "Homepage: https://github.com/deskgrid/deskgrid\n"
        f"Depends: {depends()}\nSuggests: {', '.join(SUGGESTS)}\n"
        "Description: desktop client for a decentralized cloud\n"
        " Pay in RLC tokens on an Ethereum chain for computing done on a volunteer\n"
        " desktop grid, or donate idle CPU. Includes an offline demo: an embedded\n"
        " chain, a grid server, an oracle and a local worker.\n"
    )


def stage(bundle: Path, icons: Path, root: Path) -> None:
    """Lay out the package's files under `root`."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(bundle, root / INSTALL_DIR, symlinks=True)
    usr_bin = root / "usr" / "bin"
    usr_bin.mkdir(parents=True)
    (usr_bin / "deskgrid").symlink_to(f"/{INSTALL_DIR}/deskgrid-cli")
    apps = root / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy2(DESKTOP_ENTRY, apps / DESKTOP_ENTRY.name)
    metainfo = root / "usr" / "share" / "metainfo"
    metainfo.mkdir(parents=True)
    shutil.copy2(METAINFO, metainfo / METAINFO.name)
    hicolor = root / "usr" / "share" / "icons" / "hicolor"
    for png in sorted(icons.glob("*/deskgrid.png")):
        target = hicolor / png.parent.name / "apps" / "deskgrid.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, target)
    scalable = hicolor / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy2(SVG, scalable / "deskgrid.svg")


def size_kb(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir()) // 1024 + 1


def build(bundle: Path, icons: Path, version: str, out: Path) -> Path:
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], check=True, capture_output=True, text=True
    ).stdout.strip()
    root = out / "deb-root"
    stage(bundle, icons, root)
    debian = root / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text(control(version, arch, size_kb(root)))
    (debian / "postinst").write_text(POSTINST)
    (debian / "postinst").chmod(0o755)
    (debian / "postrm").write_text(POSTINST)  # refresh the caches after removal too
    (debian / "postrm").chmod(0o755)
    deb = out / f"deskgrid_{version}_{arch}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "-z6", "--build", str(root), str(deb)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    shutil.rmtree(root)
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, required=True, help="the PyInstaller folder")
    parser.add_argument("--icons", type=Path, required=True, help="render_icons.py output")
    parser.add_argument("--version", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    print(build(args.bundle, args.icons, args.version, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

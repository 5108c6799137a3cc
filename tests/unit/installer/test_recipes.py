"""The installer recipes parse, and the icons render (Qt offscreen)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

INSTALLER = REPO_ROOT / "installer"


def test_the_spec_is_valid_python():
    source = (INSTALLER / "deskgrid.spec").read_text()
    compile(source, "deskgrid.spec", "exec")
    assert "EXE(" in source and "COLLECT(" in source and "BUNDLE(" in source


def test_shell_scripts_parse():
    for script in ("build.sh", "macos/make_dmg.sh"):
        subprocess.run(["bash", "-n", str(INSTALLER / script)], check=True)
    subprocess.run(["bash", "-n", str(REPO_ROOT / ".ci" / "installer")], check=True)


def test_icons_render_at_every_size(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, str(INSTALLER / "render_icons.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for size in (16, 48, 256, 512):
        png = tmp_path / f"{size}x{size}" / "deskgrid.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "deskgrid.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"

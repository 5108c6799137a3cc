"""Render the app icon (resources/icons/deskgrid.svg) to PNGs for the hicolor theme and the
Windows / macOS executables, with Qt offscreen (no display needed). The SVG is the only
source: no PNG, .ico or .icns is kept in the repository.

    python installer/render_icons.py OUT_DIR

writes OUT_DIR/<n>x<n>/deskgrid.png for each size, and OUT_DIR/deskgrid.ico (256 px) for the
Windows executables and installer. (On macOS PyInstaller turns the 512 px PNG into .icns.)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
SOURCE = Path(__file__).resolve().parent.parent / "resources" / "icons" / "deskgrid.svg"


def render(out_dir: Path, sizes: tuple[int, ...] = SIZES, source: Path = SOURCE) -> list[Path]:
    """One PNG per size; returns their paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {source} is not a valid SVG")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = out_dir / f"{size}x{size}" / "deskgrid.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path)):
            raise SystemExit(f"render_icons: could not write {path}")
        written.append(path)
        if size == 256:
            ico = out_dir / "deskgrid.ico"
            if not image.save(str(ico), "ICO"):
                raise SystemExit(f"render_icons: could not write {ico}")
            written.append(ico)
    return written


if __name__ == "__main__":
    for written in render(Path(sys.argv[1])):
        print(written)

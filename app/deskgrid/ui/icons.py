"""The app's SVG icons (resources/icons, shipped as deskgrid.resources)."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from deskgrid import resources


def icon(name: str) -> QIcon:
    """`icon("wallet")`; an empty icon when the file is missing."""
    path = resources.path(f"icons/{name}.svg")
    return QIcon(str(path)) if path.exists() else QIcon()

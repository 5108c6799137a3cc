"""Opening one of DeskGrid's folders in the desktop's file manager."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices


def open_folder(folder: Path, what: str) -> str | None:
    """Open `folder`; None when a file manager took it, else the sentence to show, which says
    where the folder is (so a person without a file manager can still find it)."""
    folder.mkdir(parents=True, exist_ok=True)
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        return None
    return f"Could not open {what} (no file manager answered); it is {folder}."

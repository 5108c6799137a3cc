"""DeskGrid's resource files: icons, the tray icon set, the Linux desktop entry and AppStream
metainfo (see README.md here). In the repository this is the top-level `resources/` folder; the
package maps it to `deskgrid.resources` (pyproject.toml), so an editable install, a wheel and
the frozen bundle all find the files here. Standard library only: no Qt.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(name: str) -> Path:
    """The file system path of a resource, named relative to this folder with forward slashes:
    `path("icons/wallet.svg")`, `path("tray/idle.svg")`. The path may not exist: callers
    check (an icon that is missing gives an empty or fallback icon, not an error)."""
    root = files(__name__)
    # Installed as plain files (editable, wheel) or collected next to the frozen executable:
    # a real directory in every case, which Qt needs (it opens icons by file name).
    if not isinstance(root, Path):
        raise RuntimeError(f"deskgrid.resources is not a folder on disk: {root!r}")
    return root.joinpath(*name.split("/"))

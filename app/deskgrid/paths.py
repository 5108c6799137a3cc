"""Where DeskGrid keeps its files: one data folder from platformdirs, overridable.

`DESKGRID_HOME` moves everything (tests and portable installs use it); nothing is ever
written next to the code.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "DeskGrid"


def data_dir() -> Path:
    """The user data folder, created on first use."""
    override = os.environ.get("DESKGRID_HOME")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def sub_dir(name: str) -> Path:
    """A named folder inside the data folder (e.g. `deployments`, `grid`, `worker`)."""
    path = data_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_file() -> Path:
    """The one settings file."""
    return data_dir() / "settings.json"

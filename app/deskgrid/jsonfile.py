"""JSON files written atomically (temp file + rename), so a crash never leaves half a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deskgrid.atomicfile import write_atomic


def write_json_atomic(path: Path, data: Any, *, mode: int = 0o600) -> Path:
    """Write `data` as JSON to `path`, replacing the old file in one step."""
    return write_atomic(path, json.dumps(data, indent=2), mode=mode)


def read_json(path: Path) -> Any | None:
    """The decoded file, or None when it does not exist."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None

"""Submitter tokens: given on the command line, or kept in a file in the grid's data folder
(created with a fresh random token on first start, readable by its owner only)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from deskgrid import logs
from deskgrid.errors import DeskGridError
from deskgrid.grid.config import GridConfig


def token_file_path(config: GridConfig) -> Path:
    return config.token_file or config.resolved_data_dir() / "submitter.token"


def read_token_file(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DeskGridError(f"Cannot read the submitter token file {path}: {exc}.") from exc
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def load_submitter_tokens(config: GridConfig) -> tuple[list[str], Path | None]:
    """The submitter tokens in force and the file they came from (None: from the config).
    Every one is registered with `deskgrid.logs.redact`."""
    if config.submitter_tokens:
        for given in config.submitter_tokens:
            logs.redact(given)
        return list(config.submitter_tokens), None
    path = token_file_path(config)
    if path.exists():
        tokens = read_token_file(path)
        for known in tokens:
            logs.redact(known)
        if tokens:
            return tokens, path
    token = secrets.token_urlsafe(32)
    logs.redact(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return [token], path

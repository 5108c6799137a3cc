"""Submitter tokens: given on the command line, or kept in a file in the grid's data folder
(created with a fresh random `dgs_…` token on first start, readable by its owner only); and
reading the token a client command uses (`--grid-token`, `--grid-token-file`, or
$DESKGRID_GRID_TOKEN), so that it need not appear in the process list."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from deskgrid import logs
from deskgrid.errors import DeskGridError
from deskgrid.grid.auth import new_submitter_token
from deskgrid.grid.config import GridConfig

TOKEN_ENV = "DESKGRID_GRID_TOKEN"


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
    token = new_submitter_token()
    logs.redact(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return [token], path


def read_grid_token_file(path: Path) -> str:
    """The token in a token file (its first line that is not a comment); a sentence when the
    file is missing or empty, a warning on stderr when others may read it."""
    try:
        mode = path.stat().st_mode
        tokens = read_token_file(path)
    except (OSError, DeskGridError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise DeskGridError(
            f"Cannot read the grid token file {path} ({reason}); give the file the grid server "
            "wrote (submitter.token in its data folder) or a file with the token on one line."
        ) from None
    if not tokens:
        raise DeskGridError(f"The grid token file {path} holds no token; put the token in it.")
    if os.name == "posix" and mode & (stat.S_IRGRP | stat.S_IROTH):
        print(
            f"warning: the grid token file {path} is readable by other users; "
            f"make it private: chmod 600 {path}",
            file=sys.stderr,
        )
    return tokens[0]


def grid_token(
    token: str | None, token_file: Path | None, env: dict[str, str] | None = None
) -> str | None:
    """The grid token a command uses: `--grid-token`, else `--grid-token-file`, else
    $DESKGRID_GRID_TOKEN (None: no token)."""
    if token and token_file:
        raise DeskGridError("Give either --grid-token or --grid-token-file, not both.")
    if token:
        return token.strip()
    if token_file is not None:
        return read_grid_token_file(token_file)
    found = (os.environ if env is None else env).get(TOKEN_ENV, "").strip()
    return found or None

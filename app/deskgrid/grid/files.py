"""The grid's files are its owner's only: folders 0700, files 0600 (the database, its WAL and
shared-memory files, the stored blobs). Modes are set when a file or folder is made, and
tightened at start on those an older grid made, whatever the process's umask."""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` as a folder only its owner may enter (made with its parents if absent)."""
    if not path.is_dir():
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path` as a file only its owner may read (made empty if absent, as SQLite would)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    _tighten(path, FILE_MODE)
    return path


def tighten_sqlite(database: Path) -> None:
    """The SQLite file and its WAL and shared-memory files, owner-only. SQLite gives the
    -wal and -shm files the mode of the database file, so making that one 0600 first
    covers the others; files an older grid left are tightened too."""
    private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = database.with_name(database.name + suffix)
        if companion.exists():
            _tighten(companion, FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError:  # not ours (a shared folder given by the operator): leave it
        pass

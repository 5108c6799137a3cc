"""Checking an image archive before `docker load`: a published app's archive comes from a
stranger, and `docker load` decompresses what it is given (a gzip, xz, bzip2 or zstd archive,
or such a layer inside it), so a small download could become a disk-filling image. An archive
is loaded only when it is a plain tar whose members are stored as they are, so the image it
loads takes about the archive's size: the size the worker's cache already caps.

    check_image_archive(path)      # ArchiveRefused with a sentence, or nothing
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from deskgrid.worker.runner import RunnerError

# The first bytes of the compressed formats `docker load` reads.
COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}
MAX_MEMBERS = 10_000  # an image's archive has a few files per layer


class ArchiveRefused(RunnerError):
    """An image archive the worker does not load; the message says why."""


def compression_of(head: bytes) -> str | None:
    """The compressed format whose magic `head` starts with (None: none of them)."""
    return next((name for magic, name in COMPRESSED.items() if head.startswith(magic)), None)


def check_image_archive(path: Path) -> None:
    """Refuse (ArchiveRefused) an archive that is not a plain tar, that has more than
    `MAX_MEMBERS` members, or that holds a compressed member (a layer `docker load` would
    expand)."""
    with path.open("rb") as handle:
        kind = compression_of(handle.read(8))
    if kind is not None:
        raise ArchiveRefused(
            f"The app's image archive is {kind}-compressed; a worker loads only the plain tar "
            "that `docker save` writes (its size is what the image takes here)."
        )
    try:
        with tarfile.open(path, mode="r:") as archive:
            for count, member in enumerate(archive, 1):
                if count > MAX_MEMBERS:
                    raise ArchiveRefused(
                        f"The app's image archive has more than {MAX_MEMBERS:,} files; it is "
                        "not an archive `docker save` writes."
                    )
                if not member.isfile() or member.size == 0:
                    continue
                extracted = archive.extractfile(member)
                head = extracted.read(8) if extracted is not None else b""
                kind = compression_of(head)
                if kind is not None:
                    raise ArchiveRefused(
                        f"The app's image archive holds a {kind}-compressed file "
                        f"({member.name[:80]}); a worker loads only uncompressed layers, so "
                        "that an image takes no more than its archive."
                    )
    except tarfile.TarError as exc:
        raise ArchiveRefused(f"The app's image archive is not a tar file ({exc}).") from None

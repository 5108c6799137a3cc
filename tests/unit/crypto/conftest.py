"""A recipient's key pair (deterministic, so Hypothesis examples replay) and helpers that cut an
encrypted blob into its header and chunk records."""

from __future__ import annotations

import hashlib

from deskgrid.crypto.ecies import HEADER, TAG_SIZE, public_key_of

PRIVATE_KEY = hashlib.sha256(b"recipient").digest()
PUBLIC_KEY = public_key_of(PRIVATE_KEY)
OTHER_PRIVATE_KEY = hashlib.sha256(b"someone else").digest()


def records(blob: bytes, chunk_size: int) -> tuple[bytes, list[bytes]]:
    """(header, [sealed chunk, ...]) of a blob written with `chunk_size`."""
    size = chunk_size + TAG_SIZE
    body = blob[HEADER.size :]
    return blob[: HEADER.size], [body[i : i + size] for i in range(0, len(body), size)]


def chunk_boundaries(blob: bytes, chunk_size: int) -> list[int]:
    """Every offset where a chunk begins (the end of the header and of each full record)."""
    return list(range(HEADER.size, len(blob), chunk_size + TAG_SIZE))

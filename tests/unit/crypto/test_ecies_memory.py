"""A 50 MB file is encrypted and decrypted one chunk at a time: the Python memory the stream
functions allocate at their peak (tracemalloc) stays a few chunks, not the file."""

from __future__ import annotations

import hashlib
import os
import tracemalloc

from deskgrid.crypto.ecies import DEFAULT_CHUNK_SIZE, decrypt_file, encrypt_file
from tests.unit.crypto.conftest import PRIVATE_KEY, PUBLIC_KEY

FILE_SIZE = 50 * 1024 * 1024
PEAK_LIMIT = 8 * DEFAULT_CHUNK_SIZE  # 2 MiB, against 50 MiB held whole


def peak_bytes_of(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def digest(path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def test_a_50_mb_file_is_streamed_in_bounded_memory(tmp_path):
    plain, sealed, opened = tmp_path / "plain", tmp_path / "sealed", tmp_path / "opened"
    with open(plain, "wb") as handle:
        for _ in range(FILE_SIZE // (1 << 20)):
            handle.write(os.urandom(1 << 20))

    encrypting = peak_bytes_of(lambda: encrypt_file(PUBLIC_KEY, plain, sealed))
    decrypting = peak_bytes_of(lambda: decrypt_file(PRIVATE_KEY, sealed, opened))

    assert sealed.stat().st_size > FILE_SIZE
    assert digest(opened) == digest(plain)
    assert encrypting < PEAK_LIMIT, encrypting
    assert decrypting < PEAK_LIMIT, decrypting

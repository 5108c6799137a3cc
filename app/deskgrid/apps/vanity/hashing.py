"""SHA-256 + RIPEMD-160 (hash160), with a fallback where OpenSSL 3 hides RIPEMD-160.

`ripemd160_base()` returns an empty hash object with `copy()`, `update()` and `digest()`; the
hot loop copies it rather than constructing a new object per key (measurably faster).
"""

from __future__ import annotations

import hashlib
from typing import Any


def _hashlib_ripemd160() -> Any | None:
    try:
        return hashlib.new("ripemd160")
    except ValueError:
        return None


def ripemd160_base() -> Any:
    """An empty RIPEMD-160 object: hashlib's when OpenSSL provides it, else pycryptodome's."""
    obj = _hashlib_ripemd160()
    if obj is not None:
        return obj
    from Crypto.Hash import RIPEMD160  # pycryptodome

    return RIPEMD160.new()


_RIPEMD = ripemd160_base()


def ripemd160(data: bytes) -> bytes:
    obj = _RIPEMD.copy()
    obj.update(data)
    return obj.digest()


def hash160(data: bytes) -> bytes:
    """RIPEMD-160 of SHA-256: the 20 bytes a P2PKH address encodes."""
    return ripemd160(hashlib.sha256(data).digest())

"""Base58 and Base58Check as Bitcoin uses them (alphabet without 0, O, I and l)."""

from __future__ import annotations

import hashlib

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
INDEX: dict[str, int] = {c: i for i, c in enumerate(ALPHABET)}


class Base58Error(ValueError):
    """A string that is not valid Base58 / Base58Check."""


def b58encode(data: bytes) -> str:
    """Encode bytes; each leading zero byte becomes a leading '1'."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    num = int.from_bytes(data, "big")
    out = []
    while num:
        num, rem = divmod(num, 58)
        out.append(ALPHABET[rem])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Decode a Base58 string; each leading '1' becomes a leading zero byte."""
    num = 0
    for char in text:
        try:
            num = num * 58 + INDEX[char]
        except KeyError:
            raise Base58Error(f"'{char}' is not a Base58 character") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\0" * zeros + body


def checksum(payload: bytes) -> bytes:
    """The first four bytes of the double SHA-256 of the payload."""
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def b58check_encode(payload: bytes) -> str:
    return b58encode(payload + checksum(payload))


def b58check_decode(text: str) -> bytes:
    """The payload of a Base58Check string; raises Base58Error on a bad checksum."""
    raw = b58decode(text)
    if len(raw) < 4:
        raise Base58Error("too short for Base58Check")
    payload, check = raw[:-4], raw[-4:]
    if checksum(payload) != check:
        raise Base58Error("bad checksum")
    return payload

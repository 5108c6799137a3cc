"""Keys and addresses: P2PKH addresses, WIF private keys, public key parsing."""

from __future__ import annotations

import coincurve

from deskgrid.apps.vanity.base58 import Base58Error, b58check_decode, b58check_encode
from deskgrid.apps.vanity.hashing import hash160
from deskgrid.apps.vanity.secp256k1 import N, Point

P2PKH_VERSION = 0x00
WIF_VERSION = 0x80


class InvalidKeyError(ValueError):
    """A key or address that cannot be parsed; the message says which and why."""


def public_key_bytes(point: Point, compressed: bool = True) -> bytes:
    x, y = point
    if compressed:
        return bytes([2 + (y & 1)]) + x.to_bytes(32, "big")
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


def address_from_hash160(h160: bytes) -> str:
    return b58check_encode(bytes([P2PKH_VERSION]) + h160)


def address_from_public_key(public_key: bytes) -> str:
    return address_from_hash160(hash160(public_key))


def public_point(private_key: int) -> Point:
    """private_key·G (via libsecp256k1)."""
    return coincurve.PrivateKey.from_int(private_key % N).public_key.point()


def address_from_private_key(private_key: int, compressed: bool = True) -> str:
    return address_from_public_key(public_key_bytes(public_point(private_key), compressed))


def wif_encode(private_key: int, compressed: bool = True) -> str:
    if not 0 < private_key < N:
        raise InvalidKeyError("a private key must be between 1 and the curve order minus 1")
    payload = bytes([WIF_VERSION]) + private_key.to_bytes(32, "big")
    return b58check_encode(payload + (b"\x01" if compressed else b""))


def wif_decode(wif: str) -> tuple[int, bool]:
    """(private key, compressed) from a WIF string."""
    try:
        payload = b58check_decode(wif.strip())
    except Base58Error as exc:
        raise InvalidKeyError(f"this is not a valid WIF private key ({exc})") from None
    if payload[:1] != bytes([WIF_VERSION]) or len(payload) not in (33, 34):
        raise InvalidKeyError("this is not a mainnet WIF private key")
    if len(payload) == 34 and payload[-1] != 1:
        raise InvalidKeyError("this WIF private key has an unknown compression flag")
    key = int.from_bytes(payload[1:33], "big")
    if not 0 < key < N:
        raise InvalidKeyError("this WIF private key is out of range")
    return key, len(payload) == 34


def parse_public_key(text: str) -> coincurve.PublicKey:
    """A public key from hex (33-byte compressed or 65-byte uncompressed)."""
    try:
        raw = bytes.fromhex(text.strip().removeprefix("0x"))
    except ValueError:
        raise InvalidKeyError("the public key must be hexadecimal") from None
    if len(raw) not in (33, 65):
        raise InvalidKeyError(
            "the public key must be 33 bytes (compressed, 66 hex digits) or 65 bytes "
            "(uncompressed, 130 hex digits)"
        )
    try:
        return coincurve.PublicKey(raw)
    except ValueError:
        raise InvalidKeyError("the public key is not a point on secp256k1") from None

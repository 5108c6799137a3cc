"""Base58, WIF and address vectors."""

from __future__ import annotations

import coincurve
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskgrid.apps.vanity.base58 import (
    Base58Error,
    b58check_decode,
    b58check_encode,
    b58decode,
    b58encode,
)
from deskgrid.apps.vanity.hashing import hash160, ripemd160
from deskgrid.apps.vanity.keys import (
    InvalidKeyError,
    address_from_private_key,
    parse_public_key,
    public_key_bytes,
    public_point,
    wif_decode,
    wif_encode,
)
from deskgrid.apps.vanity.secp256k1 import N


def test_private_key_one_addresses() -> None:
    assert address_from_private_key(1, compressed=True) == "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"
    assert address_from_private_key(1, compressed=False) == "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm"


def test_a_mistyped_address_fails_its_checksum() -> None:
    # a near miss of the uncompressed address above, as sometimes quoted: not an address at all
    with pytest.raises(Base58Error, match="checksum"):
        b58check_decode("1EHNa6Q4Jz2uvNExL497mE43ikXhwYMsBz")


def test_private_key_one_wif() -> None:
    assert wif_encode(1, compressed=False) == "5HpHagT65TZzG1PH3CSu63k8DbpvD8s5ip4nEB3kEsreAnchuDf"
    assert wif_decode("5HpHagT65TZzG1PH3CSu63k8DbpvD8s5ip4nEB3kEsreAnchuDf") == (1, False)
    assert wif_decode(wif_encode(1)) == (1, True)


@given(st.integers(min_value=1, max_value=N - 1), st.booleans())
def test_wif_round_trip(key: int, compressed: bool) -> None:
    wif = wif_encode(key, compressed)
    assert wif[0] in ("K", "L") if compressed else wif[0] == "5"
    assert wif_decode(wif) == (key, compressed)


def test_wif_errors() -> None:
    with pytest.raises(InvalidKeyError, match="not a valid WIF"):
        wif_decode("5HpHagT65TZzG1PH3CSu63k8DbpvD8s5ip4nEB3kEsreAnchuDg")  # checksum
    with pytest.raises(InvalidKeyError, match="mainnet WIF"):
        wif_decode(b58check_encode(b"\x81" + b"\1" * 32))
    with pytest.raises(InvalidKeyError):
        wif_encode(0)
    with pytest.raises(InvalidKeyError):
        wif_encode(N)


def test_ripemd160_vector() -> None:
    assert ripemd160(b"abc").hex() == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"


def test_hash160_of_generator() -> None:
    assert hash160(public_key_bytes(public_point(1))).hex() == (
        "751e76e8199196d454941c45d1b3a323f1433bd6"
    )


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"", ""),
        (b"\0", "1"),
        (b"\0\0\1", "112"),
        (b"\x39", "z"),
        (b"\x3a", "21"),
        (b"hello world", "StV1DL6CwTryKyV"),
    ],
)
def test_base58_edge_cases(raw: bytes, text: str) -> None:
    assert b58encode(raw) == text
    assert b58decode(text) == raw


@given(st.binary(max_size=40))
def test_base58_round_trip(raw: bytes) -> None:
    assert b58decode(b58encode(raw)) == raw
    assert b58check_decode(b58check_encode(raw)) == raw


def test_base58_errors() -> None:
    with pytest.raises(Base58Error, match="'0'"):
        b58decode("10")
    with pytest.raises(Base58Error, match="checksum"):
        b58check_decode("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMJ")
    with pytest.raises(Base58Error, match="too short"):
        b58check_decode("11")


def test_parse_public_key() -> None:
    pub = coincurve.PrivateKey.from_int(5).public_key
    assert parse_public_key(pub.format().hex()).format() == pub.format()
    assert parse_public_key(pub.format(compressed=False).hex()).format() == pub.format()
    with pytest.raises(InvalidKeyError, match="hexadecimal"):
        parse_public_key("zz")
    with pytest.raises(InvalidKeyError, match="33 bytes"):
        parse_public_key("02" * 10)
    with pytest.raises(InvalidKeyError, match="not a point"):
        parse_public_key("02" + "ff" * 32)


def test_ripemd160_fallback_when_openssl_hides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from deskgrid.apps.vanity import hashing

    real_new = hashlib.new

    def no_ripemd(name: str, *args, **kwargs):
        if name.lower() == "ripemd160":
            raise ValueError("unsupported hash type")
        return real_new(name, *args, **kwargs)

    monkeypatch.setattr(hashlib, "new", no_ripemd)
    base = hashing.ripemd160_base()
    obj = base.copy()
    obj.update(b"abc")
    assert obj.digest().hex() == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"

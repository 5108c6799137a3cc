"""ECIES on secp256k1: round trips, keys in every accepted form, and every way a blob can be
wrong (another wallet's key, a changed byte, a cut, reordered chunks, another version) refused
with its own sentence."""

from __future__ import annotations

import io
import os

import coincurve
import pytest
from eth_account import Account

from deskgrid.crypto import ecies
from deskgrid.crypto.ecies import (
    DEFAULT_CHUNK_SIZE,
    HEADER,
    MAX_CHUNK_SIZE,
    TAG_SIZE,
    DamagedDataError,
    EncryptedDataError,
    InvalidKeyError,
    TruncatedDataError,
    UnknownFormatError,
    WrongKeyError,
    address_of,
    decrypt,
    decrypt_file,
    decrypt_stream,
    encrypt,
    encrypt_file,
    encrypt_stream,
    public_key_of,
)
from deskgrid.errors import DeskGridError
from tests.unit.crypto.conftest import (
    OTHER_PRIVATE_KEY,
    PRIVATE_KEY,
    PUBLIC_KEY,
    chunk_boundaries,
    records,
)

SMALL = 16  # chunk size of the blobs that are cut up byte by byte


def expected_size(plaintext_size: int, chunk_size: int) -> int:
    """Header, one record per full chunk, and the last (possibly empty) chunk."""
    return HEADER.size + plaintext_size + (plaintext_size // chunk_size + 1) * TAG_SIZE


@pytest.mark.parametrize(
    ("size", "chunk_size"),
    [
        (0, DEFAULT_CHUNK_SIZE),
        (1, DEFAULT_CHUNK_SIZE),
        (DEFAULT_CHUNK_SIZE - 1, DEFAULT_CHUNK_SIZE),
        (DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE),
        (DEFAULT_CHUNK_SIZE + 1, DEFAULT_CHUNK_SIZE),
        (5 * DEFAULT_CHUNK_SIZE + 7, DEFAULT_CHUNK_SIZE),
        (0, 1),
        (1, 1),
        (100, 1),
        (SMALL * 10, SMALL),
        (SMALL * 10 + 3, SMALL),
    ],
)
def test_round_trip(size, chunk_size):
    plaintext = os.urandom(size)
    blob = encrypt(PUBLIC_KEY, plaintext, chunk_size=chunk_size)
    assert len(blob) == expected_size(size, chunk_size)
    assert decrypt(PRIVATE_KEY, blob) == plaintext


def test_each_encryption_is_fresh_and_hides_the_plaintext():
    plaintext = b"the vanity address 1LoVE... and its key " * 4
    first, second = encrypt(PUBLIC_KEY, plaintext), encrypt(PUBLIC_KEY, plaintext)
    assert first != second  # a new ephemeral key each time
    assert first[9:42] != second[9:42]
    for blob in (first, second):
        assert b"1LoVE" not in blob and blob.startswith(b"DGEC\x01")
        assert decrypt(PRIVATE_KEY, blob) == plaintext


def test_public_keys_in_every_form_and_their_address():
    private_key = os.urandom(32)
    point = coincurve.PrivateKey(private_key).public_key
    compressed, uncompressed = point.format(compressed=True), point.format(compressed=False)
    assert public_key_of(private_key) == compressed
    address = Account.from_key(private_key).address
    for form in (compressed, uncompressed, uncompressed[1:]):
        assert address_of(form) == address
        assert decrypt(private_key, encrypt(form, b"payload")) == b"payload"


@pytest.mark.parametrize(
    "public_key",
    [
        b"",
        b"\x02" + b"\x11" * 31,  # 32 bytes
        b"\x05" + PUBLIC_KEY[1:],  # no such prefix
        b"\x02" + (5).to_bytes(32, "big"),  # x = 5 is not on the curve
        coincurve.PrivateKey(PRIVATE_KEY).public_key.format(compressed=False)[:-1] + b"\x00",
        b"\x00" * 64,
    ],
)
def test_a_public_key_off_the_curve_is_refused(public_key):
    with pytest.raises(InvalidKeyError) as err:
        encrypt(public_key, b"x")
    assert "public key" in str(err.value) and str(err.value).endswith(".")
    with pytest.raises(InvalidKeyError):
        address_of(public_key)


@pytest.mark.parametrize(
    "private_key",
    [b"", b"\x01" * 31, b"\x01" * 33, b"\x00" * 32, ecies.SECP256K1_ORDER.to_bytes(32, "big")],
)
def test_a_private_key_that_is_not_one_is_refused(private_key):
    blob = encrypt(PUBLIC_KEY, b"x")
    with pytest.raises(InvalidKeyError, match="32 bytes"):
        decrypt(private_key, blob)
    with pytest.raises(InvalidKeyError):
        public_key_of(private_key)


def test_another_wallet_is_told_to_open_the_one_that_paid():
    with pytest.raises(WrongKeyError) as err:
        decrypt(OTHER_PRIVATE_KEY, encrypt(PUBLIC_KEY, b"secret result"))
    assert str(err.value) == (
        "This result was encrypted for another wallet: open the wallet that paid for the task."
    )
    assert isinstance(err.value, DeskGridError)


def small_blob() -> tuple[bytes, bytes]:
    plaintext = bytes(range(SMALL * 3 + 5))  # three full chunks and a short last one
    return plaintext, encrypt(PUBLIC_KEY, plaintext, chunk_size=SMALL)


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_every_changed_byte_is_refused(mask):
    _, blob = small_blob()
    for position in range(len(blob)):
        changed = bytearray(blob)
        changed[position] ^= mask
        with pytest.raises(EncryptedDataError) as err:
            decrypt(PRIVATE_KEY, bytes(changed))
        if position >= HEADER.size:  # in a chunk: the key is right, the data is not
            assert type(err.value) is DamagedDataError, position
        elif position < 5:  # magic or version
            assert isinstance(err.value, UnknownFormatError), position
        elif position >= 42:  # the key commitment
            assert isinstance(err.value, WrongKeyError), position


def test_every_cut_is_refused_and_cuts_at_chunk_boundaries_say_so():
    _, blob = small_blob()
    boundaries = chunk_boundaries(blob, SMALL)
    assert len(boundaries) == 4
    for length in range(len(blob)):
        with pytest.raises(EncryptedDataError) as err:
            decrypt(PRIVATE_KEY, blob[:length])
        if length in boundaries or length < HEADER.size:
            assert isinstance(err.value, TruncatedDataError), length
            assert "incomplete" in str(err.value)
        elif length > HEADER.size:
            assert isinstance(err.value, DamagedDataError), length


def test_an_exact_multiple_cut_after_its_last_full_chunk_is_refused():
    """A plaintext of exactly n chunks ends with an empty last chunk; without it, it is cut."""
    plaintext = os.urandom(SMALL * 4)
    blob = encrypt(PUBLIC_KEY, plaintext, chunk_size=SMALL)
    assert decrypt(PRIVATE_KEY, blob) == plaintext
    with pytest.raises(TruncatedDataError):
        decrypt(PRIVATE_KEY, blob[:-TAG_SIZE])


ARRANGEMENTS = {  # of the four chunks c0 c1 c2 c3 (c3 the short last one)
    "swapped": lambda c: [c[1], c[0], *c[2:]],
    "middle dropped": lambda c: [c[0], *c[2:]],
    "first dropped": lambda c: c[1:],
    "repeated": lambda c: [c[0], *c],
    "last moved forward": lambda c: [c[0], c[3]],
    "data after the end": lambda c: [*c, b"\x00"],
    "a chunk after the last": lambda c: [*c, c[0]],
}


@pytest.mark.parametrize("arrange", ARRANGEMENTS.values(), ids=ARRANGEMENTS.keys())
def test_reordered_dropped_repeated_or_added_chunks_are_refused(arrange):
    _, blob = small_blob()
    header, sealed = records(blob, SMALL)
    assert len(sealed) == 4
    with pytest.raises(DamagedDataError):
        decrypt(PRIVATE_KEY, header + b"".join(arrange(sealed)))


def test_chunks_of_another_blob_to_the_same_wallet_are_refused():
    plaintext, blob = small_blob()
    other = encrypt(PUBLIC_KEY, plaintext, chunk_size=SMALL)
    header, sealed = records(blob, SMALL)
    _, foreign = records(other, SMALL)
    with pytest.raises(DamagedDataError, match="chunk 1 "):
        decrypt(PRIVATE_KEY, header + sealed[0] + b"".join(foreign[1:]))


def test_another_version_asks_for_an_update_and_foreign_data_is_not_ours():
    _, blob = small_blob()
    with pytest.raises(UnknownFormatError, match=r"format version 2.*Update DeskGrid"):
        decrypt(PRIVATE_KEY, blob[:4] + b"\x02" + blob[5:])
    for foreign in (b"PK\x03\x04" + blob[4:], b"{}", b"X"):
        with pytest.raises(UnknownFormatError, match="not a DeskGrid encrypted result"):
            decrypt(PRIVATE_KEY, foreign)


@pytest.mark.parametrize("chunk_size", [0, MAX_CHUNK_SIZE + 1, 2**32 - 1])
def test_a_header_with_an_impossible_chunk_size_is_refused(chunk_size):
    _, blob = small_blob()
    changed = blob[:5] + chunk_size.to_bytes(4, "big") + blob[9:]
    with pytest.raises(DamagedDataError, match="chunks of"):
        decrypt(PRIVATE_KEY, changed)


def test_encrypting_with_an_impossible_chunk_size_is_a_programming_error():
    for chunk_size in (0, MAX_CHUNK_SIZE + 1):
        with pytest.raises(ValueError, match="chunk_size"):
            encrypt(PUBLIC_KEY, b"x", chunk_size=chunk_size)


class Trickle(io.RawIOBase):
    """A stream that hands out at most `step` bytes per read, as a pipe or socket may."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.offset = data, step, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self.step if size < 0 else min(size, self.step)
        piece = self.data[self.offset : self.offset + size]
        self.offset += len(piece)
        return piece


def test_streams_that_return_short_reads():
    plaintext = os.urandom(1000)
    sealed = io.BytesIO()
    encrypt_stream(PUBLIC_KEY, Trickle(plaintext, 7), sealed, chunk_size=64)
    assert len(sealed.getvalue()) == expected_size(1000, 64)
    opened = io.BytesIO()
    decrypt_stream(PRIVATE_KEY, Trickle(sealed.getvalue(), 5), opened)
    assert opened.getvalue() == plaintext


def test_only_authenticated_chunks_are_written():
    plaintext, blob = small_blob()
    changed = bytearray(blob)
    changed[HEADER.size + 2 * (SMALL + TAG_SIZE) + 3] ^= 1  # in the third chunk
    written = io.BytesIO()
    with pytest.raises(DamagedDataError, match="chunk 2 "):
        decrypt_stream(PRIVATE_KEY, io.BytesIO(bytes(changed)), written)
    assert written.getvalue() == plaintext[: 2 * SMALL]


def test_files_round_trip_and_a_damaged_file_leaves_no_plaintext(tmp_path):
    plaintext = os.urandom(3 * DEFAULT_CHUNK_SIZE + 11)
    (tmp_path / "result.bin").write_bytes(plaintext)
    encrypt_file(PUBLIC_KEY, tmp_path / "result.bin", tmp_path / "result.enc")
    assert (tmp_path / "result.enc").stat().st_mode & 0o777 == 0o600
    decrypt_file(PRIVATE_KEY, str(tmp_path / "result.enc"), str(tmp_path / "opened.bin"))
    assert (tmp_path / "opened.bin").read_bytes() == plaintext

    blob = (tmp_path / "result.enc").read_bytes()
    (tmp_path / "cut.enc").write_bytes(blob[: -DEFAULT_CHUNK_SIZE // 2])
    with pytest.raises(DamagedDataError):
        decrypt_file(PRIVATE_KEY, tmp_path / "cut.enc", tmp_path / "cut.bin")
    with pytest.raises(WrongKeyError):
        decrypt_file(OTHER_PRIVATE_KEY, tmp_path / "result.enc", tmp_path / "opened.bin")
    assert (tmp_path / "opened.bin").read_bytes() == plaintext  # left as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cut.enc",
        "opened.bin",
        "result.bin",
        "result.enc",
    ]  # no partial plaintext, no temporary file

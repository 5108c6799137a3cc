"""Properties of the format over generated plaintexts and chunk sizes: every blob opens to its
plaintext, and no single changed byte, cut or swap of two chunks opens at all."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskgrid.crypto.ecies import EncryptedDataError, decrypt, encrypt
from tests.unit.crypto.conftest import PRIVATE_KEY, PUBLIC_KEY, records

plaintexts = st.binary(max_size=2048)
chunk_sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=200, deadline=None)
@given(plaintext=plaintexts, chunk_size=chunk_sizes)
def test_every_blob_opens_to_its_plaintext(plaintext, chunk_size):
    assert decrypt(PRIVATE_KEY, encrypt(PUBLIC_KEY, plaintext, chunk_size=chunk_size)) == plaintext


@settings(max_examples=300, deadline=None)
@given(
    plaintext=plaintexts,
    chunk_size=chunk_sizes,
    where=st.floats(min_value=0, max_value=1, exclude_max=True),
    mask=st.integers(min_value=1, max_value=255),
)
def test_no_changed_byte_opens(plaintext, chunk_size, where, mask):
    blob = bytearray(encrypt(PUBLIC_KEY, plaintext, chunk_size=chunk_size))
    blob[int(where * len(blob))] ^= mask
    with pytest.raises(EncryptedDataError):
        decrypt(PRIVATE_KEY, bytes(blob))


@settings(max_examples=200, deadline=None)
@given(
    plaintext=plaintexts,
    chunk_size=chunk_sizes,
    where=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_no_cut_opens(plaintext, chunk_size, where):
    blob = encrypt(PUBLIC_KEY, plaintext, chunk_size=chunk_size)
    with pytest.raises(EncryptedDataError):
        decrypt(PRIVATE_KEY, blob[: int(where * len(blob))])


@settings(max_examples=200, deadline=None)
@given(plaintext=st.binary(min_size=2, max_size=2048), chunk_size=chunk_sizes, data=st.data())
def test_no_swap_of_two_chunks_opens(plaintext, chunk_size, data):
    blob = encrypt(PUBLIC_KEY, plaintext, chunk_size=chunk_size)
    header, sealed = records(blob, chunk_size)
    if len(sealed) < 2:
        chunk_size = 1  # make several chunks
        blob = encrypt(PUBLIC_KEY, plaintext, chunk_size=chunk_size)
        header, sealed = records(blob, chunk_size)
    first = data.draw(st.integers(0, len(sealed) - 2))
    second = data.draw(st.integers(first + 1, len(sealed) - 1))
    sealed[first], sealed[second] = sealed[second], sealed[first]
    with pytest.raises(EncryptedDataError):
        decrypt(PRIVATE_KEY, header + b"".join(sealed))

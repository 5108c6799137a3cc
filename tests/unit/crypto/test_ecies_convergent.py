"""Convergent ECIES: the same result, recipient and context always encrypt to the same bytes
(replicas of a job agree on a ciphertext), anything else differs, the ordinary decryption reads
it, and `check_convergent` tells it from a random, tampered or other-context encryption."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskgrid.crypto.ecies import (
    HEADER,
    InvalidKeyError,
    check_convergent,
    decrypt,
    decrypt_file,
    encrypt,
    encrypt_convergent,
    encrypt_convergent_file,
    encryption_context,
)
from tests.unit.crypto.conftest import OTHER_PRIVATE_KEY, PRIVATE_KEY, PUBLIC_KEY

TASK = encryption_context("0x" + "ab" * 32, "job-1")
RESULT = b"the,3\nquick,1\nfox,2\n" * 1000


def test_same_plaintext_key_and_context_give_the_same_bytes() -> None:
    first = encrypt_convergent(PUBLIC_KEY, RESULT, TASK)
    assert encrypt_convergent(PUBLIC_KEY, RESULT, TASK) == first
    assert decrypt(PRIVATE_KEY, first) == RESULT


@pytest.mark.parametrize(
    "change",
    [
        lambda: encrypt_convergent(PUBLIC_KEY, RESULT, encryption_context(None, "job-2")),
        lambda: encrypt_convergent(PUBLIC_KEY, RESULT + b"!", TASK),
        lambda: encrypt_convergent(PUBLIC_KEY, RESULT, TASK + b"x"),
    ],
    ids=["another context", "another plaintext", "a longer context"],
)
def test_anything_else_gives_other_bytes_and_another_ephemeral_key(change) -> None:
    first = encrypt_convergent(PUBLIC_KEY, RESULT, TASK)
    other = change()
    assert other != first
    assert other[: HEADER.size] != first[: HEADER.size]


def test_the_file_variant_gives_the_bytes_of_the_bytes_variant(tmp_path: Path) -> None:
    src, dst, back = tmp_path / "result", tmp_path / "result.enc", tmp_path / "back"
    src.write_bytes(RESULT)
    encrypt_convergent_file(PUBLIC_KEY, src, dst, TASK, chunk_size=1000)
    assert dst.read_bytes() == encrypt_convergent(PUBLIC_KEY, RESULT, TASK, chunk_size=1000)
    decrypt_file(PRIVATE_KEY, dst, back)
    assert back.read_bytes() == RESULT
    assert check_convergent(PRIVATE_KEY, dst, TASK)


def test_an_empty_result_encrypts_and_checks() -> None:
    blob = encrypt_convergent(PUBLIC_KEY, b"", TASK)
    assert decrypt(PRIVATE_KEY, blob) == b""
    assert check_convergent(PRIVATE_KEY, blob, TASK)


def test_check_convergent_accepts_only_a_convergent_encryption_of_its_context() -> None:
    blob = encrypt_convergent(PUBLIC_KEY, RESULT, TASK)
    assert check_convergent(PRIVATE_KEY, blob, TASK)
    assert not check_convergent(PRIVATE_KEY, blob, encryption_context(None, "job-1"))
    assert not check_convergent(PRIVATE_KEY, encrypt(PUBLIC_KEY, RESULT), TASK)  # random
    assert not check_convergent(OTHER_PRIVATE_KEY, blob, TASK)  # another wallet's


def test_check_convergent_refuses_a_tampered_blob(tmp_path: Path) -> None:
    blob = bytearray(encrypt_convergent(PUBLIC_KEY, RESULT, TASK))
    blob[HEADER.size + 5] ^= 1
    assert not check_convergent(PRIVATE_KEY, bytes(blob), TASK)
    cut = tmp_path / "cut"
    cut.write_bytes(bytes(blob[:-3]))
    assert not check_convergent(PRIVATE_KEY, cut, TASK)
    assert not check_convergent(PRIVATE_KEY, b"not encrypted at all", TASK)


def test_a_bad_recipient_key_is_a_sentence() -> None:
    with pytest.raises(InvalidKeyError, match="public key"):
        encrypt_convergent(b"\x02" + b"\x00" * 31, RESULT, TASK)

"""ECIES on secp256k1: data encrypted to a wallet's public key, opened with its private key.

A result (or an input) is encrypted to the requester's wallet key, so the grid, the oracle and
the chain hold only ciphertext; the app that holds the wallet decrypts it. The scheme is an
ephemeral secp256k1 key, ECDH, HKDF-SHA256 and AES-256-GCM over a stream of chunks, each sealed
with its index and a last-chunk flag, so chunks cannot be reordered, dropped, repeated or cut
off, and a file of any size is encrypted and decrypted one chunk at a time.

Format, version 1 (all integers big-endian)::

    header (74 bytes)
      0   4  magic  b"DGEC"
      4   1  version  1
      5   4  chunk size C: plaintext bytes in every chunk but the last, 1 <= C <= 16 MiB
      9  33  the ephemeral public key E, compressed SEC1
     42  32  key commitment K
    chunks, one after the other
      chunk i = AES-256-GCM(key, nonce_i, plaintext_i, aad = the 74 header bytes)
                (ciphertext, then the 16-byte tag)
      nonce_i = i as 11 bytes || 0x01 for the last chunk, 0x00 for the others
      every chunk but the last holds exactly C plaintext bytes; the last one holds 0 to C-1
      (so an empty plaintext is one empty last chunk, and a plaintext of exactly n*C bytes
      ends with an empty last chunk); nothing follows the last chunk

    shared    = x coordinate (32 bytes) of e*R = r*E  (e: ephemeral secret, R/r: recipient)
    key || K  = HKDF-SHA256(ikm = shared, salt = none, length = 64,
                            info = b"DeskGrid ECIES v1" || E || R), E and R compressed (33 bytes)

The key commitment K tells a wrong key (K differs: the data was encrypted for another wallet)
from damaged data (K matches but a chunk does not authenticate), and binds the ciphertext to one
key (AES-GCM alone does not). The header is the associated data of every chunk, so a changed
chunk size or version fails too. Decrypting writes a chunk only once it authenticated, and
`decrypt_file` writes to a temporary file renamed over the destination only when the whole
stream checked out, so a damaged or truncated download never leaves a partial plaintext.

Public keys are accepted compressed (33 bytes), uncompressed (65) or raw (64: x || y, as
Ethereum tools write them); private keys are 32 bytes.

Convergent mode (`encrypt_convergent`, `encrypt_convergent_file`): the ephemeral secret is not
random but derived from what is encrypted::

    e = HMAC-SHA256(key = b"DeskGrid ECIES convergent v1",
                    msg = sha256(plaintext) || R || len(context) as 4 bytes || context)
        reduced to 1 .. n-1 (n: the curve's order)

with R the recipient's compressed key and `context` what the job's result is encrypted under
(`encryption_context`: the task id, else the job id). The output has the same format, so
`decrypt`/`decrypt_file` read it unchanged. Its properties:

- equal plaintexts encrypted to one key in one context give equal ciphertexts: replicas of a
  job that computed the same result upload the same bytes, and the grid's vote (which compares
  digests) still works without ever seeing a result;
- the converse of that: whoever can guess a whole result (and knows the recipient key and the
  context) can encrypt the guess and compare, so a result that is one of a few guessable values
  is confirmed, not hidden; nothing about a result that cannot be guessed whole is revealed;
- `check_convergent` lets the recipient check that a ciphertext was made this way (after
  decrypting, it derives the ephemeral key again and compares it with the header's), so a
  replica that encrypted at random, or for another context, is told apart.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import struct
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import coincurve
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_keys import keys as eth_keys

from deskgrid.atomicfile import open_atomic
from deskgrid.errors import DeskGridError

MAGIC = b"DGEC"
VERSION = 1
HEADER = struct.Struct(">4sBI33s32s")  # magic, version, chunk size, ephemeral key, commitment
TAG_SIZE = 16
DEFAULT_CHUNK_SIZE = 256 * 1024
MAX_CHUNK_SIZE = 16 * 1024 * 1024
KDF_INFO = b"DeskGrid ECIES v1"
CONVERGENT_KEY = b"DeskGrid ECIES convergent v1"
READ_BLOCK = 1024 * 1024
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class EncryptedDataError(DeskGridError):
    """Encrypted data that cannot be opened (or a key that cannot be used); the message says
    why and what to do."""


class InvalidKeyError(EncryptedDataError):
    """A public key that is not a point on secp256k1, or a private key that is not one."""


class WrongKeyError(EncryptedDataError):
    """The data was encrypted to another wallet's key."""


class DamagedDataError(EncryptedDataError):
    """The encrypted data was altered, reordered or cut short."""


class TruncatedDataError(DamagedDataError):
    """The encrypted data ends before its last chunk."""


class UnknownFormatError(EncryptedDataError):
    """Not encrypted data of ours, or a version of the format this program does not know."""


def public_key_of(private_key: bytes) -> bytes:
    """The compressed public key (33 bytes) of a 32-byte private key."""
    return _private_key(private_key).public_key.format(compressed=True)


def address_of(public_key: bytes) -> str:
    """The checksummed Ethereum address of a public key (33, 65 or 64 bytes)."""
    raw = _public_key(public_key).format(compressed=False)[1:]
    return eth_keys.PublicKey(raw).to_checksum_address()


def encryption_context(external_id: str | None, job_id: str) -> bytes:
    """What a job's result is encrypted under besides its recipient: the job's external id
    (an oracle's job: the task id `0x…`, which its requester knows) or else the grid's job id.
    Every replica of a job uses the same context, so their encryptions of one result agree."""
    return (external_id.lower() if external_id else job_id).encode("ascii")


def encrypt(public_key: bytes, plaintext: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> bytes:
    """`plaintext` encrypted to `public_key` (see the module's format)."""
    out = io.BytesIO()
    encrypt_stream(public_key, io.BytesIO(plaintext), out, chunk_size=chunk_size)
    return out.getvalue()


def encrypt_convergent(
    public_key: bytes, plaintext: bytes, context: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> bytes:
    """`plaintext` encrypted to `public_key` in convergent mode (see the module): the same
    plaintext, key and context always give the same bytes."""
    ephemeral = _convergent_secret(hashlib.sha256(plaintext).digest(), public_key, context)
    out = io.BytesIO()
    _encrypt(public_key, io.BytesIO(plaintext), out, chunk_size, ephemeral)
    return out.getvalue()


def encrypt_convergent_file(
    public_key: bytes,
    src: Path | str,
    dst: Path | str,
    context: bytes,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> None:
    """Encrypt the file `src` to `public_key` in convergent mode into `dst` (two passes over
    `src`: its digest, then the encryption; one chunk in memory at a time)."""
    digest = hashlib.sha256()
    with open(src, "rb") as reader:
        while block := reader.read(READ_BLOCK):
            digest.update(block)
    ephemeral = _convergent_secret(digest.digest(), public_key, context)
    with open(src, "rb") as reader, open_atomic(Path(dst)) as writer:
        _encrypt(public_key, reader, writer, chunk_size, ephemeral)


def check_convergent(private_key: bytes, blob_or_path: bytes | Path | str, context: bytes) -> bool:
    """True when `blob_or_path` (the encrypted bytes, or a file of them) opens with
    `private_key` and was encrypted in convergent mode under `context`; False when it does not
    open (another key, damaged) or its ephemeral key is not the one its plaintext derives (it
    was encrypted at random, or under another context). A file is read one chunk at a time."""
    secret = _private_key(private_key)
    digest = _HashingWriter()
    try:
        if isinstance(blob_or_path, bytes | bytearray):
            reader: BinaryIO = io.BytesIO(blob_or_path)
            header = bytes(blob_or_path[: HEADER.size])
            decrypt_stream(private_key, reader, digest)
        else:
            with open(blob_or_path, "rb") as reader:
                header = reader.read(HEADER.size)
                reader.seek(0)
                decrypt_stream(private_key, reader, digest)
    except EncryptedDataError:
        return False
    recipient = secret.public_key.format(compressed=True)
    expected = _convergent_secret(digest.hash.digest(), recipient, context)
    ephemeral_public = HEADER.unpack(header)[3]
    return hmac.compare_digest(expected.public_key.format(compressed=True), ephemeral_public)


def decrypt(private_key: bytes, blob: bytes) -> bytes:
    """The plaintext of `blob`; raises an `EncryptedDataError` with a sentence if it cannot."""
    out = io.BytesIO()
    decrypt_stream(private_key, io.BytesIO(blob), out)
    return out.getvalue()


def encrypt_file(
    public_key: bytes, src: Path | str, dst: Path | str, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> None:
    """Encrypt the file `src` to `public_key` into `dst`, one chunk in memory at a time."""
    with open(src, "rb") as reader, open_atomic(Path(dst)) as writer:
        encrypt_stream(public_key, reader, writer, chunk_size=chunk_size)


def decrypt_file(private_key: bytes, src: Path | str, dst: Path | str) -> None:
    """Decrypt the file `src` into `dst`, one chunk in memory at a time. `dst` appears only
    once all of `src` authenticated; on any error it is left as it was."""
    with open(src, "rb") as reader, open_atomic(Path(dst)) as writer:
        decrypt_stream(private_key, reader, writer)


def encrypt_stream(
    public_key: bytes,
    reader: BinaryIO,
    writer: BinaryIO,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> None:
    """Read `reader` to its end and write its encryption to `public_key` into `writer`."""
    _encrypt(public_key, reader, writer, chunk_size, coincurve.PrivateKey())


def _encrypt(
    public_key: bytes,
    reader: BinaryIO,
    writer: BinaryIO,
    chunk_size: int,
    ephemeral: coincurve.PrivateKey,
) -> None:
    """The encryption of `reader` to `public_key` with the ephemeral secret `ephemeral`."""
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be 1 to {MAX_CHUNK_SIZE} bytes, not {chunk_size}")
    recipient = _public_key(public_key)
    ephemeral_public = ephemeral.public_key.format(compressed=True)
    key, commitment = _derive_keys(
        _shared_x(recipient, ephemeral), ephemeral_public, recipient.format(compressed=True)
    )
    header = HEADER.pack(MAGIC, VERSION, chunk_size, ephemeral_public, commitment)
    writer.write(header)
    seal = AESGCM(key).encrypt
    index = 0
    while True:
        chunk = _read_up_to(reader, chunk_size)
        last = len(chunk) < chunk_size
        writer.write(seal(_nonce(index, last), chunk, header))
        if last:
            return
        index += 1


def decrypt_stream(private_key: bytes, reader: BinaryIO, writer: BinaryIO) -> None:
    """Read encrypted data from `reader` to its end and write the plaintext into `writer`,
    each chunk only once it authenticated."""
    secret = _private_key(private_key)
    header = _read_up_to(reader, HEADER.size)
    open_chunk, chunk_size = _open_header(secret, header)
    record = chunk_size + TAG_SIZE
    index = 0
    while True:
        sealed = _read_up_to(reader, record)
        last = len(sealed) < record
        if len(sealed) < TAG_SIZE:
            raise TruncatedDataError(
                f"This encrypted result is incomplete: it ends after {index} chunk(s), before "
                "its last one. Download it again."
            )
        try:
            writer.write(open_chunk(_nonce(index, last), sealed, header))
        except InvalidTag:
            raise DamagedDataError(
                f"This encrypted result is damaged: its chunk {index} does not authenticate "
                "(it was altered, reordered or cut short). Download it again."
            ) from None
        if last:
            break
        index += 1
    if reader.read(1):
        raise DamagedDataError(
            "This encrypted result is damaged: data follows its last chunk. Download it again."
        )


def _open_header(
    secret: coincurve.PrivateKey, header: bytes
) -> tuple[Callable[[bytes, bytes, bytes], bytes], int]:
    """The chunk opener and the chunk size the header names, once the key is known right."""
    if len(header) < len(MAGIC) + 1 or header[: len(MAGIC)] != MAGIC:
        if len(header) < len(MAGIC) + 1 and MAGIC.startswith(header[: len(MAGIC)]):
            raise TruncatedDataError(
                "This encrypted result is incomplete: it ends inside its header. Download it again."
            )
        raise UnknownFormatError(
            "This is not a DeskGrid encrypted result (its first bytes are not DeskGrid's). "
            "Check that you chose the right file."
        )
    version = header[len(MAGIC)]
    if version != VERSION:
        raise UnknownFormatError(
            f"This result is encrypted in format version {version}, which this DeskGrid "
            f"does not know (it reads version {VERSION}). Update DeskGrid to open it."
        )
    if len(header) < HEADER.size:
        raise TruncatedDataError(
            "This encrypted result is incomplete: it ends inside its header. Download it again."
        )
    _, _, chunk_size, ephemeral_public, commitment = HEADER.unpack(header)
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise DamagedDataError(
            f"This encrypted result is damaged: its header names chunks of {chunk_size} bytes "
            f"(at most {MAX_CHUNK_SIZE}). Download it again."
        )
    try:
        ephemeral = coincurve.PublicKey(ephemeral_public)
    except ValueError:
        raise DamagedDataError(
            "This encrypted result is damaged: its header's key is not a point on secp256k1. "
            "Download it again."
        ) from None
    key, expected = _derive_keys(
        _shared_x(ephemeral, secret), ephemeral_public, secret.public_key.format(compressed=True)
    )
    if not hmac.compare_digest(commitment, expected):
        raise WrongKeyError(
            "This result was encrypted for another wallet: open the wallet that paid for the task."
        )
    return AESGCM(key).decrypt, chunk_size


def _convergent_secret(
    plaintext_sha256: bytes, public_key: bytes, context: bytes
) -> coincurve.PrivateKey:
    """The ephemeral secret of a convergent encryption (see the module)."""
    recipient = _public_key(public_key).format(compressed=True)
    message = plaintext_sha256 + recipient + len(context).to_bytes(4, "big") + context
    derived = int.from_bytes(hmac.digest(CONVERGENT_KEY, message, "sha256"), "big")
    return coincurve.PrivateKey((derived % (SECP256K1_ORDER - 1) + 1).to_bytes(32, "big"))


class _HashingWriter:
    """A writer that keeps only the sha256 of what is written to it."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return len(data)


def _derive_keys(shared_x: bytes, ephemeral: bytes, recipient: bytes) -> tuple[bytes, bytes]:
    """(AES-256 key, key commitment) from the ECDH secret and both public keys (compressed)."""
    okm = HKDF(algorithm=SHA256(), length=64, salt=None, info=KDF_INFO + ephemeral + recipient)
    derived = okm.derive(shared_x)
    return derived[:32], derived[32:]


def _shared_x(point: coincurve.PublicKey, secret: coincurve.PrivateKey) -> bytes:
    """The x coordinate of secret * point (plain ECDH, not libsecp256k1's hashed variant)."""
    return point.multiply(secret.secret).format(compressed=True)[1:]


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _public_key(raw: bytes) -> coincurve.PublicKey:
    raw = bytes(raw)
    if len(raw) == 64:
        raw = b"\x04" + raw
    if len(raw) not in (33, 65):
        raise InvalidKeyError(
            f"A public key is 33 bytes (compressed), 65 (uncompressed) or 64 (raw x and y), "
            f"not {len(raw)}. Use the requester's wallet public key."
        )
    try:
        return coincurve.PublicKey(raw)
    except ValueError:
        raise InvalidKeyError(
            "This public key is not a point on secp256k1. Use the requester's wallet public key."
        ) from None


def _private_key(raw: bytes) -> coincurve.PrivateKey:
    raw = bytes(raw)
    if len(raw) != 32 or not 0 < int.from_bytes(raw, "big") < SECP256K1_ORDER:
        raise InvalidKeyError(
            "A wallet's private key is a number of 32 bytes between 1 and the curve's order. "
            "Unlock the wallet that paid for the task."
        )
    return coincurve.PrivateKey(raw)


def _read_up_to(reader: BinaryIO, size: int) -> bytes:
    """`size` bytes, or fewer only at the end of the stream (pipes may return less per read)."""
    data = reader.read(size)
    if len(data) == size or not data:
        return data
    parts, got = [data], len(data)
    while got < size:
        more = reader.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)

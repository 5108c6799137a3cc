"""Where private keys live, behind one interface: the OS keyring (service "DeskGrid"), or an
encrypted keystore file (v3, scrypt) with a password where no usable keyring exists.

Keys are only ever decrypted into memory; nothing here logs or returns them as text."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import keyring
import keyring.errors
from eth_account import Account
from eth_account.signers.local import LocalAccount

from deskgrid import logs, paths
from deskgrid.chain.keyfile import decrypt_keystore, encrypt_keystore
from deskgrid.errors import DeskGridError
from deskgrid.jsonfile import read_json, write_json_atomic
from deskgrid.wallet.entries import KeyStorage

SERVICE = "DeskGrid"
MIN_PASSWORD = 8


@runtime_checkable
class KeyStore(Protocol):
    kind: KeyStorage
    needs_password: bool

    def save(self, account: LocalAccount, password: str | None = None) -> None: ...

    def load(self, address: str, password: str | None = None) -> LocalAccount: ...

    def has(self, address: str) -> bool: ...

    def delete(self, address: str) -> None: ...


def keyring_usable() -> bool:
    """Whether the active keyring backend can actually store secrets."""
    from keyring.backends import chainer, fail, null

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return bool(backend.backends)
    return True


class KeyringStore:
    """Keys in the OS keyring: hex private key under service "DeskGrid", user = address."""

    kind: KeyStorage = "keyring"
    needs_password = False

    def save(self, account: LocalAccount, password: str | None = None) -> None:
        try:
            keyring.set_password(SERVICE, account.address, account.key.hex())
        except keyring.errors.KeyringError as exc:
            raise DeskGridError(
                f"The system keyring refused to store the key ({type(exc).__name__}); unlock "
                "your keyring (or log in to your desktop session) and try again."
            ) from None

    def load(self, address: str, password: str | None = None) -> LocalAccount:
        try:
            secret = keyring.get_password(SERVICE, address)
        except keyring.errors.KeyringError as exc:
            raise DeskGridError(
                f"The system keyring could not be read ({type(exc).__name__}); unlock it and "
                "try again."
            ) from None
        if not secret:
            raise DeskGridError(
                "This wallet's key is no longer in the system keyring; import the wallet again "
                "from its recovery phrase or key."
            )
        logs.redact(secret)
        account = Account.from_key(bytes.fromhex(secret.removeprefix("0x")))
        if account.address != address:
            raise DeskGridError(
                "The key stored in the keyring belongs to another address; import the wallet again."
            )
        return account

    def has(self, address: str) -> bool:
        try:
            return keyring.get_password(SERVICE, address) is not None
        except keyring.errors.KeyringError:
            return False

    def delete(self, address: str) -> None:
        try:
            keyring.delete_password(SERVICE, address)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise DeskGridError(
                f"The system keyring refused to delete the key ({type(exc).__name__})."
            ) from None


def check_new_password(password: str | None, repeat: str | None = None) -> str:
    if not password or len(password) < MIN_PASSWORD:
        raise DeskGridError(
            f"Choose a password of at least {MIN_PASSWORD} characters: it encrypts the key "
            "on this computer and cannot be recovered."
        )
    if repeat is not None and repeat != password:
        raise DeskGridError("The two passwords differ; type the same password twice.")
    return password


class FileKeyStore:
    """Keys in encrypted keystore files (v3, scrypt), one per address, in `<data>/keystores`."""

    kind: KeyStorage = "keystore"
    needs_password = True

    def __init__(self, folder: Path | None = None, *, scrypt_n: int | None = None) -> None:
        self.folder = folder or paths.sub_dir("keystores")
        self.scrypt_n = scrypt_n

    def _file(self, address: str) -> Path:
        return self.folder / f"{address}.json"

    def save(self, account: LocalAccount, password: str | None = None) -> None:
        password = check_new_password(password)
        keystore = encrypt_keystore(account, password, scrypt_n=self.scrypt_n)
        write_json_atomic(self._file(account.address), keystore)

    def load(self, address: str, password: str | None = None) -> LocalAccount:
        if not password:
            raise DeskGridError("Type this wallet's password to unlock it.")
        try:
            keystore = read_json(self._file(address))
        except (OSError, ValueError):
            keystore = "unreadable"
        if not isinstance(keystore, dict):
            raise DeskGridError(
                "This wallet's keystore file is missing or damaged; import the wallet again "
                "from its recovery phrase or key."
            )
        account = decrypt_keystore(keystore, password)
        if account.address != address:
            raise DeskGridError("This keystore file belongs to another address; import again.")
        return account

    def has(self, address: str) -> bool:
        return self._file(address).exists()

    def delete(self, address: str) -> None:
        self._file(address).unlink(missing_ok=True)

    def export(self, address: str) -> dict[str, object] | None:
        """The encrypted keystore JSON (safe to back up: it needs the password)."""
        data = read_json(self._file(address))
        return data if isinstance(data, dict) else None


def default_key_store(*, scrypt_n: int | None = None) -> KeyStore:
    """The keyring when one works, else encrypted files."""
    return KeyringStore() if keyring_usable() else FileKeyStore(scrypt_n=scrypt_n)

"""Load an account from an encrypted keystore file (Web3 Secret Storage, v3)."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from deskgrid import logs
from deskgrid.errors import DeskGridError

PASSWORD_ENV = "DESKGRID_KEY_PASSWORD"


def load_key_file(path: str | Path, password: str | None = None) -> LocalAccount:
    """Decrypt a keystore file. The password comes from the argument, from
    $DESKGRID_KEY_PASSWORD, or from a prompt on the terminal."""
    file = Path(path).expanduser()
    try:
        keystore = json.loads(file.read_text())
    except FileNotFoundError:
        raise DeskGridError(
            f"No key file at {file}; give the path of a keystore JSON file."
        ) from None
    except (OSError, ValueError):
        raise DeskGridError(
            f"{file} is not a keystore JSON file; export your key as an encrypted keystore (v3)."
        ) from None
    if password is None:
        password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = getpass.getpass(f"Password for {file.name}: ")
    logs.redact(password)
    try:
        key = Account.decrypt(keystore, password)
    except ValueError:
        raise DeskGridError(
            f"The password does not open {file.name}; type it again (or set {PASSWORD_ENV})."
        ) from None
    except (KeyError, TypeError):
        raise DeskGridError(f"{file} is not a valid keystore file (v3).") from None
    logs.redact(key)
    return Account.from_key(key)


def decrypt_keystore(keystore: dict[str, Any], password: str) -> LocalAccount:
    """Decrypt a keystore (v3) already read as JSON; the error messages are sentences."""
    logs.redact(password)
    try:
        key = Account.decrypt(keystore, password)
    except ValueError:
        raise DeskGridError("The password does not open this keystore; type it again.") from None
    except (KeyError, TypeError):
        raise DeskGridError(
            "This is not a valid keystore file (v3): choose the JSON file your wallet exported."
        ) from None
    logs.redact(key)
    return Account.from_key(key)


def encrypt_keystore(
    account: LocalAccount, password: str, *, scrypt_n: int | None = None
) -> dict[str, Any]:
    """The keystore (v3, scrypt) of an account's key; `scrypt_n` defaults to 2**18."""
    logs.redact(password)
    logs.redact(account.key)
    return dict(Account.encrypt(account.key, password, kdf="scrypt", iterations=scrypt_n))


def write_key_file(account: LocalAccount, path: str | Path, password: str) -> Path:
    """Encrypt an account's key (scrypt) into a keystore file readable only by its owner."""
    file = Path(path).expanduser()
    keystore = encrypt_keystore(account, password)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keystore, handle)
    return file

"""The worker's own Ethereum key, made once when no volunteer key is given.

It lives in the worker's state folder as `worker-key.json`, an encrypted keystore (v3, scrypt),
with its random password beside it in `worker-key.password`; both files are readable by the
owner only (0600). The password file protects the key no better than the folder's permissions
do: this key only identifies the worker to the grid (its results and reputation), it holds no
funds, and it signs nothing but DeskGrid sign-in messages. A volunteer is paid on the payout
address the worker names at sign-in (`deskgrid worker --payout`, or the desktop app's open
wallet), never by letting the worker sign with a key that holds funds.

Rewards earned without a payout address are credited to this key on the hub; `deskgrid worker
withdraw` sweeps them to a wallet (`worker.sweep`). The last payout address the worker signed
in with is kept beside the key (`payout.json`), as where that sweep sends by default.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from deskgrid import logs
from deskgrid.atomicfile import write_atomic
from deskgrid.chain.addresses import check_address
from deskgrid.chain.keyfile import decrypt_keystore, encrypt_keystore
from deskgrid.errors import DeskGridError
from deskgrid.jsonfile import read_json, write_json_atomic

KEY_FILE = "worker-key.json"
PASSWORD_FILE = "worker-key.password"
PAYOUT_FILE = "payout.json"
SCRYPT_N = 2**14  # the password is random and long: a cheap KDF loses nothing


def worker_account(state_dir: Path) -> LocalAccount:
    """The worker key kept in `state_dir`, created on first use."""
    state_dir.mkdir(parents=True, exist_ok=True)
    key_path, password_path = state_dir / KEY_FILE, state_dir / PASSWORD_FILE
    if key_path.exists() and password_path.exists():
        keystore = json.loads(key_path.read_text(encoding="utf-8"))
        return decrypt_keystore(keystore, password_path.read_text(encoding="utf-8").strip())
    account = Account.create()
    password = secrets.token_urlsafe(32)
    logs.redact(password)
    logs.redact(account.key)
    write_atomic(password_path, password + "\n")
    keystore = encrypt_keystore(account, password, scrypt_n=SCRYPT_N)
    write_atomic(key_path, json.dumps(keystore))
    return account


def has_worker_key(state_dir: Path) -> bool:
    """Whether `state_dir` holds a worker key (without making one)."""
    return (state_dir / KEY_FILE).exists() and (state_dir / PASSWORD_FILE).exists()


def remember_payout(state_dir: Path, payout: str | None) -> None:
    """Keep the payout address the worker signs in with (None: its own address)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(state_dir / PAYOUT_FILE, {"payout": payout})


def last_payout(state_dir: Path) -> str | None:
    """The payout address the worker last signed in with, if one was named."""
    try:
        data = read_json(state_dir / PAYOUT_FILE)
    except (OSError, ValueError):
        return None
    found = data.get("payout") if isinstance(data, dict) else None
    if not isinstance(found, str):
        return None
    try:
        return check_address(found)
    except DeskGridError:
        return None

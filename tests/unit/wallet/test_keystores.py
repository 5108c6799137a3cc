import keyring
import pytest
from eth_account import Account
from keyring.backends import chainer, fail

from deskgrid.errors import DeskGridError
from deskgrid.wallet.keystores import (
    SERVICE,
    FileKeyStore,
    KeyringStore,
    KeyStore,
    default_key_store,
    keyring_usable,
)
from tests.unit.wallet.conftest import FAST_SCRYPT_N


def test_keyring_store_round_trip(memory_keyring):
    account = Account.create()
    store = KeyringStore()
    assert isinstance(store, KeyStore) and not store.needs_password
    store.save(account)
    assert (SERVICE, account.address) in memory_keyring.secrets
    assert store.has(account.address)
    assert store.load(account.address).key == account.key
    store.delete(account.address)
    assert not store.has(account.address)
    with pytest.raises(DeskGridError, match="no longer in the system keyring"):
        store.load(account.address)


def test_file_store_encrypts_and_needs_the_password(tmp_path):
    account = Account.create()
    store = FileKeyStore(tmp_path, scrypt_n=FAST_SCRYPT_N)
    assert store.needs_password
    with pytest.raises(DeskGridError, match="at least 8"):
        store.save(account, "short")
    store.save(account, "long enough")
    text = (tmp_path / f"{account.address}.json").read_text()
    assert account.key.hex() not in text
    assert (tmp_path / f"{account.address}.json").stat().st_mode & 0o077 == 0
    assert store.load(account.address, "long enough").address == account.address
    with pytest.raises(DeskGridError, match="password does not open"):
        store.load(account.address, "not the one")
    with pytest.raises(DeskGridError, match="Type this wallet's password"):
        store.load(account.address)
    store.delete(account.address)
    with pytest.raises(DeskGridError, match="missing or damaged"):
        store.load(account.address, "long enough")


@pytest.mark.parametrize(
    "backend, usable",
    [(fail.Keyring, False), (lambda: chainer.ChainerBackend(), False)],
)
def test_no_usable_keyring_falls_back_to_files(backend, usable, monkeypatch):
    keyring.set_keyring(backend())
    if isinstance(keyring.get_keyring(), chainer.ChainerBackend):
        monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    assert keyring_usable() is usable
    assert isinstance(default_key_store(), FileKeyStore)


def test_usable_keyring_is_preferred():
    assert keyring_usable()
    assert isinstance(default_key_store(), KeyringStore)

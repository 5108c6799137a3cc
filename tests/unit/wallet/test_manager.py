import json

import keyring
import pytest
from eth_account import Account
from keyring.backends import fail

from deskgrid import paths
from deskgrid.desktop.settings import SettingsStore
from deskgrid.errors import DeskGridError
from deskgrid.wallet.keystores import FileKeyStore
from deskgrid.wallet.manager import WalletManager
from tests.unit.wallet.conftest import FAST_SCRYPT_N


def test_add_with_keyring_lock_unlock(memory_keyring):
    manager = WalletManager(SettingsStore())
    account = Account.create()
    entry = manager.add("Main", account)
    assert entry.storage == "keyring" and not manager.needs_password(account.address)
    assert manager.account(account.address) is account
    manager.lock(account.address)
    assert manager.account(account.address) is None
    assert manager.unlock(account.address).key == account.key
    settings_text = paths.settings_file().read_text()
    assert account.address in settings_text and account.key.hex() not in settings_text


def test_no_keyring_uses_password_protected_files():
    keyring.set_keyring(fail.Keyring())
    manager = WalletManager(SettingsStore(), new_store=None)
    assert isinstance(manager.new_store, FileKeyStore)
    manager.new_store.scrypt_n = FAST_SCRYPT_N
    assert manager.new_wallet_needs_password
    account = Account.create()
    with pytest.raises(DeskGridError, match="password"):
        manager.add("Cold", account)
    manager.add("Cold", account, "a good password")
    manager.lock()
    fresh = WalletManager(SettingsStore())  # as after a restart
    assert fresh.needs_password(account.address)
    with pytest.raises(DeskGridError, match="password does not open"):
        fresh.unlock(account.address, "wrong password")
    assert fresh.unlock(account.address, "a good password").address == account.address


def test_names_and_addresses_are_unique_and_several_wallets_listed():
    manager = WalletManager(SettingsStore())
    one, two = Account.create(), Account.create()
    manager.add("One", one)
    manager.add("Two", two)
    with pytest.raises(DeskGridError, match="already called"):
        manager.add("one", Account.create())
    with pytest.raises(DeskGridError, match="already here as 'One'"):
        manager.add("Three", one)
    with pytest.raises(DeskGridError, match="name"):
        manager.add("  ", Account.create())
    assert [(w.name, w.address) for w in manager.entries()] == [
        ("One", one.address),
        ("Two", two.address),
    ]
    stored = json.loads(paths.settings_file().read_text())
    assert stored["selected_wallet"] == two.address


def test_remove_deletes_the_key(memory_keyring):
    manager = WalletManager(SettingsStore())
    account = Account.create()
    manager.add("Gone", account)
    manager.remove(account.address)
    assert manager.entries() == [] and not memory_keyring.secrets
    with pytest.raises(DeskGridError, match="No wallet"):
        manager.unlock(account.address)

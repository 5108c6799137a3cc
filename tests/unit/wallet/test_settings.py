import json

import pytest

from deskgrid import paths
from deskgrid.errors import DeskGridError
from deskgrid.settings import SettingsStore, WalletEntry, check_network


def test_defaults_save_and_reload():
    store = SettingsStore()
    assert store.settings.network_mode == "demo" and not store.settings.first_run_done
    store.update(first_run_done=True, confirmations=3)
    again = SettingsStore()
    assert again.settings.first_run_done and again.settings.confirmations == 3
    assert again.settings.data_folder == paths.data_dir()
    assert paths.settings_file().stat().st_mode & 0o077 == 0


def test_wallets_hold_addresses_only():
    store = SettingsStore()
    entry = WalletEntry(name="Main", address="0x" + "1" * 40, storage="keyring")
    store.update(wallets=[entry])
    data = json.loads(paths.settings_file().read_text())
    assert data["wallets"] == [{"name": "Main", "address": "0x" + "1" * 40, "storage": "keyring"}]


def test_invalid_value_is_a_sentence():
    with pytest.raises(DeskGridError, match="confirmations"):
        SettingsStore().update(confirmations=-1)


def test_damaged_file_is_kept_aside():
    paths.settings_file().write_text('{"confirmations": "many"}')
    store = SettingsStore()
    assert store.settings.confirmations == 1
    assert paths.settings_file().with_suffix(".json.bad").exists()


def test_network_validation():
    hub = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert check_network("http://127.0.0.1:8545/", hub.lower(), "https://grid.example") == (
        "http://127.0.0.1:8545",
        hub,
        "https://grid.example",
    )
    with pytest.raises(DeskGridError, match="RPC URL"):
        check_network("ftp://x", hub, "http://g")
    with pytest.raises(DeskGridError, match="hub contract address"):
        check_network("http://x", "0x12", "http://g")
    with pytest.raises(DeskGridError, match="grid URL"):
        check_network("http://x", hub, "grid")

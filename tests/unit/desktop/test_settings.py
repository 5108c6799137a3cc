import json

import pytest

from deskgrid import paths
from deskgrid.desktop.settings import SettingsStore, WalletEntry, check_network
from deskgrid.errors import DeskGridError
from deskgrid.worker.policy import Preferences


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


# -- the volunteer's preferences live in the same file, with the same owner --------------------
def test_preferences_survive_saving_an_unrelated_setting_and_a_restart():
    store = SettingsStore()
    chosen = Preferences(max_ncpus_pct=75, cpu_usage_limit=60, start_hour=22, end_hour=7)
    store.save_preferences(chosen)
    store.update(confirmations=4)  # any other setting, saved by the same store
    SettingsStore().update(network_mode="network")  # or by another one (the tray, a pane)
    store.update(first_run_done=True)  # a store held since then writes back no stale copy
    again = SettingsStore()  # as after a restart
    assert again.preferences() == chosen
    assert again.settings.confirmations == 4
    assert again.settings.network_mode == "network" and again.settings.first_run_done


def test_a_wallet_saved_elsewhere_keeps_the_preferences():
    store = SettingsStore()
    store.save_preferences(Preferences(max_ncpus_pct=25))
    entry = WalletEntry(name="Main", address="0x" + "1" * 40, storage="keyring")
    SettingsStore().save_wallets([entry], entry.address)
    store.update(notify_job_ends=False)
    again = SettingsStore()
    assert again.preferences().max_ncpus_pct == 25
    assert again.wallet_entries() == [entry] and again.selected_wallet() == entry.address


def test_a_file_written_before_the_one_owner_is_read_as_it_is():
    """Older versions wrote the preferences under `volunteer` with sorted keys, beside the
    other settings: the file is read as it is, and the next save keeps everything."""
    paths.settings_file().write_text(
        json.dumps(
            {
                "confirmations": 2,
                "first_run_done": True,
                "network_mode": "demo",
                "volunteer": {"cpu_usage_limit": 60.0, "max_ncpus_pct": 10.0},
            },
            indent=2,
            sort_keys=True,
        )
    )
    store = SettingsStore()
    assert store.preferences().max_ncpus_pct == 10 and store.settings.confirmations == 2
    store.update(theme_follows_system=False)
    data = json.loads(paths.settings_file().read_text())
    assert data["volunteer"]["max_ncpus_pct"] == 10 and data["volunteer"]["cpu_usage_limit"] == 60
    assert data["confirmations"] == 2 and data["theme_follows_system"] is False


@pytest.mark.parametrize("entry", ['{"max_ncpus_pct": 500}', "3", '"x"', "[]"])
def test_invalid_preferences_give_defaults_and_keep_the_rest(entry: str):
    paths.settings_file().write_text(f'{{"confirmations": 5, "volunteer": {entry}}}')
    store = SettingsStore()
    assert store.preferences() == Preferences()
    assert store.settings.confirmations == 5
    assert not paths.settings_file().with_suffix(".json.bad").exists()


def test_saving_preferences_is_atomic_when_writing_fails(monkeypatch: pytest.MonkeyPatch):
    store = SettingsStore()
    store.save_preferences(Preferences(max_ncpus_pct=30))
    before = paths.settings_file().read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", broken_replace)
    with pytest.raises(OSError):
        store.save_preferences(Preferences(max_ncpus_pct=90))
    assert paths.settings_file().read_text() == before
    assert not [p for p in paths.data_dir().iterdir() if p.name.endswith(".tmp")]


def test_payout_choice_is_saved_checksummed_and_old_files_read():
    paths.settings_file().write_text(json.dumps({"first_run_done": True}))  # an older file
    store = SettingsStore()
    assert store.payout() is None and store.settings.first_run_done
    lower = "0x" + "ab" * 20
    checksummed = "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    assert store.save_payout(lower) == checksummed
    assert SettingsStore().payout() == checksummed  # persisted
    with pytest.raises(DeskGridError, match="not an Ethereum payout address"):
        store.save_payout("0x1234")
    assert SettingsStore().payout() == store.payout()  # a refused address changes nothing
    store.save_payout(None)
    assert SettingsStore().payout() is None


def test_invalid_payout_in_the_file_is_forgotten_and_the_rest_kept():
    paths.settings_file().write_text(
        json.dumps({"volunteer_payout": "0xnot-an-address", "confirmations": 4})
    )
    store = SettingsStore()
    assert store.payout() is None and store.settings.confirmations == 4

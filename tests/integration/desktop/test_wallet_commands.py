"""`deskgrid wallet create | import | show | send` as real processes against a real anvil
chain: the wallets are the desktop app's (same settings file, same keystore files), secrets
never come from the command line, and a send moves real RLC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from deskgrid.chain.anvil import AnvilNode, find_anvil
from deskgrid.chain.connection import connect
from deskgrid.chain.contracts import HubContract, RLCToken
from deskgrid.chain.deployment import Roles, ensure_deployment
from deskgrid.chain.keyfile import load_key_file
from deskgrid.chain.transactions import TxSender
from deskgrid.desktop.settings import SettingsStore
from deskgrid.money import NRLC_PER_RLC as RLC
from deskgrid.money import parse_eth
from deskgrid.wallet.accounts import account_from_mnemonic
from deskgrid.wallet.entries import WalletEntry
from deskgrid.wallet.keystores import FileKeyStore
from tests.conftest import require

pytestmark = pytest.mark.integration
PASSWORD = "a long password"


@pytest.fixture
def market():
    require(find_anvil() is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    node = AnvilNode().start()
    chain = connect(node.url)
    deployment, _ = ensure_deployment(chain, Roles.dev(chain))
    yield node.url, chain, deployment
    chain.close()
    node.stop()


def deskgrid(
    home: Path, *args: str, password: str | None = PASSWORD
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DESKGRID_HOME": str(home),
        # never the real OS keyring: keys go to keystore files
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    env.pop("DESKGRID_KEY_PASSWORD", None)
    if password is not None:
        env["DESKGRID_KEY_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "deskgrid", "wallet", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def test_create_gives_a_wallet_the_app_can_open(tmp_path: Path, monkeypatch) -> None:
    done = deskgrid(tmp_path, "create", "--name", "Savings", "--json")
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    phrase = made["recovery_phrase"]
    assert len(phrase.split()) == 12 and made["storage"] == "keystore"
    monkeypatch.setenv("DESKGRID_HOME", str(tmp_path))  # as the app would read it
    [entry] = SettingsStore().wallet_entries()
    assert (entry.name, entry.address) == ("Savings", made["address"])
    account = FileKeyStore().load(entry.address, PASSWORD)
    assert account.address == account_from_mnemonic(phrase).address
    settings = (tmp_path / "settings.json").read_text()
    assert phrase not in settings and account.key.hex() not in settings

    again = deskgrid(tmp_path, "create", "--name", "savings")
    assert again.returncode == 2 and "already called 'savings'" in again.stderr
    short = deskgrid(tmp_path, "create", "--name", "Other", password="short")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    no_password = deskgrid(tmp_path, "create", "--name", "Third", password=None)
    assert no_password.returncode == 2 and "DESKGRID_KEY_PASSWORD" in no_password.stderr


def test_show_field_prints_what_other_commands_take(tmp_path: Path, monkeypatch) -> None:
    made = json.loads(deskgrid(tmp_path, "create", "--name", "Payer", "--json").stdout)
    address = deskgrid(tmp_path, "show", "payer", "--field", "address")
    assert (address.returncode, address.stdout) == (0, made["address"] + "\n"), address.stderr
    key_file = deskgrid(tmp_path, "show", "Payer", "--field", "key-file")
    assert key_file.returncode == 0, key_file.stderr
    assert load_key_file(key_file.stdout.strip(), PASSWORD).address == made["address"]

    unnamed = deskgrid(tmp_path, "show", "--field", "address")
    assert unnamed.returncode == 2 and "name it" in unnamed.stderr
    monkeypatch.setenv("DESKGRID_HOME", str(tmp_path))
    store = SettingsStore()
    in_keyring = WalletEntry(name="Desk", address=Account.create().address, storage="keyring")
    store.save_wallets([*store.wallet_entries(), in_keyring], selected="")
    keyring = deskgrid(tmp_path, "show", "Desk", "--field", "key-file")
    assert keyring.returncode == 2 and "system keyring" in keyring.stderr


def test_import_show_and_send_on_a_real_chain(tmp_path: Path, market) -> None:
    url, chain, deployment = market
    faucet = Roles.dev(chain).faucet  # holds the deployment's RLC
    key_file = tmp_path / "faucet.key"
    key_file.write_text(faucet.key.hex())
    home = tmp_path / "home"
    done = deskgrid(home, "import", "--name", "Funds", "--private-key-file", str(key_file))
    assert done.returncode == 0, done.stderr
    assert faucet.address in done.stdout

    network = ("--chain", url, "--hub", deployment.hub)
    shown = deskgrid(home, "show", "Funds", *network, "--json")
    assert shown.returncode == 0, shown.stderr
    [row] = json.loads(shown.stdout)
    rlc = RLCToken(chain, deployment.rlc)
    assert row["rlc_nrlc"] == rlc.balance_of(faucet.address) > 0

    recipient = Account.create().address
    sent = deskgrid(
        home, "send", "--from", "Funds", "--to", recipient, "--amount", "1,250.5", *network, "--yes"
    )
    assert sent.returncode == 0, sent.stderr
    assert f"Send 1,250.5 RLC to {recipient}" in sent.stdout
    assert rlc.balance_of(recipient) == 1_250_500_000_000 == 1250 * RLC + RLC // 2

    unconfirmed = deskgrid(
        home, "send", "--from", "Funds", "--to", recipient, "--amount", "1", *network
    )
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    too_much = deskgrid(
        home, "send", "--from", "Funds", "--to", recipient, "--amount", "1e3", *network, "--yes"
    )
    assert too_much.returncode == 2 and "is not an amount of RLC" in too_much.stderr
    unknown = deskgrid(
        home, "send", "--from", "Nobody", "--to", recipient, "--amount", "1", *network
    )
    assert unknown.returncode == 2 and "No wallet is called" in unknown.stderr
    assert rlc.balance_of(recipient) == 1_250_500_000_000  # nothing more moved


def test_stake_show_and_unstake_on_a_real_chain(tmp_path: Path, market) -> None:
    url, chain, deployment = market
    staker = Account.create()
    key_file = tmp_path / "staker.key"
    key_file.write_text(staker.key.hex())
    home = tmp_path / "home"
    done = deskgrid(home, "import", "--name", "Payout", "--private-key-file", str(key_file))
    assert done.returncode == 0, done.stderr
    network = ("--chain", url, "--hub", deployment.hub)
    hub, rlc = HubContract(chain, deployment.hub), RLCToken(chain, deployment.rlc)

    empty = deskgrid(home, "stake", "1", "--from", "Payout", *network, "--yes")
    assert empty.returncode == 2 and "deposit RLC into the escrow first" in empty.stderr
    nothing = deskgrid(home, "unstake", "all", "--from", "Payout", *network, "--yes")
    assert nothing.returncode == 2 and "has no stake" in nothing.stderr

    # RLC in the staker's escrow (deposited by the staker itself) and ETH for its fees
    funder = TxSender(chain, Roles.dev(chain).faucet)
    rlc.transfer(funder, staker.address, 5 * RLC)
    funder.send(to=staker.address, value=parse_eth("0.1"))
    own = TxSender(chain, staker)
    rlc.approve(own, hub.address, 5 * RLC)
    hub.deposit(own, 5 * RLC)

    staked = deskgrid(home, "stake", "2.5", "--from", "Payout", *network, "--yes")
    assert staked.returncode == 0, staked.stderr
    assert "Stake 2.5 RLC of the hub escrow: transaction 0x" in staked.stdout
    assert hub.stake_info(staker.address).amount == 2 * RLC + RLC // 2
    too_much = deskgrid(home, "stake", "3", "--from", "Payout", *network, "--yes")
    assert too_much.returncode == 2 and "you cannot stake 3 RLC" in too_much.stderr
    unconfirmed = deskgrid(home, "stake", "1", "--from", "Payout", *network)
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr

    shown = deskgrid(home, "show", "Payout", *network, "--json")
    assert shown.returncode == 0, shown.stderr
    [row] = json.loads(shown.stdout)
    assert (row["stake_nrlc"], row["stake_locked_nrlc"]) == (2 * RLC + RLC // 2, 0)
    assert (row["wins"], row["losses"], row["escrow_nrlc"]) == (0, 0, 2 * RLC + RLC // 2)
    text = deskgrid(home, "show", "Payout", *network)
    assert "stake 2.5 RLC, 0 RLC locked by tasks" in text.stdout, text.stderr

    more = deskgrid(home, "unstake", "3", "--from", "Payout", *network, "--yes")
    assert more.returncode == 2 and "you cannot unstake 3 RLC" in more.stderr
    some = deskgrid(home, "unstake", "1", "--from", "Payout", *network, "--json", "--yes")
    assert some.returncode == 0, some.stderr
    assert json.loads(some.stdout)["status"] == "mined"
    everything = deskgrid(home, "unstake", "ALL", "--from", "Payout", *network, "--yes")
    assert everything.returncode == 0, everything.stderr
    assert "Unstake 1.5 RLC back into the hub escrow" in everything.stdout
    assert hub.stake_info(staker.address).amount == 0
    assert hub.balance_of(staker.address) == 5 * RLC
    bad = deskgrid(home, "unstake", "some", "--from", "Payout", *network, "--yes")
    assert bad.returncode == 2 and "'some' is not an amount" in bad.stderr

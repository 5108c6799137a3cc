"""`deskgrid worker withdraw` as a real process: a worker key paid for a real task (it signed
in without a payout address) sweeps its hub credit to a wallet over JSON-RPC (the embedded chain
served on loopback, as the node process serves it); and the sentences when there is nothing
to withdraw, no ETH for the fee, no destination or a bad address."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from deskgrid.chain.rpc_server import ChainRpcServer
from deskgrid.chain.transactions import TxSender
from deskgrid.money import parse_eth
from deskgrid.worker.identity import remember_payout, worker_account
from tests.integration.oracle.conftest import (  # noqa: F401 - fixtures
    complete_task,
    grid_catalog,
    grid_options,
    setup,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def rpc_url(setup):  # noqa: F811
    server = ChainRpcServer(setup.chain)
    yield server.start()
    server.stop()


async def withdraw(*args: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "deskgrid", "worker", "withdraw", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
    )


def eth_of(setup, address: str) -> int:  # noqa: F811
    with setup.chain.lock:
        return int(setup.chain.w3.eth.get_balance(address))


async def test_withdraw_sweeps_the_worker_credit_to_the_wallet(
    setup,  # noqa: F811
    rpc_url: str,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "volunteer"
    key = worker_account(folder)
    wallet = Account.create().address
    chain = ["--chain", rpc_url, "--hub", setup.hub.address, "--folder", str(folder)]

    nothing = await withdraw(*chain, "--to", wallet)
    assert nothing.returncode == 2
    assert f"The worker {key.address} has nothing to withdraw" in nothing.stderr
    nowhere = await withdraw(*chain)
    assert nowhere.returncode == 2 and "give your wallet's address with --to" in nowhere.stderr
    bad = await withdraw(*chain, "--to", "0x1234")
    assert bad.returncode == 2 and "'0x1234' is not an Ethereum address to withdraw to" in (
        bad.stderr
    )

    await complete_task(setup, key, None, "paid to the worker key")  # no payout: the key earns
    credit = setup.hub.balance_of(key.address)
    assert credit > 0 and eth_of(setup, key.address) == 0

    no_eth = await withdraw(*chain, "--to", wallet)
    assert no_eth.returncode == 2
    assert "has no ETH to pay the network fee" in no_eth.stderr
    assert f"to {key.address} from your wallet, then withdraw again" in no_eth.stderr
    assert setup.hub.balance_of(key.address) == credit  # nothing moved

    gas_money = parse_eth("0.01")
    TxSender(setup.chain, setup.chain.dev_accounts[0]).send(to=key.address, value=gas_money)
    remember_payout(folder, wallet)  # as a worker signing in with --payout does
    done = await withdraw(*chain, "--eth")
    assert done.returncode == 0, done.stderr
    assert f"to {wallet}" in done.stdout and "Sent " in done.stdout
    assert setup.hub.balance_of(key.address) == 0
    assert setup.rlc.balance_of(key.address) == 0
    assert setup.rlc.balance_of(wallet) == credit
    received, left = eth_of(setup, wallet), eth_of(setup, key.address)
    assert 0 < received < gas_money and received + left < gas_money  # the fees were paid
    assert left < gas_money // 100  # at most dust of the fee's estimate stays

    again = await withdraw(*chain)
    assert again.returncode == 2 and "has nothing to withdraw" in again.stderr

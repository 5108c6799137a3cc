"""WalletService on the embedded chain: faucet, sends, escrow, fee quotes, history, exact
amounts."""

import json

import pytest
from eth_account import Account

from deskgrid.chain.faucet import FAUCET_ETH, FAUCET_RLC
from deskgrid.errors import DeskGridError
from deskgrid.money import NRLC_PER_RLC, parse_rlc
from deskgrid.wallet.history import TxHistory
from deskgrid.wallet.service import WalletService

RLC = NRLC_PER_RLC


def test_faucet_funds_rlc_and_eth_and_records_it(wallet):
    balances = wallet.balances()
    assert (balances.rlc, balances.eth, balances.escrow, balances.locked) == (
        FAUCET_RLC,
        FAUCET_ETH,
        0,
        0,
    )
    kinds = [(r.kind, r.asset, r.amount, r.status) for r in wallet.records()]
    assert ("faucet", "RLC", FAUCET_RLC, "mined") in kinds
    assert ("faucet", "ETH", FAUCET_ETH, "mined") in kinds


def test_send_rlc_exact_amount_with_quote_and_history(wallet, market):
    chain, deployment = market
    other = Account.create().address
    amount = parse_rlc("12.345678901")
    quote = wallet.quote_send("RLC", other.lower(), amount)
    assert quote.to == other and quote.fee.gas > 21_000 and quote.max_fee_wei > 0
    before = wallet.balances()
    record = wallet.execute(quote)
    after = wallet.balances()
    assert record.status == "mined" and record.counterparty == other
    assert record.amount == 12_345_678_901
    assert after.rlc == before.rlc - amount
    assert 0 < before.eth - after.eth == record.fee_wei <= quote.max_fee_wei
    assert WalletService(chain, deployment, Account.create()).rlc.balance_of(other) == amount
    # persisted per address, newest first, and readable after a restart
    saved = TxHistory.for_address(chain.chain_id, chain.genesis_hash, wallet.address)
    assert saved.records()[0].tx_hash == record.tx_hash
    assert json.loads(saved.path.read_text())[0]["amount"] == 12_345_678_901


def test_send_eth(wallet):
    other = Account.create().address
    record = wallet.send_eth(other, 10**15)
    assert record.asset == "ETH" and record.status == "mined"
    assert wallet.chain.w3.eth.get_balance(other) == 10**15


def _miscased(address: str) -> str:
    """The address with the case of one letter flipped (a broken EIP-55 checksum)."""
    body = address[2:]
    i = next(i for i, c in enumerate(body) if c.isalpha())
    flipped = body[:i] + body[i].swapcase() + body[i + 1 :]
    if flipped.lower() == flipped or flipped.upper() == flipped:  # all one case: no checksum
        j = next(j for j, c in enumerate(body) if c.isalpha() and j != i)
        flipped = flipped[:j] + flipped[j].swapcase() + flipped[j + 1 :]
    return "0x" + flipped


def test_refusals_are_sentences(wallet):
    other = Account.create().address
    with pytest.raises(DeskGridError, match="cannot send 1,000,000 RLC"):
        wallet.quote_send("RLC", other, 1_000_000 * RLC)
    with pytest.raises(DeskGridError, match="above zero"):
        wallet.quote_send("RLC", other, 0)
    with pytest.raises(DeskGridError, match="not enough for 10 ETH plus"):
        wallet.quote_send("ETH", other, FAUCET_ETH)
    with pytest.raises(DeskGridError, match="capital letters"):
        wallet.quote_send("RLC", _miscased(other), 1)
    with pytest.raises(DeskGridError, match="free in the escrow"):
        wallet.quote_withdraw(RLC)


def test_no_eth_for_fees_is_explained(market):
    chain, deployment = market
    poor = WalletService(chain, deployment, Account.create())
    rich = WalletService(chain, deployment, Account.create())
    rich.faucet()
    rich.send_rlc(poor.address, RLC)
    with pytest.raises(DeskGridError, match="get some ETH for fees"):
        poor.quote_send("RLC", rich.address, RLC)


def test_deposit_and_withdraw_escrow(wallet):
    quote = wallet.quote_deposit(100 * RLC)
    assert quote.describe() == "Deposit 100 RLC into the hub escrow"
    wallet.execute(quote)
    balances = wallet.balances()
    assert (balances.rlc, balances.escrow) == (FAUCET_RLC - 100 * RLC, 100 * RLC)
    wallet.execute(wallet.quote_withdraw(parse_rlc("40.5")))
    balances = wallet.balances()
    assert balances.escrow == parse_rlc("59.5")
    assert balances.rlc == FAUCET_RLC - parse_rlc("59.5")
    kinds = [r.kind for r in wallet.records()]
    assert kinds[:2] == ["withdraw", "deposit"]


def test_pending_record_is_settled_by_refresh(wallet):
    other = Account.create().address
    record = wallet.send_rlc(other, RLC)
    wallet.history.update(record.tx_hash, status="pending", block_number=None)
    changes = []
    wallet.on_change = lambda: changes.append(1)
    refreshed = wallet.refresh_history()
    assert refreshed[0].status == "mined" and refreshed[0].block_number == record.block_number
    assert changes


def test_failed_send_is_recorded_as_failed(wallet, monkeypatch):
    from deskgrid.chain.reverts import ChainError

    def mined_then_failed(self, tx_hash, tx):
        raise ChainError("Transaction failed on chain; it may have run out of gas.")

    monkeypatch.setattr("deskgrid.chain.transactions.TxSender._wait", mined_then_failed)
    with pytest.raises(ChainError):
        wallet.send_rlc(Account.create().address, RLC)
    top = wallet.records()[0]
    assert top.status == "failed" and "out of gas" in top.error


def test_stake_and_unstake_with_a_real_lock(wallet, market):
    from deskgrid.chain.contracts import TaskRequest
    from deskgrid.chain.deployment import Roles
    from deskgrid.chain.transactions import TxSender

    chain, deployment = market
    with pytest.raises(DeskGridError, match="deposit RLC into the escrow first"):
        wallet.quote_stake(RLC)
    wallet.deposit(10 * RLC)
    with pytest.raises(DeskGridError, match="you cannot stake 11 RLC"):
        wallet.quote_stake(11 * RLC)
    quote = wallet.quote_stake(3 * RLC)
    assert quote.describe() == "Stake 3 RLC of the hub escrow" and quote.max_fee_wei > 0
    record = wallet.execute(quote)
    assert (record.kind, record.account, record.status) == ("stake", "escrow", "mined")
    assert wallet.hub.stake_info(wallet.address).free == 3 * RLC
    assert wallet.balances().escrow == 7 * RLC

    # a task's contribution locks 30 % of its price (5 RLC at level 1) of the stake
    request = TaskRequest(deployment.apps["vanity"], deployment.pool_id, "{}", 5 * RLC)
    task_id = wallet.hub.pay_and_request(wallet.sender, wallet.rlc, request)
    scheduler = TxSender(chain, Roles.dev(chain).scheduler)
    wallet.hub.lock_stake(scheduler, task_id, [wallet.address])
    with pytest.raises(DeskGridError) as refused:
        wallet.quote_unstake(3 * RLC)
    assert str(refused.value) == (
        "1.5 RLC of your stake is free; you cannot unstake 3 RLC; 1.5 RLC is locked by tasks "
        "being computed and comes free when they end."
    )
    record = wallet.execute(wallet.quote_unstake(parse_rlc("1.5")))
    assert (record.kind, record.account) == ("unstake", "stake")
    stake = wallet.hub.stake_info(wallet.address)
    assert (stake.amount, stake.locked) == (parse_rlc("1.5"), parse_rlc("1.5"))
    assert wallet.balances().escrow == parse_rlc("8.5")


def test_staking_without_eth_for_the_fee_says_so(market):
    from deskgrid.chain.deployment import Roles
    from deskgrid.chain.transactions import TxSender

    chain, deployment = market
    broke = WalletService(chain, deployment, Account.create())  # no ETH at all
    funder = TxSender(chain, Roles.dev(chain).faucet)
    broke.rlc.approve(funder, broke.hub.address, RLC)
    broke.hub.deposit(funder, RLC)
    broke.hub.stake_for(funder, broke.address, RLC)  # stake given by someone else
    with pytest.raises(DeskGridError, match="no ETH to pay the network fee"):
        broke.quote_unstake(RLC)


def test_a_fee_quoted_elsewhere_is_checked_against_the_wallets_eth(wallet, market):
    chain, deployment = market
    anyone = Account.create().address
    fee = wallet.quote_with(lambda sender: sender.quote(to=anyone, value=0))
    assert fee.gas >= 21_000
    broke = WalletService(chain, deployment, Account.create())
    quoted = []
    with pytest.raises(DeskGridError, match="no ETH to pay the network fee"):
        broke.quote_with(lambda sender: quoted.append(sender) or fee)
    assert quoted == []  # refused before estimating: a node refuses to estimate for it

"""Incoming transfers on the embedded chain: RLC Transfer events and ETH payments to the wallet
become "receive" records with exact amounts, once each, across restarts and reorgs; the
wallet's own transactions are not listed twice."""

from __future__ import annotations

import pytest
from eth_account import Account

from deskgrid.chain.contracts import RLCToken
from deskgrid.chain.transactions import TxSender
from deskgrid.money import parse_eth, parse_rlc
from deskgrid.wallet.history import TxHistory
from deskgrid.wallet.incoming import IncomingScanner
from deskgrid.wallet.service import WalletService


@pytest.fixture
def parts(market):
    chain, deployment = market
    account = Account.create()
    payer = chain.dev_accounts[1]  # the faucet account holds the RLC
    return chain, deployment, account, payer, RLCToken(chain, deployment.rlc)


def _block_of(chain, tx_hash: str) -> dict:
    with chain.lock:
        receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
        return chain.w3.eth.get_block(receipt["blockNumber"])


def test_rlc_and_eth_received_are_listed_exactly_once(parts):
    chain, deployment, account, payer, rlc = parts
    wallet = WalletService(chain, deployment, account)
    changes = []
    wallet.on_change = lambda: changes.append(True)
    sender = TxSender(chain, payer)
    sent = rlc.transfer(sender, account.address, parse_rlc("12.345678901"))
    paid = sender.send(to=account.address, value=parse_eth("0.000000000000000123"))

    added = wallet.scan_incoming()
    assert [(r.asset, r.amount, r.kind, r.status) for r in added] == [
        ("RLC", 12_345_678_901, "receive", "confirmed"),
        ("ETH", 123, "receive", "confirmed"),
    ]
    first = added[0]
    assert first.tx_hash == sent.tx_hash and first.counterparty == payer.address
    assert first.direction == "in" and first.block_number == sent.block_number
    assert first.created_at == _block_of(chain, sent.tx_hash)["timestamp"]
    assert added[1].tx_hash == paid.tx_hash and changes == [True]
    assert wallet.scan_incoming() == [] and changes == [True]
    assert {r.tx_hash for r in wallet.records()} == {sent.tx_hash, paid.tx_hash}

    # a restart reads on from where the last scan stopped (persisted beside the history)
    again = WalletService(chain, deployment, account)
    assert again.scan_incoming() == []
    later = rlc.transfer(sender, account.address, 7)
    assert [(r.tx_hash, r.amount) for r in again.scan_incoming()] == [(later.tx_hash, 7)]
    saved = TxHistory.for_address(chain.chain_id, chain.genesis_hash, account.address)
    assert [r.amount for r in saved.records()][:1] == [7] and len(saved.records()) == 3


def test_own_transactions_are_not_listed_again(parts):
    chain, deployment, account, _, _ = parts
    wallet = WalletService(chain, deployment, account)
    wallet.faucet()  # RLC and ETH from the faucet, recorded as such
    wallet.send_rlc(account.address, 5)  # to itself
    wallet.deposit(10)
    wallet.withdraw(10)  # the hub transfers RLC back in the wallet's own transaction
    before = wallet.records()
    assert wallet.scan_incoming() == []
    assert wallet.records() == before
    assert sorted(r.kind for r in before) == ["deposit", "faucet", "faucet", "send", "withdraw"]


def test_eth_is_skipped_where_it_would_need_every_block(parts):
    chain, deployment, account, payer, rlc = parts
    sender = TxSender(chain, payer)
    sender.send(to=account.address, value=10**15)
    rlc.transfer(sender, account.address, 3)
    scanner = IncomingScanner(chain, rlc, account.address, TxHistory(None), scan_eth=False)
    assert [(r.asset, r.amount) for r in scanner.scan()] == [("RLC", 3)]


def test_a_reorg_replaces_what_was_received(parts):
    chain, deployment, account, payer, rlc = parts
    history = TxHistory(None)
    scanner = IncomingScanner(chain, rlc, account.address, history)
    assert scanner.scan() == []
    snapshot = chain.snapshot()
    gone = rlc.transfer(TxSender(chain, payer), account.address, 111)
    assert [r.tx_hash for r in scanner.scan()] == [gone.tx_hash]
    chain.revert(snapshot)
    kept = rlc.transfer(TxSender(chain, payer), account.address, 222)
    assert gone.block_number == kept.block_number  # the same height, another block
    assert [r.amount for r in scanner.scan()] == [222]
    assert [(r.tx_hash, r.amount) for r in history.records()] == [(kept.tx_hash, 222)]

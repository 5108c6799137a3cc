"""The wallet's history from the chain (embedded): transfers received, task payments on both
paths (the hub's `approveAndCall`, the VanityGen requester contract), refunds, rewards, escrow
movements and fees become records once each, across restarts and reorgs, and per side they add
up to the balance change; the wallet's own transactions are not listed twice."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from deskgrid.chain.contracts import (
    HubContract,
    RLCToken,
    TaskRequest,
    VanityRequesterContract,
    result_digest,
)
from deskgrid.chain.deployment import Roles
from deskgrid.chain.hub_events import RewardRole, rewards_to
from deskgrid.chain.transactions import TxSender
from deskgrid.errors import DeskGridError
from deskgrid.money import parse_eth, parse_rlc
from deskgrid.wallet.activity import AccountScanner
from deskgrid.wallet.history import TxHistory
from deskgrid.wallet.service import WalletService


@pytest.fixture
def parts(market):
    chain, deployment = market
    account = Account.create()
    rlc = RLCToken(chain, deployment.rlc)
    payer = chain.dev_accounts[4]  # someone else than the faucet, given RLC by it
    rlc.transfer(TxSender(chain, chain.dev_accounts[1]), payer.address, parse_rlc("1000"))
    return chain, deployment, account, payer, rlc


def _block_of(chain, tx_hash: str) -> dict:
    with chain.lock:
        receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
        return chain.w3.eth.get_block(receipt["blockNumber"])


def _sums(records) -> dict[tuple[str, str], int]:
    """Per (asset, side): what the records add up to, fees included."""
    sums: dict[tuple[str, str], int] = {}
    for r in records:
        key = (r.asset, r.account)
        sums[key] = sums.get(key, 0) + r.signed_amount
        sums[("ETH", "wallet")] = sums.get(("ETH", "wallet"), 0) - (r.fee_wei or 0)
    return {k: v for k, v in sums.items() if v}


def _on_chain(wallet: WalletService) -> dict[tuple[str, str], int]:
    b = wallet.balances()
    found = {("RLC", "wallet"): b.rlc, ("RLC", "escrow"): b.escrow, ("ETH", "wallet"): b.eth}
    return {k: v for k, v in found.items() if v}


def test_rlc_and_eth_received_are_listed_exactly_once(parts):
    chain, deployment, account, payer, rlc = parts
    wallet = WalletService(chain, deployment, account)
    changes = []
    wallet.on_change = lambda: changes.append(True)
    sender = TxSender(chain, payer)
    sent = rlc.transfer(sender, account.address, parse_rlc("12.345678901"))
    paid = sender.send(to=account.address, value=parse_eth("0.000000000000000123"))

    added = wallet.scan_chain()
    assert [(r.asset, r.amount, r.kind, r.account, r.origin) for r in added] == [
        ("RLC", 12_345_678_901, "receive", "wallet", "logs"),
        ("ETH", 123, "receive", "wallet", "logs"),
    ]
    first = added[0]
    assert first.tx_hash == sent.tx_hash and first.counterparty == payer.address
    assert first.direction == "in" and first.block_number == sent.block_number
    assert first.created_at == _block_of(chain, sent.tx_hash)["timestamp"]
    assert added[1].tx_hash == paid.tx_hash and changes == [True, True]
    # one block on top of the first: confirmed at the default depth (1); the second is not yet
    assert {r.tx_hash: r.status for r in wallet.records()} == {
        sent.tx_hash: "confirmed",
        paid.tx_hash: "mined",
    }
    assert wallet.scan_chain() == []
    assert {r.tx_hash for r in wallet.records()} == {sent.tx_hash, paid.tx_hash}

    # a restart reads on from where the last scan stopped (persisted beside the history)
    again = WalletService(chain, deployment, account)
    assert again.scan_chain() == []
    later = rlc.transfer(sender, account.address, 7)
    assert [(r.tx_hash, r.amount) for r in again.scan_chain()] == [(later.tx_hash, 7)]
    saved = TxHistory.for_address(chain.chain_id, chain.genesis_hash, account.address)
    assert [r.amount for r in saved.records()][:1] == [7] and len(saved.records()) == 3
    assert _sums(saved.records()) == _on_chain(again)


def test_own_transactions_are_not_listed_again_and_escrow_sides_are_added(parts):
    chain, deployment, account, _, _ = parts
    wallet = WalletService(chain, deployment, account)
    wallet.faucet()  # RLC and ETH from the faucet, recorded as such
    wallet.send_rlc(Account.create().address, 5)
    wallet.deposit(10)
    wallet.withdraw(4)  # the hub transfers RLC back in the wallet's own transaction
    before = wallet.records()
    added = wallet.scan_chain()
    # only the escrow side of the deposit and of the withdrawal was not recorded yet
    assert sorted((r.kind, r.account, r.direction, r.amount) for r in added) == [
        ("deposit", "escrow", "in", 10),
        ("withdraw", "escrow", "out", 4),
    ]
    assert all(r.fee_wei == 0 for r in added)  # the wallet's own records carry the fees
    assert sorted(r.kind for r in before) == ["deposit", "faucet", "faucet", "send", "withdraw"]
    assert _sums(wallet.records()) == _on_chain(wallet)
    with pytest.raises(DeskGridError, match="own address"):
        wallet.quote_send("RLC", account.address, 5)  # it would move nothing


def test_eth_is_skipped_where_it_would_need_every_block(parts):
    chain, deployment, account, payer, rlc = parts
    sender = TxSender(chain, payer)
    sender.send(to=account.address, value=10**15)
    rlc.transfer(sender, account.address, 3)
    hub = HubContract(chain, deployment.hub)
    scanner = AccountScanner(chain, rlc, hub, account.address, TxHistory(None), scan_eth=False)
    assert [(r.asset, r.amount) for r in scanner.scan()] == [("RLC", 3)]


def test_the_fee_of_an_approval_made_elsewhere_is_found_in_its_logs(parts):
    """On a network (no block reading) a transaction that moves nothing still cost a fee."""
    chain, deployment, account, _, rlc = parts
    wallet = WalletService(chain, deployment, account)
    wallet.faucet()
    approved = rlc.approve(TxSender(chain, account), deployment.hub, 5)
    hub = HubContract(chain, deployment.hub)
    history = TxHistory(None)
    scanner = AccountScanner(chain, rlc, hub, account.address, history, scan_eth=False)
    found = {(r.kind, r.asset, r.tx_hash) for r in scanner.scan()}
    assert ("fee", "ETH", approved.tx_hash) in found
    [fee] = [r for r in history.records() if r.kind == "fee"]
    assert fee.amount == approved.fee_wei and fee.signed_amount == -approved.fee_wei


def test_stake_put_in_taken_out_and_given_to_another_is_found_on_a_network(parts):
    """Without block reading: a stake the account pays for another is found by the `Staked`
    log's payer, a sponsor's stake for it and its unstake by the account; the stake side adds
    up to its stake on the hub."""
    chain, deployment, account, payer, rlc = parts
    hub = HubContract(chain, deployment.hub)
    rlc.transfer(TxSender(chain, payer), account.address, parse_rlc("5"))
    TxSender(chain, payer).send(to=account.address, value=parse_eth("1"))  # for its fees
    me, sponsor = TxSender(chain, account), TxSender(chain, payer)
    rlc.approve_and_call(me, hub.address, parse_rlc("5"), b"")
    own = hub.stake(me, parse_rlc("3"))
    for_other = hub.stake_for(me, payer.address, parse_rlc("1"))
    rlc.approve_and_call(sponsor, hub.address, parse_rlc("2"), b"")
    sponsored = hub.stake_for(sponsor, account.address, parse_rlc("2"))
    out = hub.unstake(me, parse_rlc("0.5"))

    history = TxHistory(None)
    scanner = AccountScanner(chain, rlc, hub, account.address, history, scan_eth=False)
    scanner.scan()
    rows = {(r.tx_hash, r.kind, r.account, r.amount) for r in history.records()}
    assert {
        (own.tx_hash, "stake", "escrow", parse_rlc("3")),
        (own.tx_hash, "stake", "stake", parse_rlc("3")),
        (for_other.tx_hash, "stake", "escrow", parse_rlc("1")),
        (sponsored.tx_hash, "stake", "stake", parse_rlc("2")),
        (out.tx_hash, "unstake", "stake", parse_rlc("0.5")),
        (out.tx_hash, "unstake", "escrow", parse_rlc("0.5")),
    } <= rows
    sums = _sums(history.records())
    assert sums[("RLC", "stake")] == hub.stake_of(account.address) == parse_rlc("4.5")
    assert sums[("RLC", "escrow")] == hub.balance_of(account.address) == parse_rlc("1.5")


def test_a_reorg_replaces_what_was_found(parts):
    chain, deployment, account, payer, rlc = parts
    history = TxHistory(None)
    hub = HubContract(chain, deployment.hub)
    scanner = AccountScanner(chain, rlc, hub, account.address, history)
    assert scanner.scan() == []
    snapshot = chain.snapshot()
    gone = rlc.transfer(TxSender(chain, payer), account.address, 111)
    assert [r.tx_hash for r in scanner.scan()] == [gone.tx_hash]
    chain.revert(snapshot)
    kept = rlc.transfer(TxSender(chain, payer), account.address, 222)
    assert gone.block_number == kept.block_number  # the same height, another block
    assert [r.amount for r in scanner.scan()] == [222]
    assert [(r.tx_hash, r.amount) for r in history.records()] == [(kept.tx_hash, 222)]


def test_task_payments_refunds_and_rewards_add_up_per_side(market):
    """Tasks paid by the same key outside this wallet (so found only in the logs, fees
    included): one through the hub that the scheduler finalizes naming the wallet as its
    worker, one through the hub that fails, one through the VanityGen requester that fails
    and whose price the wallet takes back."""
    chain, deployment = market
    scheduler = TxSender(chain, Roles.dev(chain).scheduler)
    hub, rlc = HubContract(chain, deployment.hub), RLCToken(chain, deployment.rlc)
    requester = VanityRequesterContract(chain, deployment.vanity_requester)
    wallet = WalletService(chain, deployment, Account.create())
    wallet.faucet()
    elsewhere = TxSender(chain, wallet.account)  # another app with the same key
    app = deployment.apps["vanity"]
    price = hub.app(app).price + hub.pool(deployment.pool_id).fee
    request = TaskRequest(app, deployment.pool_id, '{"p":1}', price)

    done = hub.pay_and_request(elsewhere, rlc, request)
    hub.finalize(scheduler, done, result_digest(b"ok"), b"ok", [wallet.address], [1])
    failed = hub.pay_and_request(elsewhere, rlc, request)
    hub.fail(scheduler, failed, "no worker")
    via_requester = requester.request(elsewhere, rlc, '{"p":2}', price)
    hub.fail(scheduler, via_requester, "no worker")
    requester.withdraw_refund(elsewhere, via_requester)

    wallet.scan_chain()
    found = [r for r in wallet.records() if r.origin == "logs"]
    rows = sorted((r.kind, r.account, r.direction, r.amount, r.task_id) for r in found)
    [reward] = rewards_to(hub, wallet.address, 0, chain.block_number())
    assert reward.role == RewardRole.WORKER and reward.task_id == "0x" + done.hex()
    fees = [r for r in found if r.kind == "fee"]
    assert len(fees) == 4 and all(r.asset == "ETH" and r.direction == "out" for r in fees)
    assert [row for row in rows if row[0] != "fee"] == sorted(
        [
            ("payment", "wallet", "out", price, "0x" + done.hex()),
            ("payment", "wallet", "out", price, "0x" + failed.hex()),
            ("payment", "wallet", "out", price, "0x" + via_requester.hex()),
            ("refund", "escrow", "in", price, "0x" + failed.hex()),
            ("refund", "wallet", "in", price, "0x" + via_requester.hex()),
            ("reward", "escrow", "in", reward.amount, "0x" + done.hex()),
        ]
    )
    assert _sums(wallet.records()) == _on_chain(wallet)
    assert wallet.scan_chain() == []  # nothing twice


def test_a_sent_record_is_confirmed_after_the_depth(market):
    chain, deployment = market
    wallet = WalletService(chain, deployment, Account.create(), confirmations=3)
    wallet.faucet()
    sent = wallet.send_rlc(Account.create().address, 5)
    assert sent.status == "mined"
    other = TxSender(chain, chain.dev_accounts[5])
    statuses = []
    for _ in range(3):
        wallet.refresh_history()
        statuses.append(wallet.history.get(sent.tx_hash).status)
        other.send(to=chain.dev_accounts[6].address, value=1)  # one more block
    wallet.refresh_history()
    statuses.append(wallet.history.get(sent.tx_hash).status)
    assert statuses == ["mined", "mined", "mined", "confirmed"]
    assert wallet.history.get(sent.tx_hash).confirmations(chain.block_number()) == 3


def test_a_failed_record_stays_failed(tmp_path):
    history = TxHistory(tmp_path / "h.json")
    history.add(history_record := _record("0xaa", status="failed", block_number=3))
    assert history.confirm(head=100, depth=1) == []
    assert history.get("0xaa") == history_record


def _record(tx_hash: str, **fields):
    from deskgrid.wallet.history import TxRecord

    return TxRecord(tx_hash, "send", "RLC", 5, "0x" + "11" * 20, **fields)


def test_a_history_written_before_sides_and_origins_is_read(tmp_path):
    path = tmp_path / "old.json"
    old = [
        {"tx_hash": "0x01", "kind": "receive", "asset": "RLC", "amount": 7,
         "counterparty": "0xab", "status": "confirmed", "created_at": 2, "block_number": 9,
         "fee_wei": 0, "error": None},
        {"tx_hash": "0x02", "kind": "deposit", "asset": "RLC", "amount": 3,
         "counterparty": "0xhub", "status": "mined", "created_at": 1, "block_number": 8,
         "fee_wei": 21, "error": None},
        {"tx_hash": "0x03", "kind": "send", "asset": "RLC", "amount": 1, "counterparty": "0x",
         "account": "somewhere"},
    ]  # fmt: skip
    path.write_text(json.dumps(old))
    records = TxHistory(path).records()
    assert [(r.kind, r.account, r.origin, r.direction) for r in records] == [
        ("receive", "wallet", "logs", "in"),
        ("deposit", "wallet", "sent", "out"),
    ]
    assert _sums(records) == {("RLC", "wallet"): 4, ("ETH", "wallet"): -21}

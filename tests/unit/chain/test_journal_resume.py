"""Resuming the requester journal decides orders from the chain alone and never sends a
payment: orders that never went out are abandoned, a paid one is found from its hash."""

from __future__ import annotations

import json

from deskgrid.chain.contracts import TaskRequest
from deskgrid.node.journal import RequestJournal
from deskgrid.node.resume import claim, resume

from .conftest import RLC

SECRET = 12345678901234567890


def _journal(market, who: int) -> RequestJournal:
    return RequestJournal.open(
        market.chain.chain_id, market.chain.genesis_hash, market.hub.address, market.account(who)
    )


def _prepare(journal: RequestJournal, market, who: int):
    return journal.prepare(
        app="vanity",
        params={"patterns": ["1A"]},
        compressed=True,
        category=0,
        price=5 * RLC,
        expected_task_id=market.hub.next_task_id(market.account(who).address),
        secret=SECRET,
    )


def _request(market) -> TaskRequest:
    params = json.dumps({"patterns": ["1A"]})
    return TaskRequest(market.vanity, market.pool, params, 5 * RLC, 0, market.requester.address)


def test_resume_decides_from_the_chain_and_never_pays(market):
    who = 4
    market.fund(who, 20 * RLC)
    sender = market.sender(who)
    journal = _journal(market, who)
    never_signed = _prepare(journal, market, who)
    journal.release(never_signed.order_id)

    # signed, then the process died before sending: the node never saw it
    lost = _prepare(journal, market, who)
    journal.signed(
        lost, "0x" + "ee" * 32, market.chain.w3.eth.get_transaction_count(sender.address)
    )
    journal.release(lost.order_id)

    # paid, but the process died before reading the receipt: only the hash is written
    paid = _prepare(journal, market, who)
    with sender.observed(lambda h, n: journal.signed(paid, h, n)):
        task_id = market.hub.pay_and_request(sender, market.rlc, _request(market))
    journal.release(paid.order_id)
    balance = market.rlc.balance_of(sender.address)
    nonce = market.chain.w3.eth.get_transaction_count(sender.address)

    states = {e.order_id: e for e in resume(journal, market.chain, market.hub)}
    assert states[never_signed.order_id].state == "abandoned"
    assert "never signed" in states[never_signed.order_id].reason
    # its nonce is now used by the payment above: it can never be mined
    assert states[lost.order_id].state == "abandoned"
    assert "another transaction used its nonce" in states[lost.order_id].reason
    assert states[paid.order_id].state == "active"
    assert states[paid.order_id].task_id == "0x" + task_id.hex() == paid.expected_task_id
    assert journal.secret(states[paid.order_id]) == SECRET
    # nothing was sent by the resume
    assert market.chain.w3.eth.get_transaction_count(sender.address) == nonce
    assert market.rlc.balance_of(sender.address) == balance


def test_a_failed_task_is_refunded_and_a_live_process_keeps_its_order(market):
    who = 5
    market.fund(who, 20 * RLC)
    sender = market.sender(who)
    journal = _journal(market, who)
    entry = _prepare(journal, market, who)
    with sender.observed(lambda h, n: journal.signed(entry, h, n)):
        task_id = market.hub.pay_and_request(sender, market.rlc, _request(market))
    other = _journal(market, who)  # another process: the order is still held
    [held] = resume(other, market.chain, market.hub)
    assert held.state == "prepared"
    journal.release(entry.order_id)
    market.hub.fail(market.scheduler, task_id, "no worker took it")
    [done] = resume(other, market.chain, market.hub)
    assert (done.state, done.reason) == ("refunded", "no worker took it")


def test_a_payment_mined_after_it_was_abandoned_is_taken_up_again(market):
    who = 6
    market.fund(who, 20 * RLC)
    sender = market.sender(who)
    journal = _journal(market, who)
    entry = _prepare(journal, market, who)
    request = _request(market)
    fn = market.rlc.contract.functions.approveAndCall(
        market.hub.address, request.max_price, request.encode()
    )
    w3 = market.chain.w3
    nonce = w3.eth.get_transaction_count(sender.address)
    tx = fn.build_transaction(
        {"from": sender.address, "nonce": nonce, "gas": 1_000_000, **sender._fees()}
    )
    signed = sender.account.sign_transaction(tx)
    journal.signed(entry, signed.hash.to_0x_hex(), nonce)
    journal.release(entry.order_id)  # the process died before sending
    [gone] = resume(journal, market.chain, market.hub)
    assert gone.state == "abandoned" and "never received" in gone.reason
    w3.eth.send_raw_transaction(signed.raw_transaction)  # someone sent it after all
    [back] = resume(journal, market.chain, market.hub)
    assert back.state == "active" and back.task_id == entry.expected_task_id


def test_a_task_past_its_deadline_is_claimable_then_refunded(market):
    who = 7
    market.fund(who, 20 * RLC)
    sender = market.sender(who)
    journal = _journal(market, who)
    entry = _prepare(journal, market, who)
    with sender.observed(lambda h, n: journal.signed(entry, h, n)):
        market.hub.pay_and_request(sender, market.rlc, _request(market))
    journal.release(entry.order_id)
    [active] = resume(journal, market.chain, market.hub)
    assert active.state == "active"
    market.chain.advance_time(30 * 86_400)
    [late] = resume(journal, market.chain, market.hub)
    assert late.state == "failed" and "deskgrid tasks claim" in late.reason
    escrow = market.hub.balance_of(sender.address)
    done = claim(journal, market.chain, market.hub, sender, late)
    assert done.state == "refunded"
    # the price, and the pool owner's stake the task locked (30 % of it): it was not done in time
    assert market.hub.balance_of(sender.address) == escrow + 5 * RLC + 5 * RLC * 3 // 10

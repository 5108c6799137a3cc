"""The VanityRequester keeps each payer's part of its one escrow account on the hub: a refund
belongs to the user who paid the task, only they can take it, once, and only when the task
failed. Every refusal is a named error, raised before any RLC moves."""

import pytest
from eth_abi import encode
from eth_utils import keccak

from deskgrid.chain.contracts import (
    ZERO_ADDRESS,
    PaidRequest,
    TaskRequest,
    TaskStatus,
    result_digest,
)
from deskgrid.chain.reverts import ContractRevert
from deskgrid.oracle.oracle import MAX_ONCHAIN_RESULT

from .conftest import RLC

PRICE = 5 * RLC  # vanity 4 RLC + pool fee 1 RLC


def payload(params: str = "{}", max_price: int = PRICE, category: int = 0) -> bytes:
    return encode(["string", "uint256", "uint256"], [params, max_price, category])


def refused(name: str, action) -> ContractRevert:
    with pytest.raises(ContractRevert) as err:
        action()
    assert err.value.name == name, str(err.value)
    return err.value


def failed_task(market, who: int = 3) -> bytes:
    """A task paid through the contract by `who` and failed by the scheduler: its refund waits
    in the contract's escrow."""
    market.fund(who, PRICE)
    task_id = market.requester.request(market.sender(who), market.rlc, "{}", PRICE)
    market.hub.fail(market.scheduler, task_id, "no worker")
    return task_id


def money(market, *who: int) -> tuple:
    """Everything a refusal must leave as it was."""
    wallets = tuple(market.rlc.balance_of(market.account(w).address) for w in who)
    pot = market.requester.address
    return wallets, market.hub.balance_of(pot), market.hub.locked_of(pot)


def test_only_the_price_leaves_the_wallet(market):
    alice = market.fund(3, 20 * RLC)
    task_id = market.requester.request(
        market.sender(3), market.rlc, '{"p":"1A"}', 8 * RLC, amount=8 * RLC
    )
    task = market.hub.task(task_id)
    assert task.requester == market.requester.address
    assert task.beneficiary == alice and task.callback == market.requester.address
    assert market.rlc.balance_of(alice) == 15 * RLC  # paid exactly the price
    assert market.rlc.balance_of(market.requester.address) == 0
    assert market.hub.locked_of(market.requester.address) == PRICE
    assert market.hub.balance_of(market.requester.address) == 0
    assert market.requester.request_of(task_id) == PaidRequest(alice, PRICE)


def test_the_request_record_is_one_storage_slot(market):
    alice = market.fund(3, PRICE)
    task_id = market.requester.request(market.sender(3), market.rlc, "{}", PRICE)
    # `requests` is the contract's first storage variable (slot 0): a mapping entry lives at
    # keccak256(key . slot); the packed record is amount (96 bits) above the address.
    slot = int.from_bytes(keccak(task_id + (0).to_bytes(32, "big")), "big")
    w3 = market.chain.w3
    word = int.from_bytes(w3.eth.get_storage_at(market.requester.address, slot), "big")
    assert word == (PRICE << 160) | int(alice, 16)
    assert int.from_bytes(w3.eth.get_storage_at(market.requester.address, slot + 1), "big") == 0


def test_results_are_kept_by_digest_and_read_from_the_event(market):
    market.fund(3, PRICE)
    task_id = market.requester.request(market.sender(3), market.rlc, "{}", PRICE)
    assert not market.requester.has_result(task_id)
    assert market.requester.result_of(task_id) == b""
    result = b'{"address":"1Abc","partial_private_key":"' + b"7" * 64 + b'"}'
    market.hub.finalize(market.scheduler, task_id, result_digest(result), result, [], [])
    assert market.requester.has_result(task_id)
    assert market.requester.result_digest(task_id) == keccak(result)
    assert market.requester.result_of(task_id) == result
    # A completed task's price went to the app and the pool: nothing to refund.
    refused("NotRefundable", lambda: market.requester.withdraw_refund(market.sender(3), task_id))


def test_a_result_as_large_as_the_oracle_writes_reaches_the_callback(market):
    """The callback has 200,000 gas: storing the result bytes ran out of it from about 200
    bytes on (a VanityGen result is about 280), so the result was never kept. A digest fits."""
    market.fund(3, PRICE)
    task_id = market.requester.request(market.sender(3), market.rlc, "{}", PRICE)
    result = bytes(range(256)) * (MAX_ONCHAIN_RESULT // 256)
    sent = market.hub.finalize(market.scheduler, task_id, result_digest(result), result, [], [])
    assert market.hub.events("CallbackDelivered", sent.receipt)
    assert not market.hub.events("CallbackFailed", sent.receipt)
    assert market.requester.result_of(task_id) == result


def test_results_only_from_the_hub(market):
    fn = market.requester.contract.functions.receiveResult(b"\1" * 32, b"forged")
    refused("OnlyHub", lambda: market.sender(3).send(fn))


def test_refund_after_a_claim(market):
    alice = market.fund(3, 10 * RLC)
    task_id = market.requester.request(market.sender(3), market.rlc, "{}", PRICE)
    refused("NotRefundable", lambda: market.requester.withdraw_refund(market.sender(3), task_id))
    market.chain.advance_time(600)
    market.hub.claim(market.sender(4), task_id)
    assert market.hub.task_status(task_id) is TaskStatus.FAILED
    refused("NotYourRequest", lambda: market.requester.withdraw_refund(market.sender(4), task_id))
    result = market.requester.withdraw_refund(market.sender(3), task_id)
    assert market.rlc.balance_of(alice) == 10 * RLC
    (event,) = market.requester.events("VanityRefunded", result.receipt)
    assert (event["args"]["user"], event["args"]["amount"]) == (alice, PRICE)
    assert market.requester.request_of(task_id) == PaidRequest(alice, 0)
    refused("NotRefundable", lambda: market.requester.withdraw_refund(market.sender(3), task_id))


def test_an_underpayment_is_refused_before_anything_moves(market):
    market.fund(3, 10 * RLC)
    before = money(market, 3)
    err = refused(
        "Underpaid",
        lambda: market.rlc.approve_and_call(
            market.sender(3), market.requester.address, PRICE - 1, payload()
        ),
    )
    assert err.args_by_name == {"amount": PRICE - 1, "price": PRICE}
    assert "pay at least the price" in str(err)
    assert money(market, 3) == before


def test_an_underpayer_cannot_take_a_refund_waiting_in_the_pot(market):
    """The theft the shared pot allowed: Bob pays 1 nRLC while Alice's refund waits, then
    withdraws a full price as "his" refund, and Alice's withdrawal fails."""
    alice_task = failed_task(market, who=3)
    assert market.hub.balance_of(market.requester.address) == PRICE  # Alice's refund waits
    bob = market.fund(4, 1)
    before = money(market, 3, 4)
    refused(
        "Underpaid",
        lambda: market.rlc.approve_and_call(
            market.sender(4), market.requester.address, 1, payload()
        ),
    )
    refused(
        "NotYourRequest", lambda: market.requester.withdraw_refund(market.sender(4), alice_task)
    )
    assert money(market, 3, 4) == before
    market.requester.withdraw_refund(market.sender(3), alice_task)
    assert market.rlc.balance_of(market.account(3).address) == PRICE
    assert market.rlc.balance_of(bob) == 1
    assert market.hub.balance_of(market.requester.address) == 0


def test_a_maximum_below_the_price_is_refused_before_anything_moves(market):
    market.fund(3, 10 * RLC)
    before = money(market, 3)
    err = refused(
        "PriceAboveMax",
        lambda: market.rlc.approve_and_call(
            market.sender(3), market.requester.address, 10 * RLC, payload(max_price=PRICE - 1)
        ),
    )
    assert err.args_by_name == {"price": PRICE, "maxPrice": PRICE - 1}
    assert money(market, 3) == before


def test_a_price_change_is_charged_as_the_hub_charges_it(market):
    """The price is read in the request's own transaction: a raise above the user's maximum
    is refused, a cut is paid and recorded at the new price, exactly what the hub locks."""
    alice = market.fund(3, 10 * RLC)
    market.hub.set_app_price(market.owner, market.vanity, 6 * RLC)
    refused(
        "PriceAboveMax",
        lambda: market.rlc.approve_and_call(
            market.sender(3), market.requester.address, PRICE, payload(max_price=PRICE)
        ),
    )
    market.hub.set_app_price(market.owner, market.vanity, 2 * RLC)
    task_id = market.requester.request(market.sender(3), market.rlc, "{}", PRICE)
    assert market.hub.task(task_id).price == 3 * RLC
    assert market.requester.request_of(task_id) == PaidRequest(alice, 3 * RLC)
    assert market.rlc.balance_of(alice) == 7 * RLC
    assert market.hub.locked_of(market.requester.address) == 3 * RLC


def test_receive_approval_only_from_the_token(market):
    """Calling receiveApproval directly, naming someone else's approval, takes nothing."""
    alice = market.fund(3, 10 * RLC)
    market.rlc.approve(market.sender(3), market.requester.address, 10 * RLC)
    before = money(market, 3)
    fns = market.requester.contract.functions
    for token in (market.rlc.address, ZERO_ADDRESS):
        fn = fns.receiveApproval(alice, PRICE, token, payload())
        refused("OnlyToken", lambda fn=fn: market.sender(4).send(fn))
    assert money(market, 3) == before


def test_a_task_requested_on_the_hub_gets_results_but_no_refund_here(market):
    market.fund(4, 2 * PRICE)
    request = TaskRequest(
        market.vanity, market.pool, "{}", PRICE, callback=market.requester.address
    )
    done = market.hub.pay_and_request(market.sender(4), market.rlc, request)
    market.hub.finalize(market.scheduler, done, result_digest(b"found"), b"found", [], [])
    assert market.requester.result_of(done) == b"found"
    failed = market.hub.pay_and_request(market.sender(4), market.rlc, request)
    market.hub.fail(market.scheduler, failed, "no worker")
    assert market.requester.request_of(failed) == PaidRequest(ZERO_ADDRESS, 0)
    # The hub refunded the requester's own escrow; the contract owes nothing.
    assert market.hub.balance_of(market.account(4).address) == PRICE
    assert market.hub.balance_of(market.requester.address) == 0
    refused("NotYourRequest", lambda: market.requester.withdraw_refund(market.sender(4), failed))


def test_refunds_only_for_failed_tasks_only_to_their_payer(market):
    alice_task = failed_task(market, who=3)
    bob_task = failed_task(market, who=4)
    market.fund(3, PRICE)
    active = market.requester.request(market.sender(3), market.rlc, "{}", PRICE)
    refused("NotRefundable", lambda: market.requester.withdraw_refund(market.sender(3), active))
    refused("NotYourRequest", lambda: market.requester.withdraw_refund(market.sender(3), bob_task))
    refused(
        "NotYourRequest", lambda: market.requester.withdraw_refund(market.sender(4), alice_task)
    )
    market.requester.withdraw_refund(market.sender(4), bob_task)
    market.requester.withdraw_refund(market.sender(3), alice_task)
    assert market.rlc.balance_of(market.account(3).address) == PRICE
    assert market.rlc.balance_of(market.account(4).address) == PRICE
    assert market.hub.balance_of(market.requester.address) == 0
    assert market.hub.locked_of(market.requester.address) == PRICE


def test_a_free_task_moves_no_rlc_and_has_nothing_to_refund(market):
    market.hub.set_app_price(market.owner, market.vanity, 0)
    market.hub.update_pool(market.scheduler, market.pool, 0, 7000)
    alice = market.account(3).address
    task_id = market.requester.request(market.sender(3), market.rlc, "{}", 0, amount=0)
    assert market.hub.task(task_id).price == 0
    assert market.requester.request_of(task_id) == PaidRequest(alice, 0)
    market.hub.fail(market.scheduler, task_id, "no worker")
    refused("NotRefundable", lambda: market.requester.withdraw_refund(market.sender(3), task_id))

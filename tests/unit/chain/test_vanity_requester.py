import pytest
from eth_abi import encode

from deskgrid.chain.contracts import TaskStatus
from deskgrid.chain.reverts import ContractRevert

from .conftest import RLC

PRICE = 5 * RLC


def test_request_through_the_contract_returns_the_excess(market):
    alice = market.fund(3, 20 * RLC)
    task_id = market.requester.request(
        market.sender(3), market.rlc, '{"p":"1A"}', 8 * RLC, amount=8 * RLC
    )
    task = market.hub.task(task_id)
    assert task.requester == market.requester.address
    assert task.beneficiary == alice and task.callback == market.requester.address
    assert market.rlc.balance_of(alice) == 15 * RLC  # paid exactly the price
    assert market.requester.request_of(task_id) == (alice, PRICE, False)
    market.hub.finalize(market.scheduler, task_id, b"\1" * 32, b"found", [], [])
    assert market.requester.result_of(task_id) == b"found"


def test_results_only_from_the_hub(market):
    fn = market.requester.contract.functions.receiveResult(b"\1" * 32, b"forged")
    with pytest.raises(ContractRevert) as err:
        market.sender(3).send(fn)
    assert err.value.name == "OnlyHub"


def test_refund_after_a_claim(market):
    alice = market.fund(3, 10 * RLC)
    task_id = market.requester.request(market.sender(3), market.rlc, "{}", PRICE)
    with pytest.raises(ContractRevert) as err:
        market.requester.withdraw_refund(market.sender(3), task_id)
    assert err.value.name == "NotRefundable"
    market.chain.advance_time(600)
    market.hub.claim(market.sender(4), task_id)
    assert market.hub.task_status(task_id) is TaskStatus.FAILED
    with pytest.raises(ContractRevert) as err:
        market.requester.withdraw_refund(market.sender(4), task_id)
    assert err.value.name == "NotYourRequest"
    market.requester.withdraw_refund(market.sender(3), task_id)
    assert market.rlc.balance_of(alice) == 10 * RLC
    with pytest.raises(ContractRevert) as err:
        market.requester.withdraw_refund(market.sender(3), task_id)
    assert err.value.name == "NotRefundable"


def test_request_below_the_price_is_refused(market):
    market.fund(3, 10 * RLC)
    data = encode(["string", "uint256", "uint256"], ["{}", PRICE, 0])
    with pytest.raises(ContractRevert) as err:
        market.rlc.approve_and_call(market.sender(3), market.requester.address, RLC, data)
    assert err.value.name == "InsufficientBalance"

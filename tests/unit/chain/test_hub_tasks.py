import pytest

from deskgrid.chain.contracts import ZERO_ADDRESS, TaskRequest, TaskStatus, result_digest
from deskgrid.chain.reverts import ContractRevert

from .conftest import RLC

PRICE = 5 * RLC  # vanity 4 RLC + pool fee 1 RLC
DIGEST = b"\x11" * 32


def request(market, who=3, **kw):
    fields = dict(
        app_id=market.vanity, pool_id=market.pool, params='{"pattern":"1A"}', max_price=PRICE
    )
    fields.update(kw)
    return TaskRequest(**fields)


def paid_task(market, who=3, **kw):
    market.fund(who, PRICE)
    return market.hub.pay_and_request(market.sender(who), market.rlc, request(market, **kw))


def test_request_locks_the_price_and_records_the_task(market):
    market.deposit(3, 10 * RLC)
    alice = market.account(3).address
    expected_id = market.hub.next_task_id(alice)
    task_id = market.hub.request_task(market.sender(3), request(market))
    assert task_id == expected_id
    assert market.hub.balance_of(alice) == 5 * RLC
    assert market.hub.locked_of(alice) == PRICE
    task = market.hub.task(task_id)
    assert task.status is TaskStatus.ACTIVE
    assert task.requester == alice and task.beneficiary == alice
    assert task.price == PRICE and task.params == '{"pattern":"1A"}'
    assert task.final_deadline == task.requested_at + 10 * 60


def test_task_requested_event_has_what_the_oracle_needs(market):
    task_id = paid_task(market, callback=market.requester.address, category=2)
    [event] = market.hub.logs("TaskRequested", 0)
    args = event["args"]
    assert bytes(args["taskId"]) == task_id
    assert args["appId"] == market.vanity and args["poolId"] == market.pool
    assert args["params"] == '{"pattern":"1A"}' and args["price"] == PRICE
    assert args["category"] == 2 and args["callback"] == market.requester.address
    assert args["finalDeadline"] == market.hub.task(task_id).requested_at + 10 * 1200


def test_pay_and_request_is_one_transaction(market):
    alice = market.fund(3, 7 * RLC)
    nonce_before = market.chain.w3.eth.get_transaction_count(alice)
    task_id = market.hub.pay_and_request(market.sender(3), market.rlc, request(market), 6 * RLC)
    assert market.chain.w3.eth.get_transaction_count(alice) == nonce_before + 1
    assert market.hub.task(task_id).status is TaskStatus.ACTIVE
    assert market.rlc.balance_of(alice) == RLC
    assert market.hub.balance_of(alice) == RLC  # deposited 6, 5 locked
    assert market.hub.locked_of(alice) == PRICE


@pytest.mark.parametrize(
    "change, error",
    [
        (dict(app_id=77), "UnknownApp"),
        (dict(pool_id=9), "UnknownPool"),
        (dict(category=5), "UnknownCategory"),
        (dict(max_price=PRICE - 1), "PriceAboveMax"),
    ],
)
def test_request_refusals(market, change, error):
    market.deposit(3, 10 * RLC)
    with pytest.raises(ContractRevert) as err:
        market.hub.request_task(market.sender(3), request(market, **change))
    assert err.value.name == error


def test_request_without_enough_escrow(market):
    market.deposit(3, RLC)
    with pytest.raises(ContractRevert) as err:
        market.hub.request_task(market.sender(3), request(market))
    assert err.value.name == "InsufficientBalance"
    assert "holds 1 RLC but 5 RLC is needed" in str(err.value)


def test_request_of_a_retired_app(market):
    market.deposit(3, 10 * RLC)
    market.hub.retire_app(market.owner, market.vanity)
    with pytest.raises(ContractRevert) as err:
        market.hub.request_task(market.sender(3), request(market))
    assert err.value.name == "AppIsRetired"


def test_finalize_pays_everyone_exactly(market):
    task_id = paid_task(market)
    w1, w2 = market.account(7).address, market.account(8).address
    market.hub.finalize(
        market.scheduler, task_id, result_digest(b"result"), b"result", [w1, w2], [1, 2]
    )
    share = RLC * 7000 // 10_000  # 0.7 RLC for the workers
    assert market.hub.balance_of(w1) == share * 1 // 3
    assert market.hub.balance_of(w2) == share * 2 // 3
    assert market.hub.balance_of(market.roles.deployer.address) == 4 * RLC
    paid_workers = share * 1 // 3 + share * 2 // 3
    assert market.hub.balance_of(market.roles.scheduler.address) == RLC - paid_workers
    assert market.hub.locked_of(market.account(3).address) == 0
    task = market.hub.task(task_id)
    assert task.status is TaskStatus.COMPLETED
    assert task.result_digest == result_digest(b"result") and task.results == b"result"


def test_finalize_without_workers_pays_the_pool_the_whole_fee(market):
    task_id = paid_task(market)
    market.hub.finalize(market.scheduler, task_id, DIGEST, b"", [], [])
    assert market.hub.balance_of(market.roles.scheduler.address) == RLC


def test_finalize_refusals(market):
    task_id = paid_task(market)
    w = market.account(7).address
    cases = [
        (market.sender(3), [w], [1], "NotScheduler"),
        (market.scheduler, [w], [1, 2], "WorkersWeightsMismatch"),
        (market.scheduler, [w], [0], "ZeroTotalWeight"),
        (market.scheduler, [ZERO_ADDRESS], [1], "ZeroAddressWorker"),
    ]
    for sender, workers, weights, error in cases:
        with pytest.raises(ContractRevert) as err:
            market.hub.finalize(sender, task_id, DIGEST, b"", workers, weights)
        assert err.value.name == error
    market.hub.finalize(market.scheduler, task_id, DIGEST, b"", [w], [1])
    with pytest.raises(ContractRevert) as err:
        market.hub.finalize(market.scheduler, task_id, DIGEST, b"", [w], [1])
    assert err.value.name == "TaskNotActive"
    assert "already COMPLETED" in str(err.value)
    with pytest.raises(ContractRevert) as err:
        market.hub.fail(market.scheduler, task_id, "too late")
    assert err.value.name == "TaskNotActive"
    with pytest.raises(ContractRevert) as err:
        market.hub.finalize(market.scheduler, b"\x42" * 32, DIGEST, b"", [], [])
    assert err.value.name == "UnknownTask"


def test_finalize_after_the_deadline_is_refused(market):
    task_id = paid_task(market)
    market.chain.advance_time(601)
    with pytest.raises(ContractRevert) as err:
        market.hub.finalize(market.scheduler, task_id, DIGEST, b"", [], [])
    assert err.value.name == "DeadlinePassed"
    assert "claim the refund" in str(err.value)


def test_fail_refunds_the_requester(market):
    alice = market.account(3).address
    task_id = paid_task(market)
    with pytest.raises(ContractRevert) as err:
        market.hub.fail(market.sender(3), task_id, "nope")
    assert err.value.name == "NotScheduler"
    result = market.hub.fail(market.scheduler, task_id, "invalid params: pattern")
    [event] = market.hub.events("TaskFailed", result.receipt)
    assert event["args"]["reason"] == "invalid params: pattern"
    assert market.hub.task(task_id).status is TaskStatus.FAILED
    assert market.hub.balance_of(alice) == PRICE and market.hub.locked_of(alice) == 0


def test_claim_only_after_the_final_deadline(market):
    alice = market.account(3).address
    task_id = paid_task(market)
    with pytest.raises(ContractRevert) as err:
        market.hub.claim(market.sender(9), task_id)
    assert err.value.name == "TooEarlyToClaim"
    market.chain.advance_time(600)
    result = market.hub.claim(market.sender(9), task_id)
    [event] = market.hub.events("TaskClaimed", result.receipt)
    assert event["args"]["claimer"] == market.account(9).address
    assert market.hub.task(task_id).status is TaskStatus.FAILED
    # The price comes back, with the pool owner's stake the task locked (not done in time).
    pool_lock = PRICE * 3_000 // 10_000
    assert market.hub.balance_of(alice) == PRICE + pool_lock
    [slashed] = market.hub.events("Slashed", result.receipt)
    assert slashed["args"]["account"] == market.roles.scheduler.address
    assert (slashed["args"]["amount"], slashed["args"]["to"]) == (pool_lock, alice)
    [credited] = market.hub.events("Rewarded", result.receipt)  # names the beneficiary first
    assert (credited["args"]["account"], credited["args"]["amount"]) == (alice, pool_lock)
    assert (credited["args"]["taskId"], credited["args"]["role"]) == (task_id, 3)
    with pytest.raises(ContractRevert) as err:
        market.hub.claim(market.sender(9), task_id)
    assert err.value.name == "TaskNotActive"


def test_callback_receives_the_result(market):
    task_id = paid_task(market, callback=market.requester.address)
    result = market.hub.finalize(
        market.scheduler, task_id, result_digest(b'{"a":1}'), b'{"a":1}', [], []
    )
    assert market.hub.events("CallbackDelivered", result.receipt)
    assert market.requester.has_result(task_id)
    assert market.requester.result_of(task_id) == b'{"a":1}'


@pytest.mark.parametrize("target", ["token", "eoa"])
def test_a_failing_callback_never_blocks_payment(market, target):
    callback = market.rlc.address if target == "token" else market.account(9).address
    task_id = paid_task(market, callback=callback)
    result = market.hub.finalize(market.scheduler, task_id, result_digest(b"r"), b"r", [], [])
    assert market.hub.events("CallbackFailed", result.receipt)
    assert market.hub.task(task_id).status is TaskStatus.COMPLETED
    assert market.hub.balance_of(market.roles.deployer.address) == 4 * RLC


def test_a_scheduler_cannot_starve_the_callback(market):
    task_id = paid_task(market, callback=market.requester.address)
    fn = market.hub.contract.functions.finalize(task_id, result_digest(b"r"), b"r", [], [], [])
    scheduler = market.roles.scheduler.address
    enough = fn.estimate_gas({"from": scheduler})
    outcome = None
    for gas in range(enough, 60_000, -2_000):
        try:
            fn.call({"from": scheduler, "gas": gas})
        except Exception as exc:
            from deskgrid.chain.reverts import explain

            outcome = explain(exc)
            break
    assert isinstance(outcome, ContractRevert)
    assert outcome.name == "NotEnoughGasForCallback"


def test_one_call_reads_a_tasks_events_in_chain_order(market):
    start = market.chain.block_number()
    done, refused = paid_task(market), paid_task(market, who=4)
    market.hub.finalize(market.scheduler, done, result_digest(b"result"), b"result", [], [])
    market.hub.fail(market.scheduler, refused, "invalid params: pattern")
    names = ("TaskRequested", "TaskFinalized", "TaskFailed", "TaskClaimed")
    events = market.hub.task_logs(done, names, start)
    assert [e["event"] for e in events] == ["TaskRequested", "TaskFinalized"]
    assert events[0]["args"]["price"] == PRICE and events[1]["args"]["results"] == b"result"
    [requested, failed] = market.hub.task_logs(refused, names, start)
    assert failed["args"]["reason"] == "invalid params: pattern"
    assert market.hub.task_logs(refused, ("TaskFinalized",), start) == []

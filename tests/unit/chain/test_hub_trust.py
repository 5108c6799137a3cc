"""Trust levels on the hub: the price of each level, a level the hub refuses, the level in the
task and its `TaskRequested` event, the VanityRequester's level 1, and a refund of the whole
price paid at a higher level."""

import pytest

from deskgrid.chain.contracts import TaskRequest, TaskStatus
from deskgrid.chain.reverts import ContractRevert
from deskgrid.chain.trust import InvalidTrustLevel, task_price

from .conftest import RLC

APP_PRICE, POOL_FEE = 4 * RLC, RLC  # the test listings: vanity 4 RLC, pool fee 1 RLC


def refused(name: str, action) -> ContractRevert:
    with pytest.raises(ContractRevert) as err:
        action()
    assert err.value.name == name, str(err.value)
    return err.value


def request(market, trust: int, max_price: int | None = None) -> TaskRequest:
    price = task_price(APP_PRICE, POOL_FEE, trust) if max_price is None else max_price
    return TaskRequest(market.vanity, market.pool, '{"pattern":"1A"}', price, trust=trust)


def paid_task(market, trust: int, who: int = 3) -> bytes:
    req = request(market, trust)
    market.fund(who, req.max_price)
    return market.hub.pay_and_request(market.sender(who), market.rlc, req)


@pytest.mark.parametrize("trust", [1, 2, 3, 4, 5])
def test_each_level_costs_the_app_plus_that_many_pool_fees(market, trust):
    price = APP_PRICE + trust * POOL_FEE
    assert market.hub.price_of(market.vanity, market.pool, trust) == price
    assert task_price(APP_PRICE, POOL_FEE, trust) == price
    alice = market.account(3).address
    task_id = paid_task(market, trust)
    task = market.hub.task(task_id)
    assert task.trust == trust and task.price == price and task.pool_fee == trust * POOL_FEE
    assert market.hub.locked_of(alice) == price
    # every replica's stake is 30 % of what the requester paid for the level
    assert market.hub.contribution_stake(task_id) == price * 3 // 10


def test_the_price_of_a_higher_level_is_checked_against_the_maximum(market):
    market.deposit(3, 10 * RLC)
    too_low = request(market, 3, max_price=task_price(APP_PRICE, POOL_FEE, 2))
    err = refused("PriceAboveMax", lambda: market.hub.request_task(market.sender(3), too_low))
    assert err.args_by_name["price"] == 7 * RLC


@pytest.mark.parametrize("trust", [0, 6, 255])
def test_a_level_outside_one_to_five_is_refused_by_the_hub(market, trust):
    market.deposit(3, 10 * RLC)
    call = market.hub.contract.functions.requestTask(
        market.vanity, market.pool, "{}", 10 * RLC, 0, market.requester.address,
        market.account(3).address, trust,
    )  # fmt: skip
    err = refused("InvalidTrust", lambda: market.sender(3).send(call))
    assert "choose a level from 1 to 5" in str(err)
    refused("InvalidTrust", lambda: market.hub._call("priceOf", market.vanity, market.pool, trust))
    assert market.hub.balance_of(market.account(3).address) == 10 * RLC  # nothing locked


@pytest.mark.parametrize("trust", [0, 6, True, 2.0])
def test_a_bad_level_is_refused_before_anything_is_sent(market, trust):
    with pytest.raises(InvalidTrustLevel, match="from 1 to 5"):
        TaskRequest(market.vanity, market.pool, "{}", 10 * RLC, trust=trust)
    with pytest.raises(InvalidTrustLevel):
        task_price(APP_PRICE, POOL_FEE, trust)
    with pytest.raises(InvalidTrustLevel):
        market.hub.price_of(market.vanity, market.pool, trust)


def test_the_event_names_the_level(market):
    task_id = paid_task(market, 4)
    [event] = market.hub.logs("TaskRequested", 0)
    assert bytes(event["args"]["taskId"]) == task_id
    assert event["args"]["trust"] == 4 and event["args"]["price"] == 8 * RLC


def test_the_vanity_requester_asks_for_level_one(market):
    price = market.hub.price_of(market.vanity, market.pool, 1)
    market.fund(3, price + 3 * RLC)
    task_id = market.requester.request(market.sender(3), market.rlc, "{}", price + 3 * RLC)
    task = market.hub.task(task_id)
    assert task.trust == 1 and task.price == price == 5 * RLC
    assert market.requester.request_of(task_id).amount == price
    [event] = market.hub.logs("TaskRequested", 0)
    assert event["args"]["trust"] == 1


def test_a_failed_level_three_task_refunds_its_whole_price(market):
    alice = market.account(3).address
    task_id = paid_task(market, 3)
    assert market.hub.balance_of(alice) == 0 and market.hub.locked_of(alice) == 7 * RLC
    market.hub.fail(market.scheduler, task_id, "no agreement")
    assert market.hub.task_status(task_id) is TaskStatus.FAILED
    assert market.hub.balance_of(alice) == 7 * RLC and market.hub.locked_of(alice) == 0


def test_a_claimed_level_three_task_refunds_its_whole_price(market):
    alice = market.account(3).address
    task_id = paid_task(market, 3)
    pool_owner = market.hub.pool(market.pool).owner
    stake_before = market.hub.stake_of(pool_owner)
    market.chain.advance_time(10 * 60 + 1)  # category 0: final deadline 10 minutes
    market.hub.claim(market.sender(4), task_id)
    # the price back, and the pool owner's stake the level's price locked (30 %) on top
    assert market.hub.balance_of(alice) == 7 * RLC + 7 * RLC * 3 // 10
    assert market.hub.stake_of(pool_owner) == stake_before - 7 * RLC * 3 // 10


def test_a_finalized_level_three_task_pays_three_pool_fees(market):
    task_id = paid_task(market, 3)
    worker = market.account(5).address
    app_owner = market.hub.app(market.vanity).owner
    pool_owner = market.hub.pool(market.pool).owner
    before = {a: market.hub.balance_of(a) for a in (worker, app_owner, pool_owner)}
    digest = b"\x11" * 32
    market.hub.finalize(market.scheduler, task_id, digest, b"", [worker], [1])
    share = market.hub.pool(market.pool).worker_share_bps
    paid = {a: market.hub.balance_of(a) - before[a] for a in before}
    assert paid[worker] == 3 * POOL_FEE * share // 10_000
    if app_owner != pool_owner:
        assert paid[app_owner] == APP_PRICE
        assert paid[pool_owner] == 3 * POOL_FEE - paid[worker]
    else:
        assert paid[app_owner] == APP_PRICE + 3 * POOL_FEE - paid[worker]

"""A vanity order at a trust level, on the embedded chain: its quote and its payment are priced
at that level, and the task on the hub carries it."""

from __future__ import annotations

import pytest

from deskgrid.chain.trust import InvalidTrustLevel
from deskgrid.errors import DeskGridError
from deskgrid.node.requester import VanityOrder, VanityRun
from tests.unit.chain.conftest import RLC


def vanity_run(market) -> VanityRun:
    return VanityRun(
        market.chain,
        market.hub,
        market.rlc,
        market.sender(3),
        app_id=market.vanity,
        pool_id=market.pool,
        callback=market.requester.address,
    )


def test_the_quote_and_the_payment_are_at_the_order_s_level(market):
    market.fund(3, 20 * RLC)
    run = vanity_run(market)
    order = VanityOrder(["1A"], trust=3)
    quote = run.quote(order)
    assert quote.price == 7 * RLC == market.hub.price_of(market.vanity, market.pool, 3)
    assert quote.breakdown() == ("4 RLC for the app + 3 x 1 RLC pool fee (trust level 3, high)")
    task_id = run.pay(order)
    task = market.hub.task(task_id)
    assert task.trust == 3 and task.price == run.price == 7 * RLC
    assert market.rlc.balance_of(market.account(3).address) == 13 * RLC


def test_an_order_defaults_to_level_one_and_refuses_a_bad_level(market):
    market.fund(3, 5 * RLC)
    run = vanity_run(market)
    order = VanityOrder(["1A"])
    assert run.quote(order).price == 5 * RLC
    assert market.hub.task(run.pay(order)).trust == 1
    with pytest.raises(InvalidTrustLevel, match="from 1 to 5"):
        VanityOrder(["1A"], trust=9)


def test_a_wallet_short_of_the_level_s_price_is_told_before_paying(market):
    market.fund(3, 6 * RLC)  # enough for level 2 (6 RLC), not for level 3 (7 RLC)
    with pytest.raises(DeskGridError, match="costs 7 RLC and this wallet holds 6 RLC"):
        vanity_run(market).quote(VanityOrder(["1A"], trust=3))

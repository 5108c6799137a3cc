"""The follower on a real embedded chain: confirmations, duplicates, other pools, restarts,
and a reorg deeper than the confirmations."""

from deskgrid.chain.contracts import TaskRequest
from deskgrid.oracle.follower import ChainFollower
from deskgrid.oracle.store import OracleStore, OracleTaskState
from tests.unit.chain.conftest import RLC

PRICE = 5 * RLC


def request(market, who=3, pool=None, params="{}", trust=1):
    market.fund(who, PRICE + 2 * RLC)
    req = TaskRequest(market.vanity, pool or market.pool, params, PRICE + 2 * RLC, trust=trust)
    return "0x" + market.hub.pay_and_request(market.sender(who), market.rlc, req).hex()


def follower(market, store, confirmations=0):
    return ChainFollower(
        market.chain,
        market.hub,
        store,
        pool_id=market.pool,
        confirmations=confirmations,
        start_block=market.deployment.block,
    )


def test_records_each_request_once(market, tmp_path):
    store = OracleStore(tmp_path / "oracle.sqlite")
    f = follower(market, store)
    first = request(market, params='{"patterns":["1A"]}')
    assert f.poll() == [first]
    assert f.poll() == []
    task = store.task(first)
    assert task.state is OracleTaskState.NEW
    assert task.params == '{"patterns":["1A"]}' and task.price == PRICE
    assert task.requester == market.account(3).address
    # a restarted follower (new object, same store) does not see it again
    second = request(market, who=4)
    assert follower(market, OracleStore(tmp_path / "oracle.sqlite")).poll() == [second]
    kinds = [e["kind"] for e in store.events(first)]
    assert kinds == ["requested"]


def test_records_the_trust_level_paid_for(market, tmp_path):
    store = OracleStore(tmp_path / "oracle.sqlite")
    f = follower(market, store)
    verified, high = request(market), request(market, who=4, trust=3)
    assert f.poll() == [verified, high]
    assert store.task(verified).trust == 1
    assert store.task(high).trust == 3 and store.task(high).price == 4 * RLC + 3 * RLC
    [requested] = store.events(high)
    assert requested["kind"] == "requested" and requested["trust"] == 3


def test_waits_for_confirmations(market, tmp_path):
    store = OracleStore(tmp_path / "oracle.sqlite")
    f = follower(market, store, confirmations=2)
    task = request(market)
    assert f.poll() == []
    market.chain.advance_time(1)  # mines one block
    assert f.poll() == []
    market.chain.advance_time(1)
    assert f.poll() == [task]


def test_ignores_other_pools(market, tmp_path):
    store = OracleStore(tmp_path / "oracle.sqlite")
    other = market.hub.register_pool(market.sender(6), "elsewhere", RLC, 0)
    request(market, pool=other)
    assert follower(market, store).poll() == []


def test_reorg_is_detected_and_tasks_are_read_again(market, tmp_path):
    store = OracleStore(tmp_path / "oracle.sqlite")
    f = follower(market, store)
    snapshot = market.chain.snapshot()
    lost = request(market)
    assert f.poll() == [lost]
    market.chain.revert(snapshot)  # the block with that request is gone
    for sender in market._senders.values():
        sender.resync_nonce()
    market.chain.advance_time(5)
    replaced = request(market, who=4)
    market.chain.advance_time(5)
    assert f.poll() == [replaced]
    assert len(f.reorgs) == 1
    assert "reorganised deeper than the confirmations" in f.reorgs[0].sentence()
    assert store.task(lost) is None

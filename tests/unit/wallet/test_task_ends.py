"""The wallet's ended tasks on the embedded chain: finalized, failed and claimed tasks of the
wallet's address become one TaskEnded each; tasks of others and tasks that ended before the
watcher started are not announced; a restart does not repeat one; the follower publishes them
on the bus on a new block."""

from __future__ import annotations

import asyncio

from eth_account import Account

from deskgrid.chain.contracts import TaskRequest, VanityRequesterContract, result_digest
from deskgrid.chain.deployment import Roles
from deskgrid.chain.transactions import TxSender
from deskgrid.desktop.events import EventBus, NewBlock, TaskEnded
from deskgrid.desktop.follower import WalletFollower
from deskgrid.desktop.task_ends import TaskEndWatcher, announced_path
from deskgrid.money import parse_rlc
from deskgrid.wallet.service import WalletService

DIGEST = b"\x11" * 32


def _request(service: WalletService, market) -> bytes:
    _, deployment = market
    request = TaskRequest(
        deployment.apps["vanity"], deployment.pool_id, '{"pattern":"1A"}', parse_rlc("10")
    )
    return service.hub.pay_and_request(service.sender, service.rlc, request)


def _scheduler(service: WalletService) -> TxSender:
    return TxSender(service.chain, Roles.dev(service.chain).scheduler)


def _watcher(service: WalletService, **kw) -> TaskEndWatcher:
    return TaskEndWatcher(
        service.chain,
        service.hub,
        service.address,
        announced=announced_path(service.history),
        **kw,
    )


def test_each_ended_task_of_the_wallet_is_announced_once(wallet, market):
    chain, _ = market
    scheduler = _scheduler(wallet)
    before = _request(wallet, market)
    wallet.hub.finalize(scheduler, before, DIGEST, b"", [], [])
    start = chain.block_number()
    watcher = _watcher(wallet)
    assert watcher.scan() == []  # ended before the watcher started

    done = _request(wallet, market)
    failed = _request(wallet, market)
    wallet.hub.finalize(scheduler, done, result_digest(b"r"), b"r", [], [])
    wallet.hub.fail(scheduler, failed, "invalid params: pattern.")
    other = WalletService(chain, market[1], Account.create())
    other.faucet()
    theirs = _request(other, market)
    wallet.hub.finalize(scheduler, theirs, DIGEST, b"", [], [])

    ended = watcher.scan()
    assert [(e.task_id, e.outcome) for e in ended] == [
        ("0x" + done.hex(), "finalized"),
        ("0x" + failed.hex(), "failed"),
    ]
    first, second = ended
    assert first.requester == wallet.address and first.app == "VanityGen"
    assert first.price == parse_rlc("5")  # app price 4 RLC + pool fee 1 RLC
    assert first.title == "Job done"
    assert first.message == f"Your VanityGen task 0x{done.hex()[:8]}… is done."
    assert second.message == (
        f"Your VanityGen task 0x{failed.hex()[:8]}… failed: invalid params: pattern; "
        "its 5 RLC went back to your escrow."
    )
    assert watcher.scan() == []

    # a restart that reads the same blocks again announces nothing twice
    assert _watcher(wallet, start_block=start + 1).scan() == []

    late = _request(wallet, market)
    chain.advance_time(11 * 60)  # past XS's final deadline (10 × 60 s)
    wallet.hub.claim(TxSender(chain, chain.dev_accounts[9]), late)
    (claimed,) = watcher.scan()
    assert claimed.outcome == "claimed" and claimed.title == "Job refunded"
    assert "was not done before its deadline; its 5 RLC went back" in claimed.message


def test_a_task_paid_through_the_vanity_requester_is_announced_to_its_payer(wallet, market):
    chain, deployment = market
    requester = VanityRequesterContract(chain, deployment.vanity_requester)
    start = chain.block_number() + 1
    watcher = _watcher(wallet, requester=requester)
    other = WalletService(chain, deployment, Account.create())
    other.faucet()
    mine = requester.request(wallet.sender, wallet.rlc, '{"pattern":"1A"}', parse_rlc("10"))
    theirs = requester.request(other.sender, other.rlc, '{"pattern":"1A"}', parse_rlc("10"))
    for task in (mine, theirs):
        wallet.hub.fail(_scheduler(wallet), task, "the grid gave up")
    (ended,) = watcher.scan()  # the other payer's task is not this wallet's
    assert ended.task_id == "0x" + mine.hex() and ended.through_requester
    assert ended.requester == wallet.address and ended.outcome == "failed"
    assert ended.message == (
        f"Your VanityGen task 0x{mine.hex()[:8]}… failed: the grid gave up; the "
        "VanityRequester keeps its 5 RLC for you: claim it in the Jobs pane."
    )

    # read again without the announced list: without the contract, only tasks whose hub
    # requester is the wallet are announced
    def again(**kw) -> TaskEndWatcher:
        return TaskEndWatcher(wallet.chain, wallet.hub, wallet.address, start_block=start, **kw)

    assert again().scan() == []
    assert [e.task_id for e in again(requester=requester).scan()] == ["0x" + mine.hex()]


async def test_the_follower_publishes_task_ended_on_a_new_block(wallet, market):
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(seen.append)
    follower = WalletFollower(bus, lambda: wallet)
    bus.publish(NewBlock(wallet.chain.block_number()))
    await _until(lambda: follower._watcher is not None)  # the watcher starts at the head

    task = await asyncio.to_thread(_request, wallet, market)
    await asyncio.to_thread(wallet.hub.finalize, _scheduler(wallet), task, DIGEST, b"", [], [])
    for _ in range(3):  # more blocks do not repeat it
        bus.publish(NewBlock(wallet.chain.block_number()))
        await _until(lambda: follower._task is None or follower._task.done())
    ended = [e for e in seen if isinstance(e, TaskEnded)]
    assert [e.task_id for e in ended] == ["0x" + task.hex()]
    await follower.close()


async def _until(condition, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)

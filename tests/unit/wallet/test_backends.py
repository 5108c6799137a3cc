"""The demo backend boots an embedded chain with a funded demo wallet; the session switches,
locks and unlocks wallets on it; the block watcher publishes new blocks."""

import asyncio

import pytest
from eth_account import Account

from deskgrid.chain.faucet import FAUCET_RLC
from deskgrid.chain.reverts import ChainError
from deskgrid.desktop.backend import Backend
from deskgrid.desktop.demo import DemoBackend
from deskgrid.desktop.events import BootProgress, EventBus, HistoryChanged, NewBlock, WalletChanged
from deskgrid.desktop.network import NetworkBackend
from deskgrid.desktop.session import WalletSession
from deskgrid.desktop.settings import SettingsStore
from deskgrid.desktop.watcher import BlockWatcher
from deskgrid.wallet.history import network_folder
from deskgrid.wallet.manager import WalletManager


@pytest.fixture
async def demo():
    bus = EventBus()
    events = []
    bus.subscribe(events.append)
    backend = DemoBackend(bus)
    await backend.start()
    yield backend, bus, events
    await backend.stop()


async def test_demo_boots_with_progress_and_a_funded_wallet(demo):
    backend, _bus, events = demo
    assert isinstance(backend, Backend)
    steps = [e for e in events if isinstance(e, BootProgress)]
    assert steps[0].fraction < steps[-1].fraction == 1.0
    balances = await asyncio.to_thread(backend.demo_service().balances)
    assert balances.rlc == FAUCET_RLC and balances.eth > 0


async def test_earlier_demo_histories_are_forgotten(demo):
    backend, _bus, _events = demo
    stale = network_folder(backend.chain.chain_id, "0x" + "ab" * 32)
    stale.mkdir(parents=True)
    second = DemoBackend(fund_demo_wallet=False)
    await second.start()
    assert not stale.exists()
    await second.stop()


async def test_session_select_lock_unlock(demo):
    backend, bus, events = demo
    session = WalletSession(WalletManager(SettingsStore()), backend, bus)
    session.open_default()
    assert session.is_demo_wallet and session.service is not None
    account = Account.create()
    await asyncio.to_thread(session.add, "Mine", account)
    assert session.address == account.address and not session.locked
    assert [c.name for c in session.choices()] == ["Demo wallet", "Mine"]
    session.lock()
    assert session.locked and session.service is None
    session.unlock()
    assert session.service.address == account.address
    await asyncio.to_thread(session.service.faucet)
    assert any(isinstance(e, HistoryChanged) for e in events)
    assert any(isinstance(e, WalletChanged) and e.address == account.address for e in events)
    session.select(backend.demo_account.address)
    assert session.is_demo_wallet
    session.lock()  # the demo wallet has no stored key to lock away
    assert not session.locked


async def test_block_watcher_publishes_new_blocks(demo):
    backend, bus, events = demo
    watcher = BlockWatcher(backend.chain, bus, interval=0.01)
    first = await watcher.poll()
    await asyncio.to_thread(backend.demo_service().send_rlc, Account.create().address, 1)
    watcher.start()
    for _ in range(200):
        blocks = [e.number for e in events if isinstance(e, NewBlock)]
        if blocks and blocks[-1] > first:
            break
        await asyncio.sleep(0.01)
    await watcher.stop()
    assert blocks[0] == first and blocks[-1] > first


async def test_network_backend_says_when_nothing_answers():
    backend = NetworkBackend("http://127.0.0.1:9", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    with pytest.raises(ChainError, match="Cannot reach the chain"):
        await backend.start()

"""GUI fixtures: one qasync loop for the session (running only during each GUI test), a
keyring per test (never the real one), one embedded chain reverted to a fresh snapshot for
every demo boot, and a main window with its controller."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import qasync

from deskgrid.chain.connection import connect
from deskgrid.desktop.demo import DemoBackend
from deskgrid.desktop.settings import SettingsStore
from deskgrid.ui.controller import AppController
from deskgrid.ui.gc_guard import MainThreadCollector
from deskgrid.ui.main_window import MainWindow
from tests.memory_keyring import MemoryKeyring, memory_keyring_in_use

BOOT_TIMEOUT_MS = 20_000
TX_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def _qasync_loop(qapp):
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(None)
    collector = MainThreadCollector()  # as the app does: Qt objects are freed on this thread
    yield loop
    collector.stop()
    asyncio.events._set_running_loop(loop)
    loop.stop()
    loop.close()
    asyncio.events._set_running_loop(None)


@pytest.fixture(autouse=True)
def aio(qtbot, _qasync_loop):
    """The Qt event loop doubles as the asyncio loop while the test processes events; tasks
    a test leaves behind are cancelled before the next test starts."""
    asyncio.events._set_running_loop(_qasync_loop)
    yield _qasync_loop
    pending = [task for task in asyncio.all_tasks(_qasync_loop) if not task.done()]
    for task in pending:
        task.cancel()
    qtbot.waitUntil(lambda: all(task.done() for task in pending), timeout=5000)
    asyncio.events._set_running_loop(None)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    with memory_keyring_in_use() as backend:
        yield backend


@pytest.fixture(scope="session")
def _embedded_chain():
    chain = connect("embedded")
    snapshot = chain.snapshot()
    yield chain, snapshot
    chain.close()


@pytest.fixture
def demo_factory(_embedded_chain):
    """A backend factory: the demo on the shared embedded chain, reset to its genesis state."""
    chain, snapshot = _embedded_chain

    def fresh_chain():
        chain.revert(snapshot)
        return chain

    def factory(settings, bus):
        if settings.network_mode == "demo":
            return DemoBackend(bus, chain_factory=fresh_chain)
        from deskgrid.ui.controller import default_backend

        return default_backend(settings, bus)

    return factory


def run_async(qtbot, coro, timeout: int = TX_TIMEOUT_MS):
    """Run a coroutine on the GUI loop and wait for it, processing Qt events."""
    task = asyncio.ensure_future(coro)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


@pytest.fixture
def make_window(qtbot, demo_factory):
    made: list[MainWindow] = []

    def make(*, first_run_done: bool = True, block_interval: float = 0.1) -> MainWindow:
        settings = SettingsStore()
        if first_run_done:
            settings.update(first_run_done=True, network_mode="demo")
        controller = AppController(
            settings, backend_factory=demo_factory, block_interval=block_interval
        )
        window = MainWindow(controller)
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        run_async(qtbot, window.controller.shutdown())


@pytest.fixture
def booted(qtbot, make_window):
    """A main window whose demo has booted, showing the wallet pane."""
    window = make_window()
    with qtbot.waitSignal(window.controller.booted, timeout=BOOT_TIMEOUT_MS):
        window.start()
    pane = window.panes["wallet"]
    qtbot.waitUntil(lambda: pane.balances is not None, timeout=TX_TIMEOUT_MS)
    return window

"""GUI fixtures: one qasync loop for the session (running only during each GUI test), a
keyring per test (never the real one), one embedded chain reverted to a fresh snapshot for
every demo boot, a main window with its controller, and one on the local node (its own
process: chain, grid, oracle, workers) with the Jobs pane and a helper that pays a task."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import qasync
from PySide6.QtCore import Qt

from deskgrid.chain.connection import connect
from deskgrid.desktop.demo import DemoBackend
from deskgrid.desktop.node_backend import NodeBackend
from deskgrid.desktop.settings import SettingsStore
from deskgrid.ui.controller import AppController
from deskgrid.ui.gc_guard import MainThreadCollector
from deskgrid.ui.main_window import MainWindow
from tests.memory_keyring import MemoryKeyring, memory_keyring_in_use

if TYPE_CHECKING:
    from deskgrid.ui.jobs_pane import JobsPane

BOOT_TIMEOUT_MS = 20_000
TX_TIMEOUT_MS = 10_000
NODE_BOOT_TIMEOUT_MS = 60_000
JOB_TIMEOUT_MS = 90_000


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


@pytest.fixture
def make_node_window(qtbot):
    """Main windows on the local node: `make(workers, oracle)` boots one."""
    made: list[MainWindow] = []

    def make(workers: int = 1, oracle: bool = True) -> MainWindow:
        settings = SettingsStore()
        settings.update(first_run_done=True, network_mode="demo")
        controller = AppController(
            settings,
            backend_factory=lambda _s, bus: NodeBackend(bus, workers=workers, oracle=oracle),
            block_interval=0.2,
        )
        window = MainWindow(controller)
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        window.steps = []
        controller.bridge.boot_progress.connect(lambda _step, f: window.steps.append(f))
        with qtbot.waitSignal(controller.booted, timeout=NODE_BOOT_TIMEOUT_MS):
            window.start()
        return window

    yield make
    for window in made:
        run_async(qtbot, window.controller.shutdown(), timeout=60_000)
        assert window.controller.backend is None


@pytest.fixture
def node_window(make_node_window):
    return make_node_window()


def ready_pane(qtbot, window: MainWindow) -> JobsPane:
    """The window's Jobs pane, shown, once it has read the app catalog."""
    window.show_pane("jobs")
    pane: JobsPane = window.panes["jobs"]
    qtbot.waitUntil(lambda: pane.current_app() is not None, timeout=10_000)
    return pane


def pay(qtbot, pane: JobsPane, pattern: str) -> None:
    """Run a VanityGen task for `pattern` through the review; returns once it is paid for."""
    pane.form.patterns_edit.setText(pattern)
    qtbot.waitUntil(pane.run_button.isEnabled, timeout=5000)
    before = len(pane.my_jobs.jobs)
    review = pane.review
    qtbot.mouseClick(pane.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.review is not review and pane.review.isVisible(), timeout=10_000)
    pane.review.pay_button.click()
    qtbot.waitUntil(
        lambda: len(pane.my_jobs.jobs) > before and pane.my_jobs.jobs[0].task_id is not None,
        timeout=JOB_TIMEOUT_MS,
    )

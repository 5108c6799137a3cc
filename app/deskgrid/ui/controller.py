"""Composes the core for the window: settings, the backend (demo or network), the wallet
session and the block watcher; boots and reboots them off the GUI thread.

The chain libraries (web3, eth-account) load only when the boot starts, after the window is
shown: nothing here imports them at module level."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from deskgrid.desktop.events import EventBus
from deskgrid.desktop.settings import Settings, SettingsStore
from deskgrid.ui.bridge import QtEventBridge
from deskgrid.ui.network_form import NetworkChoice
from deskgrid.ui.tasks import quitting, spawn

if TYPE_CHECKING:
    from deskgrid.desktop.backend import Backend
    from deskgrid.desktop.session import WalletSession
    from deskgrid.desktop.watcher import BlockWatcher
    from deskgrid.wallet.manager import WalletManager
    from deskgrid.worker.donation import Donation

log = logging.getLogger(__name__)

BackendFactory = Callable[[Settings, EventBus], "Backend"]


def default_backend(settings: Settings, bus: EventBus) -> Backend:
    """The demo (the local node: chain, grid, oracle, one worker) or a network."""
    if settings.network_mode == "network":
        from deskgrid.desktop.network import NetworkBackend

        return NetworkBackend(settings.rpc_url, settings.hub_address, settings.grid_url, bus)
    from deskgrid.desktop.node_backend import NodeBackend

    return NodeBackend(bus)


class AppController(QObject):
    booting = Signal()
    booted = Signal()
    boot_failed = Signal(str)

    def __init__(
        self,
        settings: SettingsStore,
        *,
        backend_factory: BackendFactory = default_backend,
        manager: WalletManager | None = None,
        block_interval: float = 1.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.backend_factory = backend_factory
        self.block_interval = block_interval
        self.bus = EventBus()
        self.bridge = QtEventBridge(self.bus, self)
        # a transaction of ours was recorded: it is in a new block, so read the head now
        # rather than at the next poll (the status bar and the panes follow it)
        self.bridge.history_changed.connect(self._history_changed)
        self._manager = manager
        self.backend: Backend | None = None
        self.session: WalletSession | None = None
        self.watcher: BlockWatcher | None = None
        self.ready = False

    @property
    def manager(self) -> WalletManager:
        """The wallet manager, made on first use (it loads the key libraries)."""
        if self._manager is None:
            from deskgrid.wallet.manager import WalletManager

            self._manager = WalletManager(self.settings)
        return self._manager

    @property
    def needs_first_run(self) -> bool:
        return not self.settings.settings.first_run_done

    def describe_network(self) -> str:
        s = self.settings.settings
        if s.network_mode == "demo":
            return "Offline demo · embedded chain"
        return f"Network · {s.rpc_url}"

    def start(self) -> None:
        """Boot (or reboot) in the background; `booted` or `boot_failed` follows."""
        self.ready = False
        self.booting.emit()
        spawn(self._boot(), self._failed)

    def apply_network(self, choice: NetworkChoice) -> None:
        self.settings.update(
            network_mode=choice.mode,
            rpc_url=choice.rpc_url,
            hub_address=choice.hub_address,
            grid_url=choice.grid_url,
            first_run_done=True,
        )
        self.start()

    async def _boot(self) -> None:
        await self._stop_backend()
        backend = self.backend_factory(self.settings.settings, self.bus)
        self.backend = backend
        # The chain libraries load in a thread while the backend starts (the local node's
        # process boots meanwhile): the window keeps painting.
        core = asyncio.ensure_future(asyncio.to_thread(_load_core))
        await backend.start()
        await core
        from deskgrid.desktop.session import WalletSession
        from deskgrid.desktop.watcher import BlockWatcher

        if self.session is None:
            self.session = WalletSession(
                self.manager,
                backend,
                self.bus,
                confirmations=lambda: self.settings.settings.confirmations,
            )
        else:
            self.session.backend = backend
        self.session.open_default()
        assert backend.chain is not None
        self.watcher = BlockWatcher(backend.chain, self.bus, interval=self.block_interval)
        self.watcher.start()
        self.ready = True
        self.booted.emit()

    def _history_changed(self, _address: str) -> None:
        if self.watcher is not None:
            spawn(self.watcher.poll())

    def _failed(self, sentence: str) -> None:
        spawn(self._stop_backend())
        self.boot_failed.emit(sentence)

    async def _stop_backend(self) -> None:
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None
        if self.backend is not None:
            backend, self.backend = self.backend, None
            await backend.stop()

    async def shutdown(self) -> None:
        """Stop everything and drop unlocked keys from memory."""
        self.ready = False
        if self.session is not None:
            await self.session.follower.close()  # its pass must not outlive the chain
        await self._stop_backend()
        if self._manager is not None:
            self._manager.lock()
        self.bridge.close()


async def close_down(controller: AppController, donation: Donation | None = None) -> None:
    """Quitting the app: the GUI's tasks still running are cancelled first (an unfinished job
    is kept by the requester journal and resumed at the next start), then the donation and
    the backend stop."""
    with quitting() as cancelled:
        if cancelled:
            log.info("quitting: %d task(s) of the window cancelled", cancelled)
        if donation is not None:
            await donation.stop()
        await controller.shutdown()


def _load_core() -> None:
    """Import what a boot and the panes need (web3, eth-account, the wallet, the pane
    modules) ahead of using them, so the GUI thread does not import them when it builds."""
    import importlib

    for name in (
        "deskgrid.wallet.manager",
        "deskgrid.desktop.session",
        "deskgrid.desktop.watcher",
        "deskgrid.desktop.jobs_market",
        "deskgrid.chain.contracts",
        "deskgrid.grid.client",
        "deskgrid.node.requester",
        "deskgrid.ui.wallet_pane",
        "deskgrid.ui.jobs_pane",
        "deskgrid.ui.volunteer_pane",
        "deskgrid.ui.settings_pane",
    ):
        importlib.import_module(name)

"""Composes the core for the window: settings, the backend (demo or network), the wallet
session and the block watcher; boots and reboots them off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from deskgrid.settings import Settings, SettingsStore
from deskgrid.ui.bridge import QtEventBridge
from deskgrid.ui.network_form import NetworkChoice
from deskgrid.ui.tasks import spawn
from deskgrid.wallet.backend import Backend
from deskgrid.wallet.events import EventBus
from deskgrid.wallet.manager import WalletManager
from deskgrid.wallet.network import NetworkBackend
from deskgrid.wallet.session import WalletSession
from deskgrid.wallet.watcher import BlockWatcher

BackendFactory = Callable[[Settings, EventBus], Backend]


def default_backend(settings: Settings, bus: EventBus) -> Backend:
    """The demo (the local node: chain, grid, oracle, one worker) or a network."""
    if settings.network_mode == "network":
        return NetworkBackend(settings.rpc_url, settings.hub_address, settings.grid_url, bus)
    from deskgrid.wallet.node_backend import NodeBackend

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
        self.manager = manager or WalletManager(settings)
        self.backend: Backend | None = None
        self.session: WalletSession | None = None
        self.watcher: BlockWatcher | None = None
        self.ready = False

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
        await backend.start()
        if self.session is None:
            self.session = WalletSession(self.manager, backend, self.bus)
        else:
            self.session.backend = backend
        self.session.open_default()
        assert backend.chain is not None
        self.watcher = BlockWatcher(backend.chain, self.bus, interval=self.block_interval)
        self.watcher.start()
        self.ready = True
        self.booted.emit()

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
        await self._stop_backend()
        self.manager.lock()
        self.bridge.close()

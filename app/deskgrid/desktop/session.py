"""The wallet the app is showing: which one is selected, whether it is unlocked, its
`WalletService` on the running backend when it is, and a `WalletReader` (balances, history)
either way. Qt-free; the UI listens to its events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from deskgrid.desktop.backend import Backend
from deskgrid.desktop.demo import DEMO_WALLET_NAME
from deskgrid.desktop.events import EventBus, HistoryChanged, WalletChanged
from deskgrid.desktop.follower import WalletFollower
from deskgrid.errors import DeskGridError
from deskgrid.wallet.history import TxHistory
from deskgrid.wallet.manager import WalletManager
from deskgrid.wallet.service import WalletReader, WalletService


@dataclass(frozen=True)
class WalletChoice:
    name: str
    address: str
    unlocked: bool
    demo: bool = False


class WalletSession:
    def __init__(
        self,
        manager: WalletManager,
        backend: Backend,
        bus: EventBus,
        confirmations: Callable[[], int] = lambda: 1,
    ) -> None:
        """`confirmations` gives the blocks that must follow a transaction before the history
        calls it confirmed (the setting; read when a wallet opens)."""
        self.manager = manager
        self.confirmations = confirmations
        self.backend = backend
        self.bus = bus
        self.address: str | None = None
        self.service: WalletService | None = None
        self._reader: WalletReader | None = None  # the locked wallet's, made on first use
        # on every new block: received transfers into the history, ended tasks announced
        self.follower = WalletFollower(
            bus,
            lambda: self.service,
            requester=lambda: backend.market.vanity_requester if backend.market else None,
        )

    # -- what can be chosen -------------------------------------------------------------

    @property
    def demo_address(self) -> str | None:
        account = self.backend.demo_account
        return account.address if account is not None else None

    def choices(self) -> list[WalletChoice]:
        found = []
        if self.demo_address:
            found.append(WalletChoice(DEMO_WALLET_NAME, self.demo_address, True, demo=True))
        for entry in self.manager.entries():
            unlocked = self.manager.is_unlocked(entry.address)
            found.append(WalletChoice(entry.name, entry.address, unlocked))
        return found

    def current(self) -> WalletChoice | None:
        return next((c for c in self.choices() if c.address == self.address), None)

    @property
    def is_demo_wallet(self) -> bool:
        return self.address is not None and self.address == self.demo_address

    @property
    def locked(self) -> bool:
        return self.address is not None and self.service is None

    @property
    def reader(self) -> WalletReader | None:
        """What can be read of the current wallet, locked or not (None without a wallet or
        before the network is up)."""
        if self.service is not None:
            return self.service
        backend = self.backend
        if self.address is None or backend.chain is None or backend.market is None:
            return None
        if self._reader is None or self._reader.address != self.address:
            self._reader = WalletReader(
                backend.chain, backend.market, self.address, confirmations=self.confirmations()
            )
        return self._reader

    def needs_password(self) -> bool:
        if self.address is None or self.is_demo_wallet:
            return False
        return self.manager.needs_password(self.address)

    # -- changing the current wallet ----------------------------------------------------

    def open_default(self) -> None:
        """The remembered wallet, else the demo wallet, else the first one."""
        remembered = self.manager.book.selected_wallet()
        addresses = [c.address for c in self.choices()]
        if remembered in addresses:
            self.select(remembered)
        elif addresses:
            self.select(addresses[0])
        else:
            self._set(None, None)

    def select(self, address: str) -> None:
        if address == self.demo_address:
            self._set(address, self._demo_service())
            return
        self.manager.select(address)
        account = self.manager.account(address)
        self._set(address, self._service(account) if account is not None else None)

    def unlock(self, password: str | None = None) -> None:
        """Unlock the current wallet (blocking: a keystore's scrypt takes about a second)."""
        if self.address is None:
            raise DeskGridError("Create or import a wallet first.")
        if self.service is not None:
            return
        account = self.manager.unlock(self.address, password)
        self._set(self.address, self._service(account))

    def lock(self) -> None:
        """Drop the current wallet's key from memory (the demo wallet cannot be locked)."""
        if self.address is None or self.is_demo_wallet:
            return
        self.manager.lock(self.address)
        self._set(self.address, None)

    def add(self, name: str, account: LocalAccount, password: str | None = None) -> None:
        """Store a created or imported wallet and make it current (blocking)."""
        self.manager.add(name, account, password)
        self._set(account.address, self._service(account))

    # -- internals ----------------------------------------------------------------------

    def _service(self, account: LocalAccount) -> WalletService:
        backend = self.backend
        if backend.chain is None or backend.market is None:
            raise DeskGridError("The network is not connected yet; wait for it to start.")
        return WalletService(
            backend.chain,
            backend.market,
            account,
            faucet=backend.faucet,
            on_change=lambda: self.bus.publish(HistoryChanged(account.address)),
            confirmations=self.confirmations(),
        )

    def _demo_service(self) -> WalletService:
        backend = self.backend
        assert backend.chain is not None and backend.market is not None
        assert backend.demo_account is not None
        history = getattr(backend, "demo_history", None) or TxHistory(None)
        account = backend.demo_account
        return WalletService(
            backend.chain,
            backend.market,
            account,
            history=history,
            faucet=backend.faucet,
            on_change=lambda: self.bus.publish(HistoryChanged(account.address)),
            confirmations=self.confirmations(),
        )

    def _set(self, address: str | None, service: WalletService | None) -> None:
        self.address = address
        self.service = service
        self.bus.publish(WalletChanged(address))

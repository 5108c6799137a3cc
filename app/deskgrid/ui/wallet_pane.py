"""The wallet: choose / create / import / lock, address and QR, balances refreshed on new
blocks, send, escrow, history, and the demo faucet."""

from __future__ import annotations

import asyncio

from eth_account.signers.local import LocalAccount
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from deskgrid.chain.addresses import short_address
from deskgrid.desktop.session import WalletSession
from deskgrid.money import ETH_DECIMALS, format_eth, format_rlc, format_units
from deskgrid.ui.account_card import AccountCard
from deskgrid.ui.balance_card import BalanceCard
from deskgrid.ui.bridge import QtEventBridge
from deskgrid.ui.create_wallet_dialog import CreateWalletDialog
from deskgrid.ui.escrow_dialog import EscrowDialog
from deskgrid.ui.history_table import HistoryTable
from deskgrid.ui.import_wallet_dialog import ImportWalletDialog
from deskgrid.ui.password_dialog import PasswordDialog
from deskgrid.ui.send_dialog import SendDialog
from deskgrid.ui.status_line import StatusLine
from deskgrid.ui.tasks import spawn
from deskgrid.wallet.history import TxRecord
from deskgrid.wallet.service import Action, Balances

DEMO_NOTE = (
    "Lives only while the demo runs. Create or import a wallet to keep one; the faucet "
    "funds whichever wallet is open."
)
WALLET_VIEW, EMPTY_VIEW = 0, 1


ETH_SHOWN_DECIMALS = 6


def short_eth(wei: int) -> str:
    """ETH rounded down to 6 decimals for display (the exact amount goes in the tooltip)."""
    step = 10 ** (ETH_DECIMALS - ETH_SHOWN_DECIMALS)
    return format_units(wei - wei % step, ETH_DECIMALS, "ETH")


def _centered(*widgets: QWidget) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addStretch()
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch()
    return page


class WalletPane(QWidget):
    def __init__(self, session: WalletSession, bridge: QtEventBridge) -> None:
        super().__init__()
        self.session = session
        self.dialog: QWidget | None = None  # the open dialog, for tests and to keep it alive
        self.balances: Balances | None = None
        self._refreshing = False
        self._dirty = False
        self._build()
        bridge.new_block.connect(self.refresh)
        bridge.history_changed.connect(self._history_changed)
        bridge.wallet_changed.connect(self.show_current)
        self.show_current()

    # -- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        self.chooser = QComboBox()
        self.chooser.setMinimumWidth(280)
        self.chooser.activated.connect(self._chosen)
        self.create_button = QPushButton("Create…")
        self.import_button = QPushButton("Import…")
        self.lock_button = QPushButton("Lock")
        self.create_button.clicked.connect(self.open_create)
        self.import_button.clicked.connect(self.open_import)
        self.lock_button.clicked.connect(self._lock_clicked)
        header = QHBoxLayout()
        title = QLabel("<h2>Wallet</h2>")
        header.addWidget(title)
        header.addSpacing(12)
        header.addWidget(self.chooser)
        header.addStretch()
        for button in (self.create_button, self.import_button, self.lock_button):
            header.addWidget(button)

        self.account = AccountCard()
        self.account.copied.connect(lambda a: self.status.ok(f"Copied {a} to the clipboard."))
        self.eth_card = BalanceCard("ETH (for network fees)")
        self.rlc_card = BalanceCard("RLC in the wallet")
        self.escrow_card = BalanceCard("Escrow: deposited", "Free RLC in the hub escrow")
        self.locked_card = BalanceCard("Escrow: locked", "RLC locked for your active tasks")
        cards = QHBoxLayout()
        for card in (self.rlc_card, self.eth_card, self.escrow_card, self.locked_card):
            cards.addWidget(card)
        self.send_button = QPushButton("Send…")
        self.send_button.setDefault(True)
        self.deposit_button = QPushButton("Deposit…")
        self.withdraw_button = QPushButton("Withdraw…")
        self.faucet_button = QPushButton("Get demo RLC")
        self.faucet_button.setToolTip("The demo faucet sends 1000 RLC and 10 ETH")
        self.send_button.clicked.connect(self.open_send)
        self.deposit_button.clicked.connect(lambda: self.open_escrow("deposit"))
        self.withdraw_button.clicked.connect(lambda: self.open_escrow("withdraw"))
        self.faucet_button.clicked.connect(self.use_faucet)
        actions = QHBoxLayout()
        for button in (
            self.send_button,
            self.deposit_button,
            self.withdraw_button,
            self.faucet_button,
        ):
            actions.addWidget(button)
        actions.addStretch()
        self.history = HistoryTable()
        self.locked_text = QLabel()
        self.locked_text.setWordWrap(True)
        self.unlock_button = QPushButton("Unlock…")
        self.unlock_button.clicked.connect(self.open_unlock)
        self.locked_banner = QWidget()
        banner = QHBoxLayout(self.locked_banner)
        banner.setContentsMargins(0, 0, 0, 0)
        banner.addWidget(self.locked_text, 1)
        banner.addWidget(self.unlock_button)
        wallet_view = QWidget()
        body = QVBoxLayout(wallet_view)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.account)
        body.addWidget(self.locked_banner)
        body.addLayout(cards)
        body.addLayout(actions)
        body.addWidget(QLabel("<b>Transactions</b>"))
        body.addWidget(self.history, 1)

        empty_text = QLabel(
            "<h3>No wallet yet</h3>Create a new wallet (you will get a 12-word recovery "
            "phrase) or import one you already have."
        )
        empty_text.setWordWrap(True)
        self.views = QStackedWidget()
        self.views.addWidget(wallet_view)
        self.views.addWidget(_centered(empty_text))
        self.status = StatusLine()
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.status)

    # -- showing ------------------------------------------------------------------------

    def show_current(self, *_: object) -> None:
        choices = self.session.choices()
        current = self.session.current()
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for choice in choices:
            lock = "" if choice.unlocked else "  (locked)"  # no emoji: not every font has one
            self.chooser.addItem(f"{choice.name} — {short_address(choice.address)}{lock}")
            self.chooser.setItemData(self.chooser.count() - 1, choice.address)
        if current is not None:
            self.chooser.setCurrentIndex([c.address for c in choices].index(current.address))
        self.chooser.blockSignals(False)
        self.chooser.setEnabled(bool(choices))
        demo_wallet = self.session.is_demo_wallet
        self.lock_button.setVisible(current is not None and not demo_wallet)
        self.lock_button.setText("Unlock…" if self.session.locked else "Lock")
        self.faucet_button.setVisible(self.session.backend.faucet is not None)
        if current is None:
            self.views.setCurrentIndex(EMPTY_VIEW)
            return
        locked = self.session.locked
        self.locked_text.setText(
            f"<b>{current.name} is locked.</b> Its address, balances and history are shown; "
            "unlock it to send, deposit, withdraw or pay for a job."
        )
        self.locked_banner.setVisible(locked)
        for button in (self.send_button, self.deposit_button, self.withdraw_button):
            button.setEnabled(not locked)
        self.faucet_button.setEnabled(not locked)
        self.account.show_wallet(current.name, current.address, DEMO_NOTE if demo_wallet else "")
        self.views.setCurrentIndex(WALLET_VIEW)
        reader = self.session.reader
        self.history.show_records(reader.records() if reader is not None else [])
        for card in (self.eth_card, self.rlc_card, self.escrow_card, self.locked_card):
            card.clear()
        self.refresh()

    def _history_changed(self, address: str) -> None:
        if address == self.session.address:
            self.refresh()

    def refresh(self, *_: object) -> None:
        """Re-read balances and settle pending transactions, off the GUI thread; coalesced."""
        if self.session.reader is None:
            return
        if self._refreshing:
            self._dirty = True
            return
        self._refreshing = True
        spawn(self._refresh(), self.status.error)

    async def _refresh(self) -> None:
        try:
            while True:
                self._dirty = False
                reader = self.session.reader
                if reader is None:
                    return
                balances = await asyncio.to_thread(reader.balances)
                records = await asyncio.to_thread(reader.refresh_history)
                if reader is self.session.reader:
                    self._show_balances(balances)
                    self.history.show_records(
                        records, head=balances.block_number, depth=reader.confirmations
                    )
                if not self._dirty:
                    return
        finally:
            self._refreshing = False

    def _show_balances(self, balances: Balances) -> None:
        self.balances = balances
        self.eth_card.set_amount(short_eth(balances.eth), exact=format_eth(balances.eth))
        self.rlc_card.set_amount(format_rlc(balances.rlc))
        self.escrow_card.set_amount(format_rlc(balances.escrow))
        self.locked_card.set_amount(format_rlc(balances.locked))

    # -- choosing, locking --------------------------------------------------------------

    def _chosen(self, index: int) -> None:
        address = self.chooser.itemData(index)
        if address and address != self.session.address:
            self.status.clear_message()
            self.session.select(address)
            if self.session.locked:
                self.open_unlock()

    def _lock_clicked(self) -> None:
        if self.session.locked:
            self.open_unlock()
        else:
            self.session.lock()
            self.status.info("Locked: the key is no longer in memory.")

    def open_unlock(self) -> None:
        current = self.session.current()
        if current is None:
            return
        if not self.session.needs_password():
            spawn(asyncio.to_thread(self.session.unlock), self.status.error)
            return

        async def submit(password: str) -> None:
            await asyncio.to_thread(self.session.unlock, password)

        self._open(
            PasswordDialog(
                "Unlock wallet", f"Password of <b>{current.name}</b>:", submit, parent=self
            )
        )

    # -- dialogs ------------------------------------------------------------------------

    def _open(self, dialog: QWidget) -> None:
        self.dialog = dialog
        dialog.open()  # type: ignore[attr-defined]

    async def _store(self, name: str, account: LocalAccount, password: str | None) -> None:
        await asyncio.to_thread(self.session.add, name, account, password)
        self.status.ok(f"Wallet '{name}' is ready.")

    def open_create(self) -> None:
        manager = self.session.manager
        dialog = CreateWalletDialog(
            self._store, manager.check_name, manager.new_wallet_needs_password, parent=self
        )
        self._open(dialog)

    def open_import(self) -> None:
        manager = self.session.manager
        dialog = ImportWalletDialog(
            self._store, manager.check_name, manager.new_wallet_needs_password, parent=self
        )
        self._open(dialog)

    def _sent(self, record: TxRecord) -> None:
        what = {"send": "Sent", "deposit": "Deposited", "withdraw": "Withdrew"}[record.kind]
        amount = format_rlc(record.amount) if record.asset == "RLC" else format_eth(record.amount)
        self.status.ok(f"{what} {amount}; transaction {short_address(record.tx_hash)} mined.")
        self.refresh()

    def open_send(self) -> None:
        if self.session.service is None:
            return
        dialog = SendDialog(self.session.service, parent=self)
        dialog.completed.connect(self._sent)
        self._open(dialog)

    def open_escrow(self, action: Action) -> None:
        if self.session.service is None:
            return
        dialog = EscrowDialog(self.session.service, action, parent=self)
        dialog.completed.connect(self._sent)
        self._open(dialog)

    def use_faucet(self) -> None:
        service = self.session.service
        if service is None:
            return
        self.faucet_button.setEnabled(False)
        self.status.info("Asking the demo faucet…")

        async def run() -> None:
            try:
                await asyncio.to_thread(service.faucet)
                self.status.ok("The demo faucet sent RLC and ETH to this wallet.")
            finally:
                self.faucet_button.setEnabled(True)

        spawn(run(), self.status.error)

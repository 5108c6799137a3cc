"""Where a volunteer's earnings go: "The open wallet", one of the wallets the settings know, or
any address typed (checked, checksummed; a sentence under the box when it is wrong)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from deskgrid.chain.addresses import check_address, short_address
from deskgrid.errors import DeskGridError
from deskgrid.wallet.entries import WalletEntry

OPEN_WALLET = "The open wallet"


class PayoutChoice(QWidget):
    """`chosen(address or None)` when a valid choice is applied (None: the open wallet)."""

    chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.lineEdit().setPlaceholderText("a wallet, or an address 0x…")
        self.apply_button = QPushButton("Use")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.error)
        self.apply_button.clicked.connect(self.apply)
        self.combo.activated.connect(lambda *_: self.apply())
        self.combo.lineEdit().returnPressed.connect(self.apply)

    def load(self, wallets: list[WalletEntry], chosen: str | None) -> None:
        """The wallets to offer and the current choice (None: the open wallet)."""
        self.combo.clear()
        self.combo.addItem(OPEN_WALLET, "")
        for wallet in wallets:
            self.combo.addItem(f"{wallet.name} ({short_address(wallet.address)})", wallet.address)
        index = self.combo.findData(chosen or "")
        if index >= 0:
            self.combo.setCurrentIndex(index)
        else:
            self.combo.setCurrentIndex(-1)
            self.combo.setEditText(chosen or "")

    def current(self) -> str | None:
        """The address in the box (None: the open wallet); a DeskGridError when it is wrong."""
        text = self.combo.currentText().strip()
        index = self.combo.findText(text)
        if index >= 0:
            return self.combo.itemData(index) or None
        return check_address(text, what="payout address")

    def apply(self) -> None:
        try:
            address = self.current()
        except DeskGridError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.error.hide()
        self.chosen.emit(address)

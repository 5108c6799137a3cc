"""Send RLC or ETH: recipient (EIP-55 checked), exact amount, fee review, confirmation."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from deskgrid.chain.addresses import check_address
from deskgrid.money import parse_eth, parse_rlc
from deskgrid.ui.confirm_flow import ConfirmFlowDialog
from deskgrid.wallet.service import Action, WalletService


class SendDialog(ConfirmFlowDialog):
    def __init__(self, service: WalletService, parent: QWidget | None = None) -> None:
        super().__init__(service, "Send", parent)
        self.asset = QComboBox()
        self.asset.addItems(["RLC", "ETH"])
        self.recipient = QLineEdit()
        self.recipient.setPlaceholderText("0x… recipient address")
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("e.g. 12.5")
        self.form.addRow("Asset", self.asset)
        self.form.addRow("To", self.recipient)
        self.form.addRow("Amount", self.amount)
        self.asset.currentTextChanged.connect(self._asset_changed)
        self._asset_changed(self.asset.currentText())

    def _asset_changed(self, asset: str) -> None:
        decimals = 9 if asset == "RLC" else 18
        self.amount.setToolTip(f"Up to {decimals} decimal places.")

    def request(self) -> tuple[Action, str, int, str]:
        to = check_address(self.recipient.text(), what="recipient address")
        asset = self.asset.currentText()
        text = self.amount.text()
        amount = parse_rlc(text) if asset == "RLC" else parse_eth(text)
        return "send", asset, amount, to

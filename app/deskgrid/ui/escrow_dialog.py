"""Deposit RLC into the hub escrow (to pay for tasks) or withdraw free RLC from it."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from deskgrid.money import parse_rlc
from deskgrid.ui.confirm_flow import ConfirmFlowDialog
from deskgrid.wallet.service import Action, WalletService

_HELP = {
    "deposit": "RLC in the escrow pays for the tasks you request; you can withdraw what is "
    "not locked at any time.",
    "withdraw": "Free escrow RLC goes back to your wallet. RLC locked for active tasks comes "
    "back when they end.",
}


class EscrowDialog(ConfirmFlowDialog):
    def __init__(
        self, service: WalletService, action: Action, parent: QWidget | None = None
    ) -> None:
        title = "Deposit into escrow" if action == "deposit" else "Withdraw from escrow"
        super().__init__(service, title, parent)
        self.action: Action = action
        note = QLabel(_HELP[action])
        note.setWordWrap(True)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("RLC, e.g. 10")
        self.form.addRow(note)
        self.form.addRow("Amount (RLC)", self.amount)

    def request(self) -> tuple[Action, str, int, str]:
        return self.action, "RLC", parse_rlc(self.amount.text()), ""

"""Stake free escrow RLC on the hub, or unstake what no task holds locked: the amount (with
Max), then the review and confirmation every money dialog has (`ConfirmFlowDialog`)."""

from __future__ import annotations

from typing import Literal

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from deskgrid.money import RLC_DECIMALS, format_rlc, format_units, parse_rlc
from deskgrid.ui.confirm_flow import ConfirmFlowDialog
from deskgrid.wallet.service import Action, WalletService

StakeAction = Literal["stake", "unstake"]

_HELP = {
    "stake": "Stake comes from the free RLC of the hub escrow. It lets this wallet's workers "
    "take jobs of apps without a verifier; each replica they compute locks 30 % of the task's "
    "price of it until the task ends.",
    "unstake": "Stake no task holds locked goes back to the free hub escrow, from where it "
    "can be withdrawn. Locked stake comes free when its tasks end.",
}


class StakeDialog(ConfirmFlowDialog):
    def __init__(
        self,
        service: WalletService,
        action: StakeAction,
        most: int,
        parent: QWidget | None = None,
    ) -> None:
        """`most`: what can move now (nRLC), for Max: the free escrow to stake, the free stake
        to unstake."""
        super().__init__(service, "Stake" if action == "stake" else "Unstake", parent)
        self.action: StakeAction = action
        self.most = most
        self.confirm_button.setText(f"Confirm and {action}")
        note = QLabel(_HELP[action])
        note.setWordWrap(True)
        source = "Free in the escrow" if action == "stake" else "Free stake"
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("RLC, e.g. 2")
        self.max_button = QPushButton("Max")
        self.max_button.setEnabled(most > 0)
        self.max_button.clicked.connect(self.fill_max)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.amount, 1)
        row.addWidget(self.max_button)
        self.form.addRow(note)
        self.form.addRow(source, QLabel(format_rlc(most)))
        self.form.addRow("Amount (RLC)", row)

    def fill_max(self) -> None:
        self.amount.setText(format_units(self.most, RLC_DECIMALS))

    def request(self) -> tuple[Action, str, int, str]:
        return self.action, "RLC", parse_rlc(self.amount.text()), ""

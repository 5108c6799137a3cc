"""The worker key's credit withdrawn to a wallet: a review of a checked plan (what moves, where,
the network fee) and an explicit confirmation, as Send's review step. The withdrawal runs off
the GUI thread; errors are sentences."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deskgrid.desktop.payouts import Payouts
from deskgrid.money import format_fee
from deskgrid.ui.status_line import StatusLine
from deskgrid.ui.tasks import spawn
from deskgrid.worker.sweep import SweepPlan


class WithdrawDialog(QDialog):
    completed = Signal(object)  # the SweepResult

    def __init__(self, payouts: Payouts, plan: SweepPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.payouts = payouts
        self.plan = plan
        self.setWindowTitle("Withdraw to wallet")
        self.setMinimumWidth(460)
        review = QFormLayout()
        self.what = QLabel(plan.describe())
        self.what.setWordWrap(True)
        self.what.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fee = QLabel(f"up to {format_fee(plan.fee_wei)}, paid by the worker key")
        note = QLabel("Transactions cannot be undone. Check the details, then confirm.")
        note.setWordWrap(True)
        review.addRow("<b>Action</b>", self.what)
        review.addRow("<b>Network fee</b>", self.fee)
        review.addRow(note)
        self.status = StatusLine()
        self.buttons = QDialogButtonBox()
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.confirm_button = QPushButton("Confirm and withdraw")
        self.confirm_button.setDefault(True)
        self.buttons.addButton(self.confirm_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.clicked.connect(self.reject)
        self.confirm_button.clicked.connect(self.confirm)
        layout = QVBoxLayout(self)
        layout.addLayout(review)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def confirm(self) -> None:
        self.confirm_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self.status.info("Withdrawing… waiting for the transactions to be mined.")
        spawn(self._execute(), self._fail)

    def _fail(self, sentence: str) -> None:
        self.confirm_button.setEnabled(True)
        self.cancel_button.setEnabled(True)
        self.status.error(sentence)

    async def _execute(self) -> None:
        result = await asyncio.to_thread(self.payouts.withdraw, self.plan)
        self.completed.emit(result)
        self.accept()

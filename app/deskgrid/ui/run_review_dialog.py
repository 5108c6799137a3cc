"""The review before paying for a task, as Send has one: what is requested, the trust level and
what the grid requires at it, the price (the app's and the pool's fee times the level), the
network fee, where the secret half of the key is kept (VanityGen) or the params sent (a
published app), and an explicit Pay. Opened with `open()`, never `exec()`: the event loop keeps
running."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget

from deskgrid.money import format_fee, format_rlc
from deskgrid.node.requester import RunQuote
from deskgrid.ui.trust_selector import REQUIREMENTS, level_text

KEPT = (
    "Your half of the key is made on this computer and never leaves it: the worker finds "
    "only a partial key, and this app combines the two when the task ends. It is kept "
    "encrypted with your wallet's key in this computer's task journal before you pay: if "
    "DeskGrid closes before the result arrives, it resumes the task when it starts again."
)

SENT = (
    "The params go on chain with the request, where anyone can read them; the result comes "
    "back on the hub when the task ends."
)


def params_text(params: dict[str, Any]) -> str:
    """Params as the review and My jobs show them: `seed = 42, samples = 1000`."""
    return ", ".join(f"{name} = {json.dumps(value)}" for name, value in params.items()) or "none"


class RunReviewDialog(QDialog):
    """For VanityGen, `what` is asked and the key's half is kept here; for a published app,
    `params` are what is sent."""

    confirmed = Signal()

    def __init__(
        self,
        what: str,
        quote: RunQuote,
        parent: QWidget | None = None,
        *,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review the task")
        self.setMinimumWidth(500)
        self.what = QLabel(what)
        self.what.setWordWrap(True)
        self.trust = QLabel(
            f"{level_text(quote.trust)}: the grid requires {REQUIREMENTS[quote.trust]}"
        )
        self.trust.setWordWrap(True)
        self.price = QLabel(
            f"{quote.breakdown()} = <b>{format_rlc(quote.price)}</b>, paid in one "
            "transaction; refunded if the task fails or nobody runs it before its deadline"
        )
        self.price.setWordWrap(True)
        self.fee = QLabel(f"up to {format_fee(quote.fee.max_cost_wei)} (gas {quote.fee.gas:,})")
        self.kept = QLabel(KEPT if params is None else SENT)
        self.kept.setWordWrap(True)
        self.params = QLabel(params_text(params) if params is not None else "")
        self.params.setWordWrap(True)
        for label in (self.what, self.trust, self.price, self.fee, self.kept, self.params):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout(self)
        form.addRow("<b>Task</b>", self.what)
        if params is not None:
            form.addRow("<b>Params</b>", self.params)
        form.addRow("<b>Trust level</b>", self.trust)
        form.addRow("<b>Price</b>", self.price)
        form.addRow("<b>Network fee</b>", self.fee)
        form.addRow("<b>Your key</b>" if params is None else "<b>Sent</b>", self.kept)
        buttons = QDialogButtonBox()
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.pay_button = buttons.addButton(
            f"Pay {format_rlc(quote.price)}", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.pay_button.setDefault(True)
        self.cancel_button.clicked.connect(self.reject)
        self.pay_button.clicked.connect(self._pay)
        form.addRow(buttons)

    def _pay(self) -> None:
        self.accept()
        self.confirmed.emit()

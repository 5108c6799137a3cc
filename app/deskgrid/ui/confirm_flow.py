"""A two-step transaction dialog: a form, then a review with the fee quote and an explicit
confirmation. The quote and the transaction run off the GUI thread; errors are sentences."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from deskgrid.money import format_fee
from deskgrid.ui.status_line import StatusLine
from deskgrid.ui.tasks import spawn
from deskgrid.wallet.history import TxRecord
from deskgrid.wallet.service import Action, Quote, WalletService


class ConfirmFlowDialog(QDialog):
    """Subclasses fill `self.form` and implement `request()`."""

    completed = Signal(object)  # the TxRecord

    def __init__(self, service: WalletService, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.quote_result: Quote | None = None
        self.busy = False
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.pages = QStackedWidget()
        form_page = QWidget()
        self.form = QFormLayout(form_page)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        review_page = QWidget()
        review = self.review_form = QFormLayout(review_page)  # subclasses may add rows
        self.review_what = QLabel()
        self.review_what.setWordWrap(True)
        self.review_what.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.review_fee = QLabel()
        self.review_note = QLabel("Transactions cannot be undone. Check the details, then confirm.")
        self.review_note.setWordWrap(True)
        review.addRow("<b>Action</b>", self.review_what)
        review.addRow("<b>Network fee</b>", self.review_fee)
        review.addRow(self.review_note)
        self.pages.addWidget(form_page)
        self.pages.addWidget(review_page)
        self.status = StatusLine()
        self.buttons = QDialogButtonBox()
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.back_button = QPushButton("Back")
        self.review_button = QPushButton("Review")
        self.confirm_button = QPushButton("Confirm and send")
        self.review_button.setDefault(True)
        for button in (self.back_button, self.review_button, self.confirm_button):
            self.buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.clicked.connect(self.reject)
        self.back_button.clicked.connect(self._back)
        self.review_button.clicked.connect(self.review)
        self.confirm_button.clicked.connect(self.confirm)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._show_page(0)

    # -- to implement -------------------------------------------------------------------

    def request(self) -> tuple[Action, str, int, str]:
        """(action, asset, amount in base units, recipient) from the form, or a sentence."""
        raise NotImplementedError

    # -- flow ---------------------------------------------------------------------------

    def _show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.back_button.setVisible(index == 1)
        self.review_button.setVisible(index == 0)
        self.confirm_button.setVisible(index == 1)
        self.confirm_button.setDefault(index == 1)
        self.review_button.setDefault(index == 0)

    def _busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        for button in (self.back_button, self.review_button, self.confirm_button):
            button.setEnabled(not busy)
        if text:
            self.status.info(text)

    def _back(self) -> None:
        self.status.clear_message()
        self._show_page(0)

    def _fail(self, sentence: str) -> None:
        self._busy(False)
        self.status.error(sentence)

    def review(self) -> None:
        try:
            action, asset, amount, to = self.request()
        except Exception as exc:  # parse errors are DeskGridError sentences
            from deskgrid.ui.tasks import error_sentence

            self.status.error(error_sentence(exc))
            return
        self._busy(True, "Estimating the network fee…")
        spawn(self._quote(action, asset, amount, to), self._fail)

    async def _quote(self, action: Action, asset: str, amount: int, to: str) -> None:
        quote = await asyncio.to_thread(self.service.quote, action, asset, amount, to)  # type: ignore[arg-type]
        self.quote_result = quote
        self.review_what.setText(quote.describe())
        self.review_fee.setText(f"up to {format_fee(quote.max_fee_wei)} (gas {quote.fee.gas:,})")
        self._busy(False)
        self.status.clear_message()
        self._show_page(1)

    def confirm(self) -> None:
        if self.quote_result is None:
            return
        self._busy(True, "Sending… waiting for the transaction to be mined.")
        spawn(self._execute(self.quote_result), self._fail)

    async def _execute(self, quote: Quote) -> None:
        record: TxRecord = await asyncio.to_thread(self.service.execute, quote)
        self._busy(False)
        self.completed.emit(record)
        self.accept()

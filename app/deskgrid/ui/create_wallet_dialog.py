"""Create a wallet: name (and password when keys go to encrypted files), the 12-word recovery
phrase shown once, then three of its words typed back before anything is stored."""

from __future__ import annotations

import asyncio

from eth_account.signers.local import LocalAccount
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from deskgrid.ui.new_wallet_fields import Check, NewWalletDialog, Store
from deskgrid.ui.status_line import StatusLine
from deskgrid.ui.tasks import error_sentence, spawn
from deskgrid.wallet.accounts import (
    NewWallet,
    check_confirmation,
    confirmation_positions,
    create_account,
)


class CreateWalletDialog(NewWalletDialog):
    def __init__(
        self,
        store: Store,
        check_name: Check,
        needs_password: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            store, check_name, needs_password, parent, title="Create a wallet", min_width=520
        )
        self.new: NewWallet | None = None
        self.positions: list[int] = []
        self.pages = QStackedWidget()
        self.pages.addWidget(self._name_page())
        self.pages.addWidget(self._phrase_page())
        self.pages.addWidget(self._confirm_page())
        self.status = StatusLine()
        buttons = QDialogButtonBox()
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.next_button = QPushButton("Next")
        self.next_button.setDefault(True)
        buttons.addButton(self.next_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.back_button = QPushButton("Back")  # on the left, as wizards have it
        self.back_button.setVisible(False)  # only the word check goes back (to the phrase)
        button_row = QHBoxLayout()
        button_row.addWidget(self.back_button)
        button_row.addWidget(buttons, 1)
        self.cancel_button.clicked.connect(self.reject)
        self.back_button.clicked.connect(self.back_to_phrase)
        self.next_button.clicked.connect(self.next_step)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        layout.addWidget(self.status)
        layout.addLayout(button_row)
        self.finished.connect(self._forget)

    # -- pages --------------------------------------------------------------------------

    def _name_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.name = QLineEdit("Main")
        form.addRow("Wallet name", self.name)
        self.new_password.add_to(form)
        return page

    def _phrase_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        warning = QLabel(
            "<b>Write these 12 words down, in order, and keep them offline.</b> They are the "
            "only way to restore this wallet; anyone who has them controls its funds. "
            "DeskGrid will not show them again."
        )
        warning.setWordWrap(True)
        layout.addWidget(warning)
        self.word_grid = QGridLayout()
        self.word_labels: list[QLabel] = []
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        for i in range(12):
            label = QLabel()
            label.setFont(mono)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.word_labels.append(label)
            self.word_grid.addWidget(label, i % 6, i // 6)
        layout.addLayout(self.word_grid)
        self.written = QCheckBox("I have written the words down")
        layout.addWidget(self.written)
        return page

    def _confirm_page(self) -> QWidget:
        page = QWidget()
        self.confirm_form = QFormLayout(page)
        self.confirm_form.addRow(QLabel("Type these words from your copy of the phrase:"))
        self.answers: list[QLineEdit] = []
        self.answer_labels: list[QLabel] = []
        for _ in range(3):
            label, edit = QLabel("Word"), QLineEdit()
            label.setBuddy(edit)
            self.answer_labels.append(label)
            self.answers.append(edit)
            self.confirm_form.addRow(label, edit)
        return page

    # -- flow ---------------------------------------------------------------------------

    def next_step(self) -> None:
        self.status.clear_message()
        try:
            page = self.pages.currentIndex()
            if page == 0:
                self._check_name(self.name.text())
                self.new_password.checked()
                self._show_phrase()
            elif page == 1:
                if not self.written.isChecked():
                    self.status.error("Write the words down, then tick the box to go on.")
                    return
                self._ask_words()
            else:
                assert self.new is not None
                answers = {p: e.text() for p, e in zip(self.positions, self.answers, strict=True)}
                check_confirmation(self.new.mnemonic, answers)
                self._finish()
        except Exception as exc:
            self.status.error(error_sentence(exc))

    def _show_phrase(self) -> None:
        self.new = create_account()
        for i, (label, word) in enumerate(zip(self.word_labels, self.new.words, strict=True)):
            label.setText(f"{i + 1:>2}. {word}")
        self.pages.setCurrentIndex(1)

    def _ask_words(self) -> None:
        self.positions = confirmation_positions()
        for label, edit, position in zip(
            self.answer_labels, self.answers, self.positions, strict=True
        ):
            label.setText(f"Word {position + 1}")
            edit.clear()
        self.next_button.setText("Create wallet")
        self.back_button.setVisible(True)
        self.pages.setCurrentIndex(2)
        self.answers[0].setFocus()

    def back_to_phrase(self) -> None:
        """From the word check back to the same phrase, to write it down again."""
        self.status.clear_message()
        self.back_button.setVisible(False)
        self.next_button.setText("Next")
        self.pages.setCurrentIndex(1)

    def _finish(self) -> None:
        assert self.new is not None
        self.next_button.setEnabled(False)
        self.status.info("Saving the key…")
        password = self.new_password.checked()
        spawn(self._save(self.name.text().strip(), self.new.account, password), self._fail)

    async def _save(self, name: str, account: LocalAccount, password: str | None) -> None:
        await self._store(name, account, password)
        await asyncio.sleep(0)
        self.accept()

    def _fail(self, sentence: str) -> None:
        self.next_button.setEnabled(True)
        self.status.error(sentence)

    def _forget(self) -> None:
        """Drop the phrase and the password from the dialog once it closes."""
        self.new = None
        for label in self.word_labels:
            label.clear()
        self.new_password.clear()

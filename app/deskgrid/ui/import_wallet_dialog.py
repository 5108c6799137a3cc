"""Import a wallet from a private key, a recovery phrase, or a keystore JSON file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from eth_account.signers.local import LocalAccount
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from deskgrid.errors import DeskGridError
from deskgrid.ui.new_wallet_fields import Check, NewWalletDialog, Store, password_edit
from deskgrid.ui.status_line import StatusLine
from deskgrid.ui.tasks import error_sentence, spawn
from deskgrid.wallet.accounts import (
    account_from_keystore_json,
    account_from_mnemonic,
    account_from_private_key,
)

MAX_KEYSTORE_BYTES = 64 * 1024


class ImportWalletDialog(NewWalletDialog):
    def __init__(
        self,
        store: Store,
        check_name: Check,
        needs_password: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            store, check_name, needs_password, parent, title="Import a wallet", min_width=540
        )
        self.tabs = QTabWidget()
        self.private_key = password_edit()
        self.private_key.setPlaceholderText("64 hexadecimal characters, with or without 0x")
        key_page = QWidget()
        QFormLayout(key_page).addRow("Private key", self.private_key)
        self.phrase = QPlainTextEdit()
        self.phrase.setPlaceholderText("12 or 24 words separated by spaces")
        self.phrase.setFixedHeight(80)
        phrase_page = QWidget()
        QFormLayout(phrase_page).addRow("Recovery phrase", self.phrase)
        self.keystore_path = QLineEdit()
        self.keystore_path.setPlaceholderText("Choose the keystore JSON file…")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.keystore_path)
        row.addWidget(browse)
        self.keystore_password = password_edit()
        file_page = QWidget()
        file_form = QFormLayout(file_page)
        file_form.addRow("Keystore file", row)
        file_form.addRow("Its password", self.keystore_password)
        self.tabs.addTab(key_page, "Private key")
        self.tabs.addTab(phrase_page, "Recovery phrase")
        self.tabs.addTab(file_page, "Keystore file")
        common = QFormLayout()
        self.name = QLineEdit("Imported")
        common.addRow("Wallet name", self.name)
        self.new_password.add_to(common)
        self.status = StatusLine()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = QPushButton("Import")
        self.import_button.setDefault(True)
        buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        self.import_button.clicked.connect(self.try_import)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addLayout(common)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.finished.connect(self._forget)

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Keystore file", str(Path.home()), "JSON (*.json);;All (*)")
        dialog.fileSelected.connect(self.keystore_path.setText)
        dialog.open()

    def _read_keystore(self) -> str:
        path = Path(self.keystore_path.text().strip()).expanduser()
        if not self.keystore_path.text().strip():
            raise DeskGridError("Choose the keystore JSON file to import.")
        try:
            if path.stat().st_size > MAX_KEYSTORE_BYTES:
                raise DeskGridError(f"{path.name} is too large to be a keystore file.")
            return path.read_text(encoding="utf-8")
        except OSError:
            raise DeskGridError(f"Cannot read {path}; check the path.") from None

    def _parser(self) -> Callable[[], LocalAccount]:
        """Read the form now (GUI thread); parse later off it (a keystore's scrypt blocks)."""
        tab = self.tabs.currentIndex()
        if tab == 0:
            key = self.private_key.text()
            return lambda: account_from_private_key(key)
        if tab == 1:
            phrase = self.phrase.toPlainText()
            return lambda: account_from_mnemonic(phrase)
        text, password = self._read_keystore(), self.keystore_password.text()
        return lambda: account_from_keystore_json(text, password)

    def try_import(self) -> None:
        try:
            name = self._check_name(self.name.text())
            parse = self._parser()
            password = self.new_password.checked()
        except Exception as exc:
            self.status.error(error_sentence(exc))
            return
        self.import_button.setEnabled(False)
        self.status.info("Importing…")
        spawn(self._run(name, parse, password), self._fail)

    async def _run(
        self, name: str, parse: Callable[[], LocalAccount], password: str | None
    ) -> None:
        account = await asyncio.to_thread(parse)
        await self._store(name, account, password)
        self.accept()

    def _fail(self, sentence: str) -> None:
        self.import_button.setEnabled(True)
        self.status.error(sentence)

    def _forget(self) -> None:
        for edit in (self.private_key, self.keystore_password):
            edit.clear()
        self.new_password.clear()
        self.phrase.clear()

"""Ask for a wallet's password and try it right away; a wrong one keeps the dialog open with
the sentence, so nothing ever needs QDialog.exec()."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from deskgrid.ui.status_line import StatusLine
from deskgrid.ui.tasks import spawn

Submit = Callable[[str], Awaitable[None]]


class PasswordDialog(QDialog):
    def __init__(
        self, title: str, prompt: str, submit: Submit, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(380)
        self._submit = submit
        label = QLabel(prompt)
        label.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.status = StatusLine()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Unlock")
        self.buttons.accepted.connect(self.try_password)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.password)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def try_password(self) -> None:
        self.ok_button.setEnabled(False)
        self.status.info("Unlocking…")
        spawn(self._run(self.password.text()), self._fail)

    async def _run(self, password: str) -> None:
        await self._submit(password)
        self.password.clear()
        self.accept()

    def _fail(self, sentence: str) -> None:
        self.ok_button.setEnabled(True)
        self.password.selectAll()
        self.status.error(sentence)

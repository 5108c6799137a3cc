"""What the create and import wallet dialogs share: the calls that check a new wallet's name
and store its key, and the new password asked when keys go to encrypted files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from eth_account.signers.local import LocalAccount
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QWidget

from deskgrid.wallet.keystores import check_new_password

Store = Callable[[str, LocalAccount, str | None], Awaitable[None]]  # name, account, password
Check = Callable[[str], str]  # the name, cleaned; DeskGridError when it cannot be used

KEYRING_MISSING = (
    "No system keyring is available, so the key is kept in an encrypted file on this "
    "computer. Choose a password (at least 8 characters): it cannot be recovered."
)


def password_edit() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class NewPasswordRows:
    """The password and its repetition, shown (and checked) only when `needed`."""

    def __init__(self, needed: bool) -> None:
        self.needed = needed
        self.password = password_edit()
        self.repeat = password_edit()

    def add_to(self, form: QFormLayout) -> None:
        if not self.needed:
            return
        note = QLabel(KEYRING_MISSING)
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow("New password", self.password)
        form.addRow("Repeat password", self.repeat)

    def checked(self) -> str | None:
        """The new password (None when none is needed); DeskGridError when it will not do."""
        if not self.needed:
            return None
        return check_new_password(self.password.text(), self.repeat.text())

    def clear(self) -> None:
        self.password.clear()
        self.repeat.clear()


class NewWalletDialog(QDialog):
    """The base of the create and import dialogs: the calls that check the name and store
    the key, and the new password rows (`new_password`, its edits `password` and `repeat`)."""

    def __init__(
        self,
        store: Store,
        check_name: Check,
        needs_password: bool,
        parent: QWidget | None,
        *,
        title: str,
        min_width: int,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(min_width)
        self._store = store
        self._check_name = check_name
        self.needs_password = needs_password
        self.new_password = NewPasswordRows(needs_password)
        self.password, self.repeat = self.new_password.password, self.new_password.repeat

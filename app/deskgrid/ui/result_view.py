"""A VanityGen result: the address and its private key (WIF), combined on this computer from the
worker's partial key; copy buttons, "Save to file" (the file dialog never blocks), a QR code of
the address and, only while "Show private key QR" is on (off for every new result), one of the
key."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deskgrid.ui.qr import qr_pixmap

ADDRESS_CHARS = 34  # a Bitcoin address (P2PKH) is 25-34 characters
WIF_CHARS = 52  # a compressed-key WIF is 52 characters


def save_folder() -> str:
    """Where a save dialog starts: the user's Documents folder when it exists, else home."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if documents and Path(documents).is_dir():
        return documents
    return str(Path.home())


QR_SIZE = 132


class ResultView(QGroupBox):
    """`message(kind, text)` reports copies and saves to the pane's status line."""

    message = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Result", parent)
        grid = QGridLayout(self)
        self.address = QLineEdit()
        self.address.setReadOnly(True)
        self.wif = QLineEdit()
        self.wif.setReadOnly(True)
        self.wif.setEchoMode(QLineEdit.EchoMode.Password)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for edit, chars in ((self.address, ADDRESS_CHARS), (self.wif, WIF_CHARS)):
            edit.setFont(mono)  # a key read aloud or copied by hand: 0/O and l/1 stay apart
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("W" * chars) + 16)
        self.copy_address = QPushButton("Copy")
        self.copy_wif = QPushButton("Copy")
        self.show_wif = QPushButton("Show")
        self.show_wif.setCheckable(True)
        self.save_button = QPushButton("Save to file…")
        self.address_qr = QLabel()
        self.address_qr.setFixedSize(QR_SIZE, QR_SIZE)
        self.address_qr.setToolTip("Scan to get the address")
        self.show_key_qr = QPushButton("Show private key QR")
        self.show_key_qr.setCheckable(True)
        self.show_key_qr.setToolTip(
            "Whoever scans or photographs this code controls the address: show it only where "
            "nobody else can see the screen."
        )
        self.key_qr = QLabel()
        self.key_qr.setFixedSize(QR_SIZE, QR_SIZE)
        self.key_qr.setToolTip("The private key (WIF)")
        codes = QVBoxLayout()
        codes.addWidget(QLabel("Address QR"))
        codes.addWidget(self.address_qr)
        codes.addWidget(self.show_key_qr)
        codes.addWidget(self.key_qr)
        codes.addStretch(1)
        grid.addWidget(QLabel("Address"), 0, 0)
        grid.addWidget(self.address, 0, 1)
        grid.addWidget(self.copy_address, 0, 2)
        grid.addWidget(QLabel("Private key (WIF)"), 1, 0)
        grid.addWidget(self.wif, 1, 1)
        grid.addWidget(self.copy_wif, 1, 2)
        grid.addWidget(self.show_wif, 1, 3)
        grid.addWidget(self.save_button, 2, 1)
        grid.addLayout(codes, 0, 4, 4, 1)
        grid.setRowStretch(3, 1)
        self.copy_address.clicked.connect(lambda: self._copy(self.address.text(), "the address"))
        self.copy_wif.clicked.connect(lambda: self._copy(self.wif.text(), "the private key"))
        self.show_wif.toggled.connect(self._toggle_wif)
        self.save_button.clicked.connect(self.ask_save)
        self.show_key_qr.toggled.connect(self._toggle_key_qr)
        self.dialog: QFileDialog | None = None
        self.clear()

    def clear(self) -> None:
        self.address.clear()
        self.wif.clear()
        self.address_qr.clear()
        self.show_key_qr.setChecked(False)
        self._toggle_key_qr(False)
        self.setVisible(False)

    def show_result(self, address: str, wif: str) -> None:
        self.show_key_qr.setChecked(False)  # every new key starts hidden
        self._toggle_key_qr(False)
        self.address.setText(address)
        self.wif.setText(wif)
        self.address_qr.setPixmap(qr_pixmap(address, QR_SIZE))
        self.setVisible(True)

    def _toggle_key_qr(self, shown: bool) -> None:
        """The key's QR is drawn only while shown, and dropped when hidden."""
        if shown and self.wif.text():
            self.key_qr.setPixmap(qr_pixmap(self.wif.text(), QR_SIZE))
            self.key_qr.setVisible(True)
        else:
            self.key_qr.clear()
            self.key_qr.setVisible(False)
        self.show_key_qr.setText("Hide private key QR" if shown else "Show private key QR")

    def _toggle_wif(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.wif.setEchoMode(mode)
        self.show_wif.setText("Hide" if shown else "Show")

    def _copy(self, text: str, what: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.message.emit("ok", f"Copied {what} to the clipboard.")

    def document(self) -> str:
        return (
            f"address: {self.address.text()}\n"
            f"private key (WIF): {self.wif.text()}\n"
            "Keep this file secret: whoever has the private key controls the address.\n"
        )

    def ask_save(self) -> None:
        """A save dialog that starts in the Documents folder (else home), never in whatever
        folder the app was started from."""
        self.dialog = QFileDialog(self, "Save the address and key")
        self.dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        self.dialog.setNameFilter("Text files (*.txt)")
        self.dialog.setDirectory(save_folder())
        self.dialog.selectFile(f"{self.address.text() or 'vanity'}.txt")
        self.dialog.fileSelected.connect(self.save_to)
        self.dialog.open()

    def save_to(self, path: str) -> None:
        if not path:
            return
        try:
            target = Path(path)
            target.write_text(self.document(), encoding="utf-8")
            target.chmod(0o600)
        except OSError as exc:
            self.message.emit("error", f"Could not save to {path}: {exc.strerror or exc}.")
            return
        self.message.emit("ok", f"Saved the address and key to {path}.")

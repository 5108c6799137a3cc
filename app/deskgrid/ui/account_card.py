"""The current wallet's name, address (with copy) and QR code."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QWidget

from deskgrid.ui.qr import qr_pixmap

QR_SIZE = 116


class AccountCard(QFrame):
    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.address = ""
        self.qr = QLabel()
        self.qr.setFixedSize(QR_SIZE, QR_SIZE)
        self.qr.setToolTip("Scan to get this wallet's address")
        self.name = QLabel()
        title_font = self.name.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.3)
        title_font.setBold(True)
        self.name.setFont(title_font)
        self.address_label = QLabel()
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.address_label.setFont(mono)
        self.address_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton("Copy address")
        self.copy_button.clicked.connect(self.copy)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setEnabled(False)  # drawn in the palette's secondary text colour
        layout = QGridLayout(self)
        layout.addWidget(self.qr, 0, 0, 4, 1)
        layout.addWidget(self.name, 0, 1, 1, 2)
        layout.addWidget(self.address_label, 1, 1, 1, 2)
        layout.addWidget(self.copy_button, 2, 1, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.note, 3, 1, 1, 2)
        layout.setColumnStretch(2, 1)
        layout.setHorizontalSpacing(16)

    def show_wallet(self, name: str, address: str, note: str = "") -> None:
        self.address = address
        self.name.setText(name)
        self.address_label.setText(address)
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.qr.setPixmap(qr_pixmap(address, QR_SIZE))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.address)
        self.copied.emit(self.address)

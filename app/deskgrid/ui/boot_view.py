"""Shown while the backend starts: the current step and a progress bar; a retry on failure."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deskgrid.ui.icons import icon
from deskgrid.ui.status_line import StatusLine

ERROR_WIDTH = 520


class BootView(QWidget):
    retry = Signal()
    change_network = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        logo = QLabel()
        logo.setPixmap(icon("deskgrid").pixmap(72, 72))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("<h2>Starting DeskGrid</h2>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.step = QLabel("Preparing…")
        self.step.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(360)
        self.error = StatusLine()
        self.error.setFixedWidth(ERROR_WIDTH)
        self.retry_button = QPushButton("Try again")
        self.network_button = QPushButton("Choose another network…")
        self.retry_button.clicked.connect(self.retry)
        self.network_button.clicked.connect(self.change_network)
        layout = QVBoxLayout(self)
        layout.addStretch()
        for widget in (logo, title, self.step, self.bar):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        # Centred by stretches, not by an alignment flag: a layout item with an alignment
        # loses its height-for-width, and long wrapped sentences were cut off.
        error_row = QHBoxLayout()
        error_row.addStretch()
        error_row.addWidget(self.error)
        error_row.addStretch()
        layout.addLayout(error_row)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.network_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch()
        self.reset()

    def reset(self) -> None:
        self.step.setText("Preparing…")
        self.bar.setValue(0)
        self.error.clear_message()
        self.retry_button.hide()
        self.network_button.hide()

    def show_progress(self, step: str, fraction: float) -> None:
        self.step.setText(step)
        self.bar.setValue(round(fraction * 100))

    def show_error(self, sentence: str) -> None:
        self.step.setText("DeskGrid could not start.")
        self.error.error(sentence)
        self.retry_button.show()
        self.network_button.show()

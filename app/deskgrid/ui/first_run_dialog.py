"""The first start: the offline demo (default) or a network."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from deskgrid.ui.network_form import NetworkChoice, NetworkForm
from deskgrid.ui.status_line import StatusLine
from deskgrid.ui.tasks import error_sentence


class FirstRunDialog(QDialog):
    chosen = Signal(object)  # NetworkChoice

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to DeskGrid")
        self.setMinimumWidth(520)
        intro = QLabel(
            "<h2>Welcome to DeskGrid</h2>Pay in RLC for computing done by volunteers' "
            "machines, or lend your idle CPU and earn RLC. How would you like to start?"
        )
        intro.setWordWrap(True)
        self.form = NetworkForm()
        self.status = StatusLine()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.start_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.start_button.setText("Start")
        self.buttons.accepted.connect(self.try_accept)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.result_choice: NetworkChoice | None = None

    def try_accept(self) -> None:
        try:
            self.result_choice = self.form.choice()
        except Exception as exc:
            self.status.error(error_sentence(exc))
            return
        self.chosen.emit(self.result_choice)
        self.accept()

    def reject(self) -> None:
        """Closing the window means the default: the demo."""
        self.form.demo.setChecked(True)
        self.try_accept()

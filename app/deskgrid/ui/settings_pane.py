"""Settings: network (demo or RPC URL + hub + grid URL), confirmations, notifications, the data
folder and its log folder, where keys are kept, and the theme (which follows the system)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from deskgrid import logs
from deskgrid.ui.controller import AppController
from deskgrid.ui.folders import open_folder
from deskgrid.ui.network_form import NetworkForm
from deskgrid.ui.status_line import StatusLine
from deskgrid.ui.tasks import error_sentence

KEY_STORAGE_TEXT = {
    "keyring": 'In the system keyring (service "DeskGrid").',
    "keystore": "In encrypted keystore files (scrypt) in the data folder: no system keyring "
    "is available, so each wallet has a password.",
}


class SettingsPane(QWidget):
    def __init__(self, controller: AppController) -> None:
        super().__init__()
        self.controller = controller
        settings = controller.settings.settings

        network_box = QGroupBox("Network")
        self.network = NetworkForm()
        self.network.load(settings)
        self.apply_button = QPushButton("Save and reconnect")
        self.apply_button.clicked.connect(self.apply_network)
        network_layout = QVBoxLayout(network_box)
        network_layout.addWidget(self.network)
        network_layout.addWidget(self.apply_button)

        chain_box = QGroupBox("Transactions")
        self.confirmations = QSpinBox()
        self.confirmations.setRange(0, 64)
        self.confirmations.setValue(settings.confirmations)
        self.confirmations.setToolTip(
            "How many blocks must follow a transaction before DeskGrid acts on it."
        )
        self.confirmations.valueChanged.connect(self.save_confirmations)
        QFormLayout(chain_box).addRow("Confirmations to wait for", self.confirmations)

        notices_box = QGroupBox("Notifications")
        self.notify_jobs = QCheckBox("Notify me when my jobs complete")
        self.notify_jobs.setToolTip(
            "A desktop notification when a task paid from the open wallet is done, fails or is "
            "refunded."
        )
        self.notify_jobs.setChecked(settings.notify_job_ends)
        self.notify_jobs.toggled.connect(self.save_notify_jobs)
        QVBoxLayout(notices_box).addWidget(self.notify_jobs)

        storage_box = QGroupBox("This computer")
        self.data_folder = QLineEdit(str(settings.data_folder))
        self.data_folder.setReadOnly(True)
        open_button = QPushButton("Open")
        open_button.clicked.connect(self.open_data_folder)
        self.open_logs_button = QPushButton("Open log folder")
        self.open_logs_button.setToolTip(
            "The app's logs (deskgrid.log, node.log, …): attach them when you report a problem."
        )
        self.open_logs_button.clicked.connect(self.open_log_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_folder)
        folder_row.addWidget(open_button)
        folder_row.addWidget(self.open_logs_button)
        keys = QLabel(KEY_STORAGE_TEXT[controller.manager.new_store.kind])
        keys.setWordWrap(True)
        theme = QLabel("DeskGrid follows your system's light or dark appearance.")
        theme.setWordWrap(True)
        storage = QFormLayout(storage_box)
        storage.addRow("Data folder", folder_row)
        storage.addRow("Keys of new wallets", keys)
        storage.addRow("Appearance", theme)

        self.status = StatusLine()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<h2>Settings</h2>"))
        layout.addWidget(network_box)
        layout.addWidget(chain_box)
        layout.addWidget(notices_box)
        layout.addWidget(storage_box)
        layout.addWidget(self.status)
        layout.addStretch()

    def apply_network(self) -> None:
        try:
            choice = self.network.choice()
        except Exception as exc:
            self.status.error(error_sentence(exc))
            return
        self.status.info("Saved; reconnecting…")
        self.controller.apply_network(choice)

    def save_confirmations(self, value: int) -> None:
        try:
            self.controller.settings.update(confirmations=value)
        except Exception as exc:
            self.status.error(error_sentence(exc))

    def save_notify_jobs(self, on: bool) -> None:
        try:
            self.controller.settings.update(notify_job_ends=on)
        except Exception as exc:
            self.status.error(error_sentence(exc))

    def open_data_folder(self) -> None:
        self._open_folder(Path(self.data_folder.text()), "the data folder")

    def log_folder(self) -> Path:
        return logs.log_folder()

    def open_log_folder(self) -> None:
        self._open_folder(self.log_folder(), "the log folder")

    def _open_folder(self, folder: Path, what: str) -> None:
        failed = open_folder(folder, what)
        if failed:
            self.status.error(failed)

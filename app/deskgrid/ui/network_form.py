"""Choose the offline demo or a network (RPC URL, hub address, grid URL), validated with
sentences. Used by the first-run dialog and the settings pane."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QRadioButton, QVBoxLayout, QWidget

from deskgrid.desktop.settings import NetworkMode, Settings, check_network


@dataclass(frozen=True)
class NetworkChoice:
    mode: NetworkMode
    rpc_url: str = ""
    hub_address: str = ""
    grid_url: str = ""


class NetworkForm(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.demo = QRadioButton("Try the offline demo")
        self.demo_note = QLabel(
            "A private chain on this computer with the marketplace deployed and a funded demo "
            "wallet. Nothing leaves your machine; it is reset when DeskGrid closes."
        )
        self.network = QRadioButton("Connect to a network")
        self.rpc_url = QLineEdit()
        self.rpc_url.setPlaceholderText("https://… or http://127.0.0.1:8545")
        self.hub_address = QLineEdit()
        self.hub_address.setPlaceholderText("0x… address of the DeskGrid hub contract")
        self.grid_url = QLineEdit()
        self.grid_url.setPlaceholderText("https://grid.example.org")
        self.fields = QWidget()
        form = QFormLayout(self.fields)
        form.setContentsMargins(24, 0, 0, 0)
        form.addRow("RPC URL", self.rpc_url)
        form.addRow("Hub address", self.hub_address)
        form.addRow("Grid URL", self.grid_url)
        for label in (self.demo_note,):
            label.setWordWrap(True)
            label.setContentsMargins(24, 0, 0, 8)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.demo)
        layout.addWidget(self.demo_note)
        layout.addWidget(self.network)
        layout.addWidget(self.fields)
        self.demo.toggled.connect(self._mode_changed)
        self.demo.setChecked(True)
        self._mode_changed()

    def _mode_changed(self, *_: object) -> None:
        self.fields.setEnabled(self.network.isChecked())

    def load(self, settings: Settings) -> None:
        (self.demo if settings.network_mode == "demo" else self.network).setChecked(True)
        self.rpc_url.setText(settings.rpc_url)
        self.hub_address.setText(settings.hub_address)
        self.grid_url.setText(settings.grid_url)
        self._mode_changed()

    def choice(self) -> NetworkChoice:
        """The validated choice; raises a DeskGridError sentence naming the bad field."""
        if self.demo.isChecked():
            return NetworkChoice(
                "demo", self.rpc_url.text(), self.hub_address.text(), self.grid_url.text()
            )
        rpc, hub, grid = check_network(
            self.rpc_url.text(), self.hub_address.text(), self.grid_url.text()
        )
        return NetworkChoice("network", rpc, hub, grid)

"""The main window: a side navigation of panes (more are added as features arrive), the boot
view until the backend is up, and a status bar with the network and the latest block."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QSize, Qt
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from deskgrid.ui.boot_view import BootView
from deskgrid.ui.controller import AppController
from deskgrid.ui.first_run_dialog import FirstRunDialog
from deskgrid.ui.icons import icon
from deskgrid.ui.menu_bar import NOTICE_MS, build_menu_bar
from deskgrid.ui.network_form import NetworkChoice

if TYPE_CHECKING:
    from deskgrid.ui.publish_dialog import PublishDialog

BOOT_PAGE, SHELL_PAGE = 0, 1
NO_WALLET_TO_PUBLISH = (
    "Open or unlock a wallet (Wallet pane) to publish an app: it signs the transaction."
)
NAV_WIDTH = 190


class MainWindow(QMainWindow):
    def __init__(self, controller: AppController) -> None:
        super().__init__()
        self.controller = controller
        self.setWindowTitle("DeskGrid")
        self.setWindowIcon(icon("deskgrid"))
        self.resize(1040, 720)
        self.panes: dict[str, QWidget] = {}
        self.panes_backend: object | None = None  # the backend the panes were built on
        self.first_run: FirstRunDialog | None = None

        self.nav = QListWidget()
        self.nav.setFixedWidth(NAV_WIDTH)
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setFrameShape(QFrame.Shape.NoFrame)
        self.nav.setSpacing(2)
        self.nav.setStyleSheet("QListWidget::item { padding: 8px 6px; }")
        self.stack = QStackedWidget()
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        shell = QWidget()
        row = QHBoxLayout(shell)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.VLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        row.addWidget(line)
        row.addWidget(self.stack, 1)

        self.boot = BootView()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.boot)
        self.pages.addWidget(shell)
        self.setCentralWidget(self.pages)
        self.quit_app: Callable[[], None] = QCoreApplication.quit  # the tray's quit, if any
        self.publish_dialog: PublishDialog | None = None
        self.publish_action = build_menu_bar(self, lambda: self.quit_app(), self.open_publish)
        self._wallet_changed()
        self.network_label = QLabel()
        self.block_label = QLabel()
        # permanent (right-hand) widgets: notices shown on the left never cover them
        self.statusBar().addPermanentWidget(self.network_label)
        self.statusBar().addPermanentWidget(self.block_label)

        bridge = controller.bridge
        bridge.boot_progress.connect(self.boot.show_progress)
        bridge.new_block.connect(self._show_block)  # a method: gone with the window
        controller.booting.connect(self._booting)
        controller.booted.connect(self._booted)
        bridge.wallet_changed.connect(self._wallet_changed)  # a method: gone with the window
        controller.boot_failed.connect(self.boot.show_error)
        self.boot.retry.connect(controller.start)
        self.boot.change_network.connect(self.ask_network)

    # -- panes --------------------------------------------------------------------------

    def add_pane(self, key: str, title: str, widget: QWidget, pane_icon: QIcon | None = None):
        """Add a pane to the navigation (in call order); returns its navigation item."""
        item = QListWidgetItem(pane_icon or QIcon(), title)
        item.setData(Qt.ItemDataRole.UserRole, key)
        self.panes[key] = widget
        self.stack.addWidget(widget)
        self.nav.addItem(item)
        if self.nav.currentRow() < 0:
            self.nav.setCurrentRow(0)
        return item

    def show_pane(self, key: str) -> None:
        self.nav.setCurrentRow(list(self.panes).index(key))

    def current_pane(self) -> str | None:
        item = self.nav.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def remove_panes(self) -> None:
        """Remove and delete every pane and its navigation item."""
        self.nav.blockSignals(True)
        self.nav.clear()
        self.nav.blockSignals(False)
        for widget in self.panes.values():
            dispose = getattr(widget, "dispose", None)
            if callable(dispose):
                dispose()
            self.stack.removeWidget(widget)
            widget.deleteLater()
        self.panes.clear()
        self.panes_backend = None

    def build_panes(self) -> None:
        """The panes for the current backend (again after a network change), keeping the
        selected pane when it still exists."""
        selected = self.current_pane()
        if self.panes:
            self.remove_panes()
        self._add_panes()
        self.panes_backend = self.controller.backend
        if selected in self.panes:
            self.show_pane(selected)
        else:
            self.nav.setCurrentRow(0)
        self.stack.setCurrentIndex(self.nav.currentRow())

    def _add_panes(self) -> None:
        from deskgrid.ui.settings_pane import SettingsPane
        from deskgrid.ui.wallet_pane import WalletPane

        assert self.controller.session is not None
        self.add_pane(
            "wallet",
            "Wallet",
            WalletPane(self.controller.session, self.controller.bridge),
            icon("wallet"),
        )
        self._add_jobs_pane()
        self._add_volunteer_pane()
        self.add_pane("settings", "Settings", SettingsPane(self.controller), icon("settings"))

    def _add_jobs_pane(self) -> None:
        """The job composer, on any backend with a marketplace whose jobs can be run: the
        local node, or a network (the plain embedded-chain demo has no grid to run them)."""
        from deskgrid.desktop.jobs_market import jobs_market_for

        backend = self.controller.backend
        grid_url = self.controller.settings.settings.grid_url
        market = jobs_market_for(backend, grid_url if backend and not backend.is_demo else None)
        if market is None or self.controller.session is None:
            return
        if backend is not None and backend.is_demo and not market.grid_url:
            return
        from deskgrid.ui.jobs_pane import JobsPane

        pane = JobsPane(self.controller.session, market, self.controller.bridge)
        self.add_pane("jobs", "Jobs", pane, icon("jobs"))

    def _add_volunteer_pane(self) -> None:
        from deskgrid.ui.volunteer_pane import volunteer_pane_for

        pane = volunteer_pane_for(self.controller)
        self.add_pane("volunteer", "Volunteer", pane, icon("volunteer"))

    def _show_block(self, number: int) -> None:
        self.block_label.setText(f"Block {number:,}")

    # -- publishing an app ---------------------------------------------------------------

    def _wallet_changed(self, _address: str | None = None) -> None:
        """Publishing signs with the open wallet: the menu item follows it."""
        action = self.publish_action
        if action is None:
            return
        session = self.controller.session
        is_open = session is not None and session.service is not None
        action.setEnabled(is_open)
        tip = "" if is_open else NO_WALLET_TO_PUBLISH
        action.setToolTip(tip or "Register a Docker app on the hub, with its manifest")
        action.setStatusTip(tip)

    def open_publish(self) -> PublishDialog | None:
        """The "Publish an app" dialog, or a sentence in the status bar without a wallet."""
        session = self.controller.session
        if session is None or session.service is None:
            self.statusBar().showMessage(NO_WALLET_TO_PUBLISH, NOTICE_MS)
            return None
        from deskgrid.ui.publish_dialog import PublishDialog

        dialog = PublishDialog(session.service, self)
        dialog.published.connect(self._app_published)
        dialog.open()
        self.publish_dialog = dialog
        return dialog

    def _app_published(self, app_id: int) -> None:
        """A new app on the hub: the Jobs pane lists it, and the status bar says so."""
        pane = self.panes.get("jobs")
        if pane is not None:
            pane.load_catalog()  # type: ignore[attr-defined]
        self.statusBar().showMessage(f"Published app #{app_id}.", NOTICE_MS)

    # -- boot ---------------------------------------------------------------------------

    def start(self) -> None:
        """First run: ask demo or network (non-blocking); then boot."""
        if self.controller.needs_first_run:
            self.ask_network()
        else:
            self.controller.start()

    def ask_network(self) -> None:
        self.first_run = FirstRunDialog(self)
        self.first_run.form.load(self.controller.settings.settings)
        self.first_run.chosen.connect(self._network_chosen)
        self.first_run.open()

    def _network_chosen(self, choice: NetworkChoice) -> None:
        self.controller.apply_network(choice)

    def _booting(self) -> None:
        self.boot.reset()
        self.pages.setCurrentIndex(BOOT_PAGE)
        self.network_label.setText(self.controller.describe_network())
        self.block_label.clear()

    def _booted(self) -> None:
        if not self.panes or self.panes_backend is not self.controller.backend:
            self.build_panes()
        self.network_label.setText(self.controller.describe_network())
        self.pages.setCurrentIndex(SHELL_PAGE)

    def bring_to_front(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def quit_sentence(self) -> str | None:
        """What quitting now means for the tasks still running, or None."""
        pane = self.panes.get("jobs")
        count = pane.unfinished_tasks() if pane is not None else 0  # type: ignore[attr-defined]
        if not count:
            return None
        tasks = "1 task is" if count == 1 else f"{count} tasks are"
        return (
            f"{tasks} still running: they go on without the app, and DeskGrid resumes them "
            "when it starts again (their keys are kept, encrypted, in the journal)."
        )

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        event.accept()

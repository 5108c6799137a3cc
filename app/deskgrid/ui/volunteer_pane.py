"""The volunteer pane: "Donate my CPU", what the worker is doing and why, the preferences
(saved and applied live), jobs done and the RLC earned, with a chart over time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from deskgrid.desktop import autostart
from deskgrid.desktop.settings import SettingsStore
from deskgrid.errors import DeskGridError
from deskgrid.money import format_rlc
from deskgrid.ui.earnings_chart import EarningsChart
from deskgrid.ui.preferences_form import PreferencesForm
from deskgrid.ui.status_line import StatusLine
from deskgrid.ui.tasks import spawn
from deskgrid.worker.donation import Donation
from deskgrid.worker.policy import Preferences
from deskgrid.worker.status import WorkerStatus

if TYPE_CHECKING:
    from deskgrid.ui.controller import AppController

NO_GRID = (
    "No grid to donate to: choose a network with a grid URL in Settings, or use the demo "
    "when it provides a local grid."
)
STATE_NAMES = {
    "idle": "Idle",
    "computing": "Computing",
    "suspended": "Suspended",
    "error": "Problem",
    "stopped": "Off",
}
EARNINGS_INTERVAL_MS = 5000


class VolunteerPane(QWidget):
    status_changed = Signal(object)  # WorkerStatus, on the GUI thread

    def __init__(
        self,
        donation: Donation,
        grid_url: str | None,
        *,
        settings: SettingsStore | None = None,
        earnings_interval_ms: int = EARNINGS_INTERVAL_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.donation = donation
        self.grid_url = grid_url or None
        self.settings = settings or SettingsStore()
        if self.grid_url:
            donation.grid_url = self.grid_url

        self.toggle = QCheckBox("Donate my CPU")
        self.toggle.setStyleSheet("QCheckBox { font-size: 15px; font-weight: 600; }")
        self.no_grid = QLabel(NO_GRID)
        self.no_grid.setWordWrap(True)
        self.state = QLabel()
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.job = QLabel("—")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.speed = QLabel("—")
        self.jobs_done = QLabel("0")
        self.earnings = QLabel("—")
        self.address = QLabel("—")
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.payout = QLabel(donation.payout or "the worker's address")
        self.payout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart = EarningsChart()
        self.form = PreferencesForm(donation.cpu_count)
        self.form.load(self.settings.preferences())
        self.start_at_login = QCheckBox("Start DeskGrid in the tray when I log in")
        self.start_at_login.setChecked(self._autostart_installed())
        self.message = StatusLine()

        now = QGroupBox("Now")
        now_form = QFormLayout(now)
        now_form.addRow("State", self.state)
        now_form.addRow("", self.reason)
        now_form.addRow("Job", self.job)
        now_form.addRow("Progress", self.progress)
        now_form.addRow("Speed", self.speed)
        earned = QGroupBox("Earnings")
        earned_form = QFormLayout(earned)
        earned_form.addRow("Jobs done", self.jobs_done)
        earned_form.addRow("Credited", self.earnings)
        earned_form.addRow("Worker", self.address)
        earned_form.addRow("Paid to", self.payout)
        earned_form.addRow(self.chart)
        prefs = QGroupBox("Preferences")
        prefs_layout = QVBoxLayout(prefs)
        prefs_layout.addWidget(self.form)
        prefs_layout.addWidget(self.start_at_login)

        layout = QVBoxLayout(self)
        layout.addWidget(self.toggle)
        layout.addWidget(self.no_grid)
        layout.addWidget(now)
        layout.addWidget(earned)
        layout.addWidget(prefs)
        layout.addWidget(self.message)
        layout.addStretch(1)

        self.toggle.setEnabled(bool(self.grid_url))
        self.no_grid.setVisible(not self.grid_url)
        self.toggle.toggled.connect(self._toggled)
        self.form.changed.connect(self.apply_preferences)
        self.start_at_login.toggled.connect(self.set_start_at_login)
        self.status_changed.connect(self.show_status)
        self._unsubscribe = donation.subscribe(self.status_changed.emit)
        self.destroyed.connect(lambda *_: self._unsubscribe())
        self.timer = QTimer(self)
        self.timer.setInterval(earnings_interval_ms)
        self.timer.timeout.connect(self.refresh_earnings)
        self.timer.start()
        self._last_jobs = -1
        self.show_status(donation.status)
        self.refresh_earnings()

    # -- actions ------------------------------------------------------------------------

    def _toggled(self, on: bool) -> None:
        if on == self.donation.running:
            return
        self.message.clear_message()
        if on:
            spawn(self.donation.start(self.grid_url), self._failed)
        else:
            spawn(self.donation.stop(), self._failed)

    def _failed(self, sentence: str) -> None:
        self.message.error(sentence)
        self.toggle.blockSignals(True)
        self.toggle.setChecked(self.donation.running)
        self.toggle.blockSignals(False)

    def apply_preferences(self, prefs: Preferences) -> None:
        try:
            self.settings.save_preferences(prefs)
        except (OSError, DeskGridError) as exc:
            self.message.error(f"The preferences could not be saved ({exc}); check the disk.")
        spawn(self.donation.set_preferences(prefs), self.message.error)

    @staticmethod
    def _autostart_installed() -> bool:
        try:
            return autostart.installed()
        except OSError:
            return False

    def set_start_at_login(self, on: bool) -> None:
        try:
            if on:
                autostart.install()
                self.message.ok("DeskGrid will start in the tray when you log in.")
            else:
                autostart.remove()
                self.message.info("DeskGrid will no longer start when you log in.")
        except OSError as exc:
            self.message.error(f"The login entry could not be changed ({exc}); check permissions.")
            self.start_at_login.blockSignals(True)
            self.start_at_login.setChecked(self._autostart_installed())
            self.start_at_login.blockSignals(False)

    def refresh_earnings(self) -> None:
        spawn(self._refresh_earnings(), self.message.error)

    async def _refresh_earnings(self) -> None:
        nrlc = await self.donation.read_earnings()
        if nrlc is not None:
            self.earnings.setText(format_rlc(nrlc))
        self.chart.set_samples([(s.at, s.nrlc) for s in self.donation.samples])

    # -- status -------------------------------------------------------------------------

    def show_status(self, status: WorkerStatus) -> None:
        self.toggle.blockSignals(True)
        self.toggle.setChecked(self.donation.running)
        self.toggle.blockSignals(False)
        self.state.setText(STATE_NAMES.get(status.state, status.state))
        self.reason.setText(status.reason)
        self.job.setText(f"{status.app} · {status.job_id}" if status.job_id else "—")
        if status.progress is None:
            self.progress.setValue(0)
        else:
            self.progress.setValue(round(max(0.0, min(1.0, status.progress)) * 1000))
        self.speed.setText(f"{status.keys_per_s:,.0f} keys/s" if status.keys_per_s else "—")
        self.jobs_done.setText(f"{status.jobs_done:,}")
        if status.address:
            self.address.setText(status.address)
        self.payout.setText(self.donation.payout or "the worker's address")
        if status.jobs_done != self._last_jobs:
            self._last_jobs = status.jobs_done
            if status.jobs_done:
                self.refresh_earnings()


def donation_for(controller: AppController) -> Donation:
    """The controller's Donation, made on first use (shared by the pane and the tray)."""
    donation = getattr(controller, "donation", None)
    if donation is None:
        from deskgrid.paths import sub_dir

        # its own folder: the local node's workers keep theirs in "worker"
        donation = Donation(
            preferences=controller.settings.preferences(), state_dir=sub_dir("volunteer")
        )
        controller.donation = donation  # type: ignore[attr-defined]
    return donation


def volunteer_pane_for(controller: AppController) -> VolunteerPane:
    """The pane on the controller's backend: its grid (else the settings' one), the worker key
    of the volunteer folder signing in, the open wallet's address (if any) as the payout, and
    the hub escrow as the earnings.

    Called again after a network change: the donation follows the new backend, so a running
    worker moves to the new grid (or stops when there is none)."""
    backend = controller.backend
    donation = donation_for(controller)
    session = controller.session
    grid_url = getattr(backend, "grid_url", None) or controller.settings.settings.grid_url
    grid_url = grid_url or None
    moved = donation.running and donation.grid_url != grid_url
    if not donation.running or moved:
        service = session.service if session is not None else None
        account = getattr(service, "account", None)
        donation.payout = account.address if account is not None else None
    donation.earnings = None
    if backend is not None and backend.chain is not None and backend.market is not None:
        from deskgrid.chain.contracts import HubContract

        donation.earnings = HubContract(backend.chain, backend.market.hub).balance_of
    if moved:
        spawn(donation.start(grid_url) if grid_url else donation.stop())
    elif not donation.running:
        donation.grid_url = grid_url
    return VolunteerPane(donation, grid_url, settings=controller.settings)

"""The volunteer pane: "Donate my CPU", what the worker is doing and why, the preferences
(saved and applied live), where earnings go (a wallet or any address, saved; a change signs
the worker in again), what was earned (the hub's Rewarded events to that address) with a chart
per task or per day, what it can withdraw, its stake on the hub (staked, locked, free,
reputation) with "Stake…" and "Unstake…" signed by the open wallet when it is the payout account,
and the worker key's own credit with "Withdraw to wallet". Among the preferences, "Run apps
from other developers in Docker" (off by default) is disabled with a sentence when no Docker
daemon answers (looked for when the pane opens)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from deskgrid.desktop import autostart
from deskgrid.desktop.settings import SettingsStore
from deskgrid.errors import DeskGridError
from deskgrid.money import format_eth, format_rlc
from deskgrid.ui.earnings_chart import EarningsChart
from deskgrid.ui.payout_choice import PayoutChoice
from deskgrid.ui.preferences_form import PreferencesForm
from deskgrid.ui.stake_card import StakeCard
from deskgrid.ui.status_line import StatusLine
from deskgrid.ui.tasks import spawn
from deskgrid.worker.donation import Donation
from deskgrid.worker.policy import Preferences
from deskgrid.worker.status import WorkerStatus

if TYPE_CHECKING:
    from deskgrid.desktop.payouts import Payouts, PayoutView
    from deskgrid.ui.controller import AppController
    from deskgrid.ui.stake_dialog import StakeAction
    from deskgrid.wallet.history import TxRecord
    from deskgrid.wallet.service import WalletService
    from deskgrid.worker.sweep import SweepResult

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
NO_PAYOUT = (
    "Choose where earnings go first (one of your wallets or an address): the worker's credit "
    "is sent there."
)
NOTHING_FREE = (
    "Nothing is free in the hub escrow to stake: deposit RLC into the escrow first (Deposit…, "
    "or Wallet, Deposit)."
)
NOTHING_STAKED = "Nothing is staked: there is nothing to unstake."
ALL_LOCKED = (
    "All the stake, {locked}, is locked by tasks being computed: it cannot be unstaked now; it "
    "comes free when they end."
)


class VolunteerPane(QWidget):
    status_changed = Signal(object)  # WorkerStatus, on the GUI thread

    def __init__(
        self,
        donation: Donation,
        grid_url: str | None,
        *,
        settings: SettingsStore | None = None,
        payouts: Payouts | None = None,
        open_wallet: str | None = None,
        wallet: Callable[[], WalletService | None] | None = None,
        earnings_interval_ms: int = EARNINGS_INTERVAL_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.donation = donation
        self.grid_url = grid_url or None
        self.settings = settings or SettingsStore()
        self.payouts = payouts
        self.open_wallet = open_wallet
        self.wallet = wallet or (lambda: None)  # the open, unlocked wallet (it signs stakes)
        self.view: PayoutView | None = None
        self.docker_checked = False  # whether Docker was looked for (the pane opens first)
        self.worker_address: str | None = None
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
        self.available = QLabel("—")
        self.address = QLabel("—")
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.worker_credit = QLabel("—")
        self.withdraw_button = QPushButton("Withdraw to wallet")
        self.withdraw_button.setEnabled(payouts is not None)
        self.payout = QLabel()
        self.payout.setWordWrap(True)
        self.payout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.payout_choice = PayoutChoice()
        self.payout_choice.load(self.settings.wallet_entries(), self.settings.payout())
        self.stake_card = StakeCard()
        self.stake_card.setEnabled(payouts is not None)
        self.chart = EarningsChart()
        self.chart_mode = QComboBox()
        self.chart_mode.addItems(["Per task", "Per day"])
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
        paid = QGroupBox("Payout")
        paid_form = QFormLayout(paid)
        paid_form.addRow("Pay to", self.payout_choice)
        paid_form.addRow("", self.payout)
        earned = QGroupBox("Earnings")
        earned_form = QFormLayout(earned)
        earned_form.addRow("Jobs done", self.jobs_done)
        earned_form.addRow("Earned", self.earnings)
        earned_form.addRow("Available to withdraw", self.available)
        earned_form.addRow("Chart", self.chart_mode)
        earned_form.addRow(self.chart)
        worker_box = QGroupBox("Worker key")
        worker_form = QFormLayout(worker_box)
        worker_form.addRow("Address", self.address)
        worker_form.addRow("Credit", self.worker_credit)
        worker_form.addRow("", self.withdraw_button)
        prefs = QGroupBox("Preferences")
        prefs_layout = QVBoxLayout(prefs)
        prefs_layout.addWidget(self.form)
        prefs_layout.addWidget(self.start_at_login)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.toggle)
        layout.addWidget(self.no_grid)
        layout.addWidget(now)
        layout.addWidget(paid)
        layout.addWidget(earned)
        layout.addWidget(self.stake_card)
        layout.addWidget(worker_box)
        layout.addWidget(prefs)
        layout.addStretch(1)
        self.scroll = QScrollArea()  # the cards are taller than a small screen
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll, 1)
        outer.addWidget(self.message)  # always in sight, wherever the cards are scrolled

        self.toggle.setEnabled(bool(self.grid_url))
        self.no_grid.setVisible(not self.grid_url)
        self.toggle.toggled.connect(self._toggled)
        self.form.changed.connect(self.apply_preferences)
        self.start_at_login.toggled.connect(self.set_start_at_login)
        self.payout_choice.chosen.connect(self.apply_payout)
        self.chart_mode.currentIndexChanged.connect(lambda *_: self._show_chart())
        self.withdraw_button.clicked.connect(self.withdraw)
        self.stake_card.stake_clicked.connect(lambda: self.open_stake("stake"))
        self.stake_card.unstake_clicked.connect(lambda: self.open_stake("unstake"))
        self.stake_card.deposit_clicked.connect(self.open_deposit)
        self.status_changed.connect(self.show_status)
        self._unsubscribe = donation.subscribe(self.status_changed.emit)
        self.destroyed.connect(lambda *_: self._unsubscribe())
        self.timer = QTimer(self)
        self.timer.setInterval(earnings_interval_ms)
        self.timer.timeout.connect(self.refresh_earnings)
        self.timer.start()
        self._last_jobs = -1
        self._show_payout()
        self.show_status(donation.status)
        self.refresh_earnings()
        spawn(self._look_for_docker(), self.message.error)

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

    async def _look_for_docker(self) -> None:
        """Disable "Run apps from other developers" with a sentence when Docker is absent."""
        from deskgrid.worker.docker_runner import NO_DOCKER_FOR_APPS, docker_available

        found = await asyncio.to_thread(docker_available)
        self.docker_checked = True
        self.form.set_docker_missing(None if found else NO_DOCKER_FOR_APPS)

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

    # -- payout -------------------------------------------------------------------------

    def effective_payout(self) -> str | None:
        """Where new results are paid: the choice, else the open wallet (None: the worker)."""
        return self.settings.payout() or self.open_wallet

    def apply_payout(self, chosen: str | None) -> None:
        """Save the choice (None: the open wallet) and sign the worker in again with it."""
        if chosen == self.settings.payout():
            return
        try:
            self.settings.save_payout(chosen)
        except (OSError, DeskGridError) as exc:
            self.message.error(f"The payout address could not be saved ({exc}); check the disk.")
            return
        address = self.effective_payout()
        spawn(self.donation.set_payout(address), self.message.error)
        self._show_payout()
        self.message.ok(
            f"New results pay {address}." if address else "New results pay the worker's address."
        )
        self.refresh_earnings()

    def _show_payout(self) -> None:
        address = self.effective_payout()
        if address is None:
            self.payout.setText(
                "Earnings go to the worker's own address (no wallet is open): choose a wallet "
                "or an address above, or withdraw them later."
            )
            return
        names = {w.address: w.name for w in self.settings.wallet_entries()}
        named = f" ({names[address]})" if address in names else ""
        self.payout.setText(f"Earnings go to {address}{named}.")

    # -- earnings -----------------------------------------------------------------------

    def refresh_earnings(self) -> None:
        spawn(self._refresh_earnings(), self.message.error)

    async def _refresh_earnings(self) -> None:
        if self.payouts is None:
            return
        if self.worker_address is None:
            self.worker_address = (await asyncio.to_thread(self.donation.worker_key)).address
            self.address.setText(self.worker_address)
        payout = self.effective_payout() or self.worker_address
        view = await asyncio.to_thread(self.payouts.read, payout, self.worker_address)
        if payout != (self.effective_payout() or self.worker_address):
            return  # the choice changed meanwhile: a newer refresh shows it
        self.view = view
        self.earnings.setText(format_rlc(view.earned))
        self.available.setText(format_rlc(view.available))
        self.stake_card.show_stake(view.stake)
        credit = view.worker_credit + view.worker_rlc
        self.worker_credit.setText(
            f"{format_rlc(credit)} · {format_eth(view.worker_eth)} for network fees"
        )
        self._show_chart()

    def _show_chart(self) -> None:
        view = self.view
        if view is None:
            self.chart.set_samples([])
            return
        per_day = self.chart_mode.currentIndex() == 1
        self.chart.set_samples(view.per_day if per_day else view.per_task)

    # -- stake -------------------------------------------------------------------------

    def stake_signer(self) -> WalletService | None:
        """The open wallet when it is the payout account (whose stake it is); else None, and
        the card says which wallet to open."""
        view = self.view
        if view is None:
            return None
        service = self.wallet()
        if service is not None and service.address == view.payout:
            return service
        names = {w.address: w.name for w in self.settings.wallet_entries()}
        if view.payout == self.worker_address:
            self.stake_card.say(
                "Stake belongs to the payout account: choose one of your wallets as the payout "
                "above, and open it, to stake."
            )
        elif view.payout in names:
            self.stake_card.say(
                f"Stake belongs to the payout account, wallet '{names[view.payout]}' "
                f"({view.payout}): open that wallet (Wallet pane) to stake or unstake."
            )
        else:
            self.stake_card.say(
                f"The payout address {view.payout} is not one of your wallets: stake from the "
                "wallet that holds its key, or choose one of your wallets as the payout."
            )
        return None

    def open_stake(self, action: StakeAction) -> None:
        """Stake free escrow, or unstake free stake, after the checks that need no fee quote."""
        self.stake_card.say("")
        service, view = self.stake_signer(), self.view
        if service is None or view is None:
            return
        if action == "stake":
            if view.available <= 0:
                self.stake_card.say(NOTHING_FREE, deposit=True)
                return
            most = view.available
        else:
            if view.stake.amount <= 0:
                self.stake_card.say(NOTHING_STAKED)
                return
            if view.stake.free <= 0:
                self.stake_card.say(ALL_LOCKED.format(locked=format_rlc(view.stake.locked)))
                return
            most = view.stake.free
        from deskgrid.ui.stake_dialog import StakeDialog

        self._open_money_dialog(StakeDialog(service, action, most, self))

    def open_deposit(self) -> None:
        service = self.stake_signer()
        if service is None:
            return
        from deskgrid.ui.escrow_dialog import EscrowDialog

        self._open_money_dialog(EscrowDialog(service, "deposit", self))

    def _open_money_dialog(self, dialog: QWidget) -> None:
        dialog.completed.connect(self._money_moved)  # type: ignore[attr-defined]
        dialog.finished.connect(lambda *_: dialog.deleteLater())  # type: ignore[attr-defined]
        self.money_dialog = dialog
        dialog.open()  # type: ignore[attr-defined]

    def _money_moved(self, record: TxRecord) -> None:
        what = {"stake": "Staked", "unstake": "Unstaked", "deposit": "Deposited"}[record.kind]
        self.stake_card.say("")
        self.message.ok(f"{what} {format_rlc(record.amount)}; transaction {record.tx_hash} mined.")
        self.refresh_earnings()

    # -- withdrawing the worker key's credit ---------------------------------------------

    def withdraw(self) -> None:
        self.message.clear_message()
        spawn(self._withdraw(), self.message.error)

    async def _withdraw(self) -> None:
        if self.payouts is None:
            return
        to = self.effective_payout()
        if to is None:
            self.message.error(NO_PAYOUT)
            return
        key = await asyncio.to_thread(self.donation.worker_key)
        plan = await asyncio.to_thread(self.payouts.withdraw_plan, key, to)
        from deskgrid.ui.withdraw_dialog import WithdrawDialog

        dialog = WithdrawDialog(self.payouts, plan, self)
        dialog.completed.connect(lambda result: self._withdrawn(result, to))
        dialog.finished.connect(lambda *_: dialog.deleteLater())
        self.withdraw_dialog = dialog
        dialog.open()

    def _withdrawn(self, result: SweepResult, to: str) -> None:
        self.message.ok(result.describe(to))
        self.refresh_earnings()

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
    of the volunteer folder signing in, the payout address the volunteer chose (else the open
    wallet's, if any), and the hub's Rewarded events as the earnings.

    Called again after a network change: the donation follows the new backend, so a running
    worker moves to the new grid (or stops when there is none)."""
    backend = controller.backend
    donation = donation_for(controller)
    session = controller.session
    grid_url = getattr(backend, "grid_url", None) or controller.settings.settings.grid_url
    grid_url = grid_url or None
    service = session.service if session is not None else None
    account = getattr(service, "account", None)
    open_wallet = account.address if account is not None else None
    moved = donation.running and donation.grid_url != grid_url
    if not donation.running or moved:
        donation.payout = controller.settings.payout() or open_wallet
    payouts = None
    if backend is not None and backend.chain is not None and backend.market is not None:
        from deskgrid.chain.contracts import HubContract
        from deskgrid.desktop.payouts import Payouts

        payouts = Payouts(HubContract(backend.chain, backend.market.hub))
    if moved:
        spawn(donation.start(grid_url) if grid_url else donation.stop())
    elif not donation.running:
        donation.grid_url = grid_url
    return VolunteerPane(
        donation,
        grid_url,
        settings=controller.settings,
        payouts=payouts,
        open_wallet=open_wallet,
        wallet=(lambda: session.service) if session is not None else None,
    )

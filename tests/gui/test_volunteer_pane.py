"""The volunteer pane: the toggle starts and stops the worker, its status is shown,
preferences are saved and applied live, the payout address is chosen and kept, and the worker
key's credit is withdrawn to the wallet on a real chain."""

from __future__ import annotations

import pytest

from deskgrid.desktop.settings import SettingsStore
from deskgrid.worker.donation import Donation
from deskgrid.worker.policy import Preferences
from tests.gui.conftest import run_async
from tests.gui.fake_worker import FakeWorker

pytestmark = pytest.mark.gui


def load_preferences() -> Preferences:
    """What a restarted app would read from the settings file."""
    return SettingsStore().preferences()


GRID = "http://127.0.0.1:1"


@pytest.fixture
def pane(qtbot):
    from deskgrid.ui.volunteer_pane import VolunteerPane

    donation = Donation(worker_factory=FakeWorker, cpu_count=4)
    widget = VolunteerPane(donation, GRID, earnings_interval_ms=60_000)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    if donation.running:
        run_async(qtbot, donation.stop())


def test_toggle_starts_shows_status_and_stops(qtbot, pane):
    donation = pane.donation
    assert pane.toggle.isEnabled() and not pane.no_grid.isVisible()
    assert pane.state.text() == "Off"
    pane.toggle.setChecked(True)
    qtbot.waitUntil(lambda: donation.running, timeout=3000)
    assert donation.grid_url == GRID
    worker = donation.worker
    qtbot.waitUntil(lambda: pane.state.text() == "Idle", timeout=3000)
    worker.push(
        state="computing", reason="Computing VanityGen job j7.", app="VanityGen", job_id="j7",
        progress=0.25, keys_per_s=123456.0,
    )  # fmt: skip
    qtbot.waitUntil(lambda: pane.state.text() == "Computing", timeout=3000)
    assert pane.reason.text() == "Computing VanityGen job j7."
    assert pane.job.text() == "VanityGen · j7" and pane.progress.value() == 250
    assert pane.speed.text() == "123,456 keys/s"
    assert pane.address.text() == worker.account.address

    worker.push(state="idle", reason="Result of job j7 delivered.", jobs_done=1, job_id=None)
    qtbot.waitUntil(lambda: pane.jobs_done.text() == "1", timeout=3000)

    pane.toggle.setChecked(False)
    qtbot.waitUntil(lambda: not donation.running, timeout=3000)
    qtbot.waitUntil(lambda: pane.state.text() == "Off", timeout=3000)
    assert pane.jobs_done.text() == "1" and not pane.toggle.isChecked()


def test_preferences_are_saved_and_applied_live(qtbot, pane):
    donation = pane.donation
    pane.toggle.setChecked(True)
    qtbot.waitUntil(lambda: donation.running, timeout=3000)
    worker = donation.worker
    pane.form.cpu_pct.setValue(30)
    qtbot.waitUntil(lambda: worker.preferences.cpu_usage_limit == 30, timeout=3000)
    assert donation.worker is worker  # applied to the running worker
    assert load_preferences().cpu_usage_limit == 30
    pane.form.not_on_battery.setChecked(False)
    pane.form.only_idle.setChecked(True)
    pane.form.idle_minutes.setValue(10)
    pane.form.limit_hours.setChecked(True)
    saved = load_preferences()
    assert saved.run_on_batteries and not saved.run_if_user_active
    assert saved.idle_time_to_run == 10
    pane.form.memory_pct.setValue(40)
    assert load_preferences().ram_max_used_idle_pct == 40
    assert load_preferences().ram_max_used_busy_pct <= 40
    pane.form.cores.setValue(1)  # a change of cores restarts the worker
    qtbot.waitUntil(lambda: donation.worker is not worker, timeout=3000)
    assert donation.worker.config.cores == 1 and donation.running
    assert load_preferences().max_ncpus_pct == 25
    pane.form.others_pct.setValue(60)  # pause only while other programs use over 60 %
    qtbot.waitUntil(lambda: donation.worker.preferences.suspend_cpu_usage == 60, timeout=3000)
    assert load_preferences().suspend_cpu_usage == 60
    pane.form.others_pct.setValue(0)
    assert pane.form.others_pct.text() == "never" and load_preferences().suspend_cpu_usage == 0


def test_form_loads_saved_preferences(qtbot):
    from deskgrid.ui.preferences_form import PreferencesForm

    SettingsStore().save_preferences(
        Preferences(start_hour=22, end_hour=6, cpu_usage_limit=60, suspend_cpu_usage=40)
    )
    form = PreferencesForm(cpu_count=8)
    qtbot.addWidget(form)
    form.load(load_preferences())
    assert form.limit_hours.isChecked() and form.start_time.time().hour() == 22
    assert form.cpu_pct.value() == 60 and form.cores.value() == 4
    assert form.others_pct.value() == 40
    assert form.preferences().start_hour == 22 and form.preferences().end_hour == 6


def test_no_grid_disables_the_toggle_with_a_sentence(qtbot):
    from deskgrid.ui.volunteer_pane import NO_GRID, VolunteerPane

    widget = VolunteerPane(Donation(worker_factory=FakeWorker), None)
    qtbot.addWidget(widget)
    widget.show()
    assert not widget.toggle.isEnabled()
    assert widget.no_grid.isVisible() and widget.no_grid.text() == NO_GRID


def test_the_window_has_the_volunteer_pane(qtbot, booted):
    pane = booted.panes["volunteer"]
    booted.show_pane("volunteer")
    assert booted.stack.currentWidget() is pane
    assert booted.controller.donation is pane.donation
    grid = getattr(booted.controller.backend, "grid_url", None)
    assert pane.toggle.isEnabled() == bool(grid)
    assert pane.payouts is not None and pane.withdraw_button.isEnabled()


def test_start_at_login_installs_the_xdg_entry(qtbot, pane, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    entry = tmp_path / "cfg" / "autostart" / "deskgrid.desktop"
    pane.start_at_login.setChecked(True)
    assert entry.exists() and "--tray" in entry.read_text(encoding="utf-8")
    pane.start_at_login.setChecked(False)
    assert not entry.exists()


def test_donate_runs_an_echo_job_on_a_real_grid(qtbot, tmp_path):
    from deskgrid.grid.client import GridClient
    from deskgrid.grid.config import GridConfig
    from deskgrid.grid.server import GridServer
    from deskgrid.ui.volunteer_pane import VolunteerPane

    server = GridServer(GridConfig(data_dir=tmp_path / "grid", idle_retry_s=0.1))
    url = run_async(qtbot, server.start())
    submitter = GridClient(url, token=server.submitter_token)
    permissive = Preferences(
        max_ncpus_pct=100, run_if_user_active=True, suspend_cpu_usage=0, run_on_batteries=True
    )
    donation = Donation(preferences=permissive, state_dir=tmp_path / "w", poll_interval=0.1)
    widget = VolunteerPane(donation, url, earnings_interval_ms=60_000)
    qtbot.addWidget(widget)
    try:
        widget.toggle.setChecked(True)
        qtbot.waitUntil(lambda: donation.running, timeout=3000)
        job = run_async(qtbot, submitter.submit("echo", {"text": "from the pane"}))
        qtbot.waitUntil(lambda: widget.jobs_done.text() == "1", timeout=20_000)
        assert run_async(qtbot, submitter.download_result(job.id)) == b"from the pane"
        widget.toggle.setChecked(False)
        qtbot.waitUntil(lambda: widget.state.text() == "Off", timeout=12_000)
        assert not donation.running and not widget.toggle.isChecked()
    finally:
        if donation.running:
            run_async(qtbot, donation.stop(), timeout=12_000)
        run_async(qtbot, submitter.aclose())
        run_async(qtbot, server.stop())


def test_the_payout_choice_is_checked_saved_and_signs_in_again(qtbot):
    from deskgrid.ui.volunteer_pane import VolunteerPane
    from deskgrid.wallet.entries import WalletEntry

    savings = WalletEntry(name="Savings", address="0x" + "1" * 40, storage="keyring")
    SettingsStore().update(wallets=[savings])
    donation = Donation(worker_factory=FakeWorker, cpu_count=4)
    pane = VolunteerPane(donation, GRID, earnings_interval_ms=60_000)
    qtbot.addWidget(pane)
    pane.toggle.setChecked(True)
    qtbot.waitUntil(lambda: donation.running, timeout=3000)
    first = donation.worker
    assert pane.payout_choice.combo.currentText() == "The open wallet"

    index = pane.payout_choice.combo.findData(savings.address)
    assert index > 0 and "Savings" in pane.payout_choice.combo.itemText(index)
    pane.payout_choice.combo.setCurrentIndex(index)
    pane.payout_choice.combo.activated.emit(index)  # what choosing it with the mouse does
    assert SettingsStore().payout() == savings.address
    qtbot.waitUntil(lambda: donation.worker is not first, timeout=3000)  # signed in again
    assert donation.worker.config.payout == savings.address == donation.payout
    assert pane.payout.text() == f"Earnings go to {savings.address} (Savings)."

    pane.payout_choice.combo.setEditText("0x12345")
    pane.payout_choice.apply_button.click()
    assert pane.payout_choice.error.isVisibleTo(pane)
    assert "'0x12345' is not an Ethereum payout address" in pane.payout_choice.error.text()
    assert SettingsStore().payout() == savings.address  # nothing changed
    typed = "0x" + "ab" * 20  # any address, typed without its checksum
    pane.payout_choice.combo.setEditText(typed)
    pane.payout_choice.apply_button.click()
    checksummed = "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    assert not pane.payout_choice.error.isVisibleTo(pane)
    assert SettingsStore().payout() == checksummed
    qtbot.waitUntil(lambda: donation.worker.config.payout == checksummed, timeout=3000)
    run_async(qtbot, donation.stop())

    # A new store and pane (the app started again) show the choice and pay it.
    again = VolunteerPane(
        Donation(worker_factory=FakeWorker), GRID, settings=SettingsStore(),
        open_wallet=savings.address, earnings_interval_ms=60_000,
    )  # fmt: skip
    qtbot.addWidget(again)
    assert again.payout_choice.combo.currentText() == checksummed
    assert again.effective_payout() == checksummed
    assert again.payout.text() == f"Earnings go to {checksummed}."


def test_withdraw_moves_the_worker_credit_to_the_wallet(qtbot, booted):
    from deskgrid.chain.contracts import HubContract, RLCToken
    from deskgrid.chain.transactions import TxSender
    from deskgrid.money import NRLC_PER_RLC, format_rlc, parse_eth

    booted.show_pane("volunteer")
    pane = booted.panes["volunteer"]
    wallet = pane.effective_payout()
    assert wallet is not None and wallet == booted.controller.session.address
    qtbot.waitUntil(lambda: pane.view is not None, timeout=10_000)
    key = pane.donation.worker_key()
    assert pane.address.text() == key.address == pane.worker_address

    pane.withdraw_button.click()  # a new worker key holds nothing
    qtbot.waitUntil(lambda: "has nothing to withdraw" in pane.message.text(), timeout=10_000)

    # Credit the worker key on the hub (RLC deposited from the key itself) and give it gas.
    backend = booted.controller.backend
    chain, market = backend.chain, backend.market
    hub, rlc = HubContract(chain, market.hub), RLCToken(chain, market.rlc)
    credit = 3 * NRLC_PER_RLC
    TxSender(chain, chain.dev_accounts[0]).send(to=key.address, value=parse_eth("0.1"))
    rlc.transfer(TxSender(chain, chain.dev_accounts[1]), key.address, credit)
    own = TxSender(chain, key)
    rlc.approve(own, hub.address, credit)
    hub.deposit(own, credit)
    assert hub.balance_of(key.address) == credit
    before = rlc.balance_of(wallet)
    pane.refresh_earnings()
    qtbot.waitUntil(lambda: pane.view.worker_credit == credit, timeout=10_000)
    assert pane.worker_credit.text().startswith("3 RLC")
    # what the wallet earned (Rewarded events) is not its escrow balance (available)
    assert pane.earnings.text() == format_rlc(pane.view.earned) == "0 RLC"
    assert pane.available.text() == format_rlc(hub.balance_of(wallet))

    pane.withdraw_button.click()
    qtbot.waitUntil(lambda: getattr(pane, "withdraw_dialog", None) is not None, timeout=10_000)
    dialog = pane.withdraw_dialog
    assert dialog.isVisible()
    assert dialog.what.text() == f"Withdraw 3 RLC from worker {key.address} to {wallet}."
    dialog.confirm_button.click()
    qtbot.waitUntil(lambda: pane.message.text().startswith("Sent 3 RLC"), timeout=10_000)
    assert f"to {wallet}" in pane.message.text()
    assert hub.balance_of(key.address) == 0 and rlc.balance_of(key.address) == 0
    assert rlc.balance_of(wallet) - before == credit
    qtbot.waitUntil(lambda: pane.view.worker_credit == 0, timeout=10_000)


def test_the_chart_shows_earnings_per_task_or_per_day(qtbot, pane):
    from deskgrid.desktop.payouts import PayoutView

    day = 86_400
    pane.view = PayoutView(
        payout="0x" + "1" * 40, earned=5, available=2,
        per_task=[(day + 10, 2), (day + 20, 3), (2 * day + 5, 5)],
        per_day=[(day, 3), (2 * day, 5)],
    )  # fmt: skip
    pane.chart_mode.setCurrentIndex(0)
    pane._show_chart()
    assert pane.chart.samples == [(day + 10, 2), (day + 20, 3), (2 * day + 5, 5)]
    pane.chart_mode.setCurrentIndex(1)
    assert pane.chart.samples == [(day, 3), (2 * day, 5)]
    pane.chart.grab()  # paints


def _confirm(qtbot, dialog, amount: str | None) -> None:
    """Fill a money dialog's amount (None: Max), review it and confirm it."""
    if amount is None:
        dialog.max_button.click()
    else:
        dialog.amount.setText(amount)
    dialog.review_button.click()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 1, timeout=10_000)
    dialog.confirm_button.click()


def test_stake_and_unstake_from_the_pane_on_a_real_chain(qtbot, booted):
    from deskgrid.chain.contracts import HubContract
    from deskgrid.money import NRLC_PER_RLC
    from deskgrid.ui.stake_card import PURPOSE
    from deskgrid.ui.stake_dialog import StakeDialog
    from deskgrid.ui.volunteer_pane import NOTHING_FREE, NOTHING_STAKED

    booted.show_pane("volunteer")
    pane = booted.panes["volunteer"]
    wallet = booted.controller.session.address
    backend = booted.controller.backend
    hub = HubContract(backend.chain, backend.market.hub)
    qtbot.waitUntil(lambda: pane.view is not None, timeout=10_000)
    card = pane.stake_card
    assert card.purpose.text() == PURPOSE
    assert (card.staked.text(), card.reputation.text()) == ("0 RLC", "0 wins / 0 losses")
    assert hub.balance_of(wallet) == 0  # a new demo wallet: nothing in the escrow

    card.unstake_button.click()
    assert card.note.text() == NOTHING_STAKED
    card.stake_button.click()  # nothing free to stake: deposit first, with the button to
    assert card.note.text() == NOTHING_FREE and card.deposit_button.isVisibleTo(pane)
    card.deposit_button.click()
    _confirm(qtbot, pane.money_dialog, "5")
    qtbot.waitUntil(lambda: pane.message.text().startswith("Deposited 5 RLC"), timeout=10_000)
    qtbot.waitUntil(lambda: pane.view.available == 5 * NRLC_PER_RLC, timeout=10_000)
    assert not card.deposit_button.isVisibleTo(pane)

    card.stake_button.click()
    dialog = pane.money_dialog
    assert isinstance(dialog, StakeDialog) and dialog.isVisible()
    dialog.amount.setText("6")  # more than is free: the review says so
    dialog.review_button.click()
    qtbot.waitUntil(lambda: "you cannot stake 6 RLC" in dialog.status.text(), timeout=10_000)
    _confirm(qtbot, dialog, "2")
    assert dialog.review_what.text() == "Stake 2 RLC of the hub escrow"
    qtbot.waitUntil(lambda: pane.message.text().startswith("Staked 2 RLC"), timeout=10_000)
    qtbot.waitUntil(lambda: card.staked.text() == "2 RLC", timeout=10_000)
    assert (card.locked.text(), card.free.text()) == ("0 RLC", "2 RLC")
    assert hub.stake_info(wallet).amount == 2 * NRLC_PER_RLC
    assert hub.balance_of(wallet) == 3 * NRLC_PER_RLC
    assert pane.available.text() == "3 RLC"

    card.unstake_button.click()
    dialog = pane.money_dialog
    assert dialog.windowTitle() == "Unstake"
    _confirm(qtbot, dialog, None)  # Max: all the free stake
    assert dialog.review_what.text() == "Unstake 2 RLC back into the hub escrow"
    qtbot.waitUntil(lambda: pane.message.text().startswith("Unstaked 2 RLC"), timeout=10_000)
    qtbot.waitUntil(lambda: card.staked.text() == "0 RLC", timeout=10_000)
    assert hub.stake_info(wallet).amount == 0 and hub.balance_of(wallet) == 5 * NRLC_PER_RLC
    records = booted.controller.session.service.records()
    own = [(r.kind, r.account, r.status != "failed") for r in records if r.origin == "sent"]
    # the wallet's history has them, on the side the RLC left
    assert own[:2] == [("unstake", "stake", True), ("stake", "escrow", True)]


def test_the_stake_card_says_what_cannot_be_done_and_why(qtbot, pane):
    import dataclasses

    from deskgrid.chain.contracts import StakeInfo
    from deskgrid.desktop.payouts import PayoutView
    from deskgrid.money import NRLC_PER_RLC
    from deskgrid.ui.volunteer_pane import ALL_LOCKED
    from deskgrid.wallet.entries import WalletEntry

    savings = WalletEntry(name="Savings", address="0x" + "1" * 40, storage="keyring")
    pane.settings.update(wallets=[savings])
    locked = StakeInfo(2 * NRLC_PER_RLC, 2 * NRLC_PER_RLC, wins=3, losses=1)
    pane.view = PayoutView(payout=savings.address, earned=0, available=0, stake=locked)
    pane.stake_card.show_stake(locked)
    assert pane.stake_card.free.text() == "0 RLC"
    assert pane.stake_card.reputation.text() == "3 wins / 1 loss"
    assert not pane.stake_card.isEnabled()  # this pane reads no chain: the buttons are off
    pane.open_stake("stake")  # no wallet open: which one to open
    assert "wallet 'Savings'" in pane.stake_card.note.text()
    assert "open that wallet" in pane.stake_card.note.text()

    class Open:  # the open wallet as the pane sees it: its address
        address = savings.address

    pane.wallet = lambda: Open()
    pane.open_stake("unstake")
    assert pane.stake_card.note.text() == ALL_LOCKED.format(locked="2 RLC")
    typed = "0x" + "2" * 40
    pane.view = dataclasses.replace(pane.view, payout=typed)
    pane.open_stake("stake")
    assert f"The payout address {typed} is not one of your wallets" in pane.stake_card.note.text()

"""Notifications of the wallet's ended jobs: a task finalized on chain for the open wallet leads
to one TaskEnded and one tray message; the setting turns them off; without a tray the window's
status bar shows them. In the Jobs pane, a task whose deadline passes with nobody to compute it
gives a notice naming it and the reason, with "Claim refund" on the notice and on its row;
claiming it gives the price back to the wallet's escrow and the row says "refunded". A task the
wallet paid through the VanityRequester that fails gets a row and a notice too, and its claim
takes the refund the contract kept back into the wallet."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtWidgets import QSystemTrayIcon

from deskgrid.chain.contracts import TaskRequest, VanityRequesterContract
from deskgrid.chain.deployment import Roles
from deskgrid.chain.transactions import TxSender
from deskgrid.desktop.events import EventBus, TaskEnded
from deskgrid.desktop.settings import SettingsStore
from deskgrid.money import parse_rlc
from deskgrid.ui.bridge import QtEventBridge
from deskgrid.ui.job_notices import JobNotice, NoticeList
from deskgrid.ui.tray import TrayController
from deskgrid.worker.donation import Donation
from tests.gui.conftest import JOB_TIMEOUT_MS, TX_TIMEOUT_MS, pay, ready_pane, run_async
from tests.gui.fake_worker import FakeWorker
from tests.gui.test_tray import StubWindow

pytestmark = pytest.mark.gui

FAILED = TaskEnded(
    task_id="0x" + "ab" * 32,
    requester="0x" + "11" * 20,
    app="VanityGen",
    outcome="failed",
    price=parse_rlc("5"),
    block_number=7,
    reason="invalid params: pattern",
)


def _tray(qtbot, *, available: bool) -> tuple[TrayController, list[tuple], StubWindow]:
    window = StubWindow()
    qtbot.addWidget(window)
    tray = TrayController(window, Donation(worker_factory=FakeWorker), available=available)
    shown: list[tuple] = []
    tray.tray.showMessage = lambda *args: shown.append(args)  # type: ignore[method-assign]
    return tray, shown, window


def test_a_task_finalized_on_chain_is_notified_once(qtbot, booted):
    controller = booted.controller
    tray, shown, _ = _tray(qtbot, available=True)
    tray.follow_job_ends(controller.bridge, controller.settings)
    ended: list[TaskEnded] = []
    controller.bridge.task_ended.connect(ended.append)
    service = controller.session.service
    deployment = controller.backend.deployment
    qtbot.waitUntil(lambda: controller.session.follower._watcher is not None, timeout=5000)

    def request_and_finalize() -> bytes:
        request = TaskRequest(
            deployment.apps["vanity"], deployment.pool_id, '{"pattern":"1A"}', parse_rlc("10")
        )
        task = service.hub.pay_and_request(service.sender, service.rlc, request)
        scheduler = TxSender(service.chain, Roles.dev(service.chain).scheduler)
        service.hub.finalize(scheduler, task, b"\x01" * 32, b"", [], [])
        return task

    task = run_async(qtbot, asyncio.to_thread(request_and_finalize))
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=TX_TIMEOUT_MS)
    short = f"0x{task.hex()[:8]}…"
    assert shown == [
        (
            "Job done",
            f"Your VanityGen task {short} is done.",
            QSystemTrayIcon.MessageIcon.Information,
            15_000,
        )
    ]
    run_async(qtbot, asyncio.to_thread(service.chain.mine))  # more blocks: no repeat
    run_async(qtbot, asyncio.to_thread(service.chain.mine))
    qtbot.wait(500)
    assert len(shown) == 1 and [e.task_id for e in ended] == ["0x" + task.hex()]


def test_the_setting_turns_job_notifications_off(qtbot):
    tray, shown, _ = _tray(qtbot, available=True)
    bus = EventBus()
    bridge = QtEventBridge(bus)
    settings = SettingsStore()
    assert settings.settings.notify_job_ends  # on by default
    tray.follow_job_ends(bridge, settings)
    bus.publish(FAILED)
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=3000)
    title, text, icon, _ = shown[0]
    assert title == "Job failed" and icon == QSystemTrayIcon.MessageIcon.Warning
    assert text == (
        "Your VanityGen task 0xabababab… failed: invalid params: pattern; its 5 RLC went back "
        "to your escrow."
    )
    settings.update(notify_job_ends=False)
    bus.publish(FAILED)
    qtbot.wait(200)
    assert len(shown) == 1
    bridge.close()


def test_without_a_tray_the_window_shows_it(qtbot):
    tray, shown, window = _tray(qtbot, available=False)
    bus = EventBus()
    bridge = QtEventBridge(bus)
    tray.follow_job_ends(bridge)
    bus.publish(FAILED)
    qtbot.waitUntil(lambda: "failed: invalid params" in window.statusBar().currentMessage())
    assert shown == []
    bridge.close()


def test_the_settings_pane_has_the_switch(qtbot, booted):
    pane = booted.panes["settings"]
    assert pane.notify_jobs.isChecked()
    pane.notify_jobs.setChecked(False)
    assert SettingsStore().settings.notify_job_ends is False


def test_a_task_past_its_deadline_gives_a_notice_and_claim_refund_returns_its_price(
    qtbot, make_node_window
):
    # no worker and no oracle: nobody computes or settles, so the task outlives its deadline
    window = make_node_window(workers=0, oracle=False)
    pane = ready_pane(qtbot, window)
    pay(qtbot, pane, "1A")
    table = pane.my_jobs
    [job] = table.jobs
    qtbot.waitUntil(lambda: job.state == "requested", timeout=JOB_TIMEOUT_MS)
    assert table.claim_button(job) is None and pane.notices.notices() == []
    controller = window.controller
    service, hub = controller.session.service, pane.market.hub
    escrow = run_async(qtbot, asyncio.to_thread(hub.balance_of, service.address))

    chain = controller.backend.chain  # the node's chain, over JSON-RPC
    run_async(qtbot, asyncio.to_thread(chain.advance_time, 30 * 86_400))
    qtbot.waitUntil(lambda: pane.notices.notice(job.hex_id) is not None, timeout=JOB_TIMEOUT_MS)
    notice = pane.notices.notice(job.hex_id)
    assert notice.action == "Claim refund" and notice.kind == "warning"
    assert notice.text == (
        f"Your VanityGen task {job.short_id} failed: its final deadline passed without a "
        "result. Claim its 5 RLC back into your escrow on the hub, with 1.5 RLC of the pool's "
        "stake for the delay."
    )
    assert job.state == "failed" and job.claimable
    assert table.table.item(table.row_of(job), 2).text() == "failed"
    assert table.claim_button(job) is not None and table.claim_button(job).isEnabled()
    assert window.quit_sentence() is None  # not running any more: nothing to resume

    pane.notices.button(job.hex_id).click()  # the notice's Claim refund (the row's does the same)
    qtbot.waitUntil(lambda: job.state == "refunded", timeout=JOB_TIMEOUT_MS)
    assert table.table.item(table.row_of(job), 2).text() == "refunded"
    assert table.claim_button(job) is None and not job.claimable
    after = run_async(qtbot, asyncio.to_thread(hub.balance_of, service.address))
    # the price, and the pool owner's stake the task locked (30 %): the pool was late
    assert after == escrow + job.cost + parse_rlc("1.5") == escrow + parse_rlc("6.5")
    text = (
        f"Refunded: the 5 RLC of task {job.short_id} is back in your escrow on the hub, with "
        "1.5 RLC of the pool's stake for the delay."
    )
    assert pane.notices.notice(job.hex_id).text == text and pane.status.text() == text
    wallet = window.panes["wallet"]  # the wallet's balances follow
    qtbot.waitUntil(
        lambda: wallet.balances is not None and wallet.balances.escrow == after,
        timeout=TX_TIMEOUT_MS,
    )
    qtbot.waitUntil(lambda: "claimed" in [e.kind for e in job.events], timeout=JOB_TIMEOUT_MS)
    qtbot.wait(500)  # the task's own end, seen after the claim, changes nothing
    assert job.state == "refunded" and pane.notices.notice(job.hex_id).text == text


def test_a_refund_the_vanity_requester_keeps_is_claimed_into_the_wallet(qtbot, make_node_window):
    window = make_node_window(workers=0, oracle=False)
    pane = ready_pane(qtbot, window)
    controller = window.controller
    service = controller.session.service
    requester = VanityRequesterContract(service.chain, controller.backend.market.vanity_requester)
    qtbot.waitUntil(lambda: controller.session.follower._watcher is not None, timeout=TX_TIMEOUT_MS)

    def pay_through_the_contract_and_fail() -> bytes:  # as another dapp would, then the pool
        task = requester.request(service.sender, service.rlc, '{"pattern":"1A"}', parse_rlc("10"))
        scheduler = TxSender(service.chain, Roles.dev(service.chain).scheduler)
        service.hub.fail(scheduler, task, "the grid gave up")
        return task

    task = run_async(qtbot, asyncio.to_thread(pay_through_the_contract_and_fail))
    table = pane.my_jobs
    qtbot.waitUntil(lambda: table.find(task) is not None, timeout=JOB_TIMEOUT_MS)
    job = table.find(task)
    qtbot.waitUntil(lambda: pane.notices.notice(job.hex_id) is not None, timeout=JOB_TIMEOUT_MS)
    notice = pane.notices.notice(job.hex_id)
    assert notice.text == (
        f"Your VanityGen task {job.short_id} failed: the grid gave up. Claim its 5 RLC back "
        "into your wallet."
    )
    assert notice.action == "Claim refund" and job.state == "failed"
    rlc = run_async(qtbot, asyncio.to_thread(service.rlc.balance_of, service.address))

    table.claim_button(job).click()  # the row's Claim refund
    qtbot.waitUntil(lambda: job.state == "refunded", timeout=JOB_TIMEOUT_MS)
    after = run_async(qtbot, asyncio.to_thread(service.rlc.balance_of, service.address))
    assert after == rlc + parse_rlc("5")
    assert pane.notices.notice(job.hex_id).text == (
        f"Refunded: the 5 RLC of task {job.short_id} is back in your wallet."
    )
    assert table.claim_button(job) is None

    def pay_on_the_hub_and_fail() -> bytes:  # requested on the hub directly, elsewhere
        deployment = controller.backend.market
        request = TaskRequest(
            service.hub.apps()[0].app_id, deployment.pool_id, '{"pattern":"1A"}', parse_rlc("10")
        )
        task = service.hub.pay_and_request(service.sender, service.rlc, request)
        scheduler = TxSender(service.chain, Roles.dev(service.chain).scheduler)
        service.hub.fail(scheduler, task, "invalid params: pattern")
        return task

    direct = run_async(qtbot, asyncio.to_thread(pay_on_the_hub_and_fail))
    qtbot.waitUntil(lambda: table.find(direct) is not None, timeout=JOB_TIMEOUT_MS)
    failed = table.find(direct)
    qtbot.waitUntil(lambda: pane.notices.notice(failed.hex_id) is not None, timeout=JOB_TIMEOUT_MS)
    notice = pane.notices.notice(failed.hex_id)
    assert notice.action is None and failed.state == "refunded"  # the hub refunded it already
    assert notice.text.startswith(f"Your {failed.app} task {failed.short_id} failed: invalid")
    assert notice.text.endswith("went back to your escrow on the hub.")


def test_the_notice_list_keeps_one_notice_per_task(qtbot):
    notices = NoticeList()
    qtbot.addWidget(notices)
    acted: list[tuple[str, str]] = []
    notices.acted.connect(lambda key, action: acted.append((key, action)))
    assert not notices.isVisibleTo(notices.parentWidget() or notices)
    notices.post(JobNotice("0xa", "Task a failed: late.", "warning", "Claim refund"))
    notices.post(JobNotice("0xb", "Task b finished.", "ok", "Show"))
    assert [n.key for n in notices.notices()] == ["0xb", "0xa"]  # newest first
    notices.button("0xa").click()
    assert acted == [("0xa", "Claim refund")] and not notices.button("0xa").isEnabled()
    notices.button("0xa").click()  # pressed once: a claim is on its way
    assert acted == [("0xa", "Claim refund")]
    notices.enable_action("0xa")  # it did not go through: it may be pressed again
    assert notices.button("0xa").isEnabled()
    notices.post(JobNotice("0xa", "Task a refunded.", "ok"))  # replaces the older one
    assert [n.text for n in notices.notices()] == ["Task a refunded.", "Task b finished."]
    assert notices.button("0xa") is None
    notices.dismiss("0xa")
    notices.dismiss("0xb")
    assert notices.notices() == [] and notices.isHidden()

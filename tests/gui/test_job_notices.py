"""Notifications of the wallet's ended jobs: a task finalized on chain for the open wallet leads
to one TaskEnded and one tray message; the setting turns them off; without a tray the window's
status bar shows them."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtWidgets import QSystemTrayIcon

from deskgrid.chain.contracts import TaskRequest
from deskgrid.chain.deployment import Roles
from deskgrid.chain.transactions import TxSender
from deskgrid.desktop.events import EventBus, TaskEnded
from deskgrid.desktop.settings import SettingsStore
from deskgrid.money import parse_rlc
from deskgrid.ui.bridge import QtEventBridge
from deskgrid.ui.tray import TrayController
from deskgrid.worker.donation import Donation
from tests.gui.conftest import TX_TIMEOUT_MS, run_async
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

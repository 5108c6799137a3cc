"""First run, demo boot, the wallet pane's balances, network errors, single instance."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt

from deskgrid.desktop.settings import SettingsStore
from deskgrid.ui.single_instance import SingleInstance, ask_running_instance_to_raise, server_name
from tests.gui.conftest import BOOT_TIMEOUT_MS

pytestmark = pytest.mark.gui

HUB = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_first_run_defaults_to_the_demo_and_boots_it(qtbot, make_window):
    window = make_window(first_run_done=False)
    steps = []
    window.controller.bridge.boot_progress.connect(lambda step, f: steps.append(f))
    window.start()
    dialog = window.first_run
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.form.demo.isChecked() and not dialog.form.fields.isEnabled()
    with qtbot.waitSignal(window.controller.booted, timeout=BOOT_TIMEOUT_MS):
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert steps and steps[-1] == 1.0
    assert SettingsStore().settings.first_run_done
    pane = window.panes["wallet"]
    qtbot.waitUntil(lambda: pane.rlc_card.value.text() == "1,000 RLC", timeout=5000)
    assert pane.eth_card.value.text() == "10 ETH"
    assert pane.escrow_card.value.text() == "0 RLC" and pane.locked_card.value.text() == "0 RLC"
    assert pane.faucet_button.isVisible()
    assert pane.account.address == window.controller.session.address
    assert not pane.account.qr.pixmap().isNull()
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == [
        "Wallet",
        "Volunteer",
        "Settings",
    ]
    assert "Offline demo" in window.network_label.text()
    qtbot.waitUntil(lambda: window.block_label.text().startswith("Block"), timeout=5000)


def test_network_fields_are_validated_with_sentences(qtbot, make_window):
    window = make_window(first_run_done=False)
    window.start()
    dialog = window.first_run
    dialog.form.network.setChecked(True)
    assert dialog.form.fields.isEnabled()
    dialog.form.rpc_url.setText("localhost:8545")
    dialog.try_accept()
    assert "RPC URL must be an http:// or https:// address" in dialog.status.text()
    assert dialog.isVisible()
    dialog.form.rpc_url.setText("http://127.0.0.1:9")
    dialog.form.hub_address.setText(HUB.replace("aAeb", "aaeb"))
    dialog.try_accept()
    assert "capital letters" in dialog.status.text()
    dialog.form.hub_address.setText(HUB)
    dialog.form.grid_url.setText("http://127.0.0.1:9")
    with qtbot.waitSignal(window.controller.boot_failed, timeout=BOOT_TIMEOUT_MS) as failed:
        dialog.try_accept()
    assert "Cannot reach the chain at http://127.0.0.1:9" in failed.args[0]
    assert "Traceback" not in window.boot.error.text()
    assert window.boot.retry_button.isVisible()
    saved = SettingsStore().settings
    assert (saved.network_mode, saved.rpc_url, saved.hub_address) == (
        "network",
        "http://127.0.0.1:9",
        HUB,
    )


def test_single_instance_raises_the_first_window(qtbot, tmp_path):
    instance = SingleInstance()
    assert instance.listen()
    try:
        with qtbot.waitSignal(instance.raise_requested, timeout=5000):
            assert ask_running_instance_to_raise()
        # A real second launch: asks the first to raise its window and exits 0.
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        with qtbot.waitSignal(instance.raise_requested, timeout=30_000):
            process = subprocess.Popen(
                [sys.executable, "-m", "deskgrid.cli"],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0
        assert "already running" in out
    finally:
        instance.close()
    assert not ask_running_instance_to_raise(server_name())


def test_bring_to_front_shows_a_minimized_window(qtbot, make_window):
    window = make_window()
    window.showMinimized()
    window.bring_to_front()
    assert window.isVisible() and not window.isMinimized()


def test_a_long_boot_error_is_shown_whole(qtbot):
    from deskgrid.ui.boot_view import BootView

    view = BootView()
    qtbot.addWidget(view)
    view.resize(1040, 680)
    view.show()
    qtbot.waitExposed(view)
    view.show_error(
        "The local node could not start (RuntimeError: something went wrong while deploying "
        "the marketplace contracts on the embedded chain); check the log at "
        "/home/someone/.local/share/DeskGrid/logs/deskgrid.log, or report it with the log."
    )
    error = view.error
    qtbot.waitUntil(lambda: error.height() >= error.heightForWidth(error.width()), timeout=2000)
    assert error.heightForWidth(error.width()) > error.fontMetrics().height() * 2  # wrapped

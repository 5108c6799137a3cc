"""A network change in Settings rebuilds the panes on the new backend, and the Jobs pane works
on a network: a VanityGen task from the composer to a shown result, against a chain, a grid
and an oracle that run in another process (a local node child process, used as a network)."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest
import shiboken6
from PySide6.QtCore import Qt

from deskgrid.apps.vanity.keys import address_from_private_key, wif_decode
from deskgrid.desktop.jobs_market import CHAIN_ONLY
from deskgrid.desktop.network import NetworkBackend
from deskgrid.desktop.node_backend import node_command
from deskgrid.node.info import NodeInfo, NodeLine
from tests.gui.conftest import BOOT_TIMEOUT_MS, run_async

pytestmark = pytest.mark.gui

JOB_TIMEOUT_MS = 90_000
USER_INDEX = 4  # a development account nobody else uses: the "network" wallet's key


@pytest.fixture(scope="module")
def network_node(tmp_path_factory):
    """A local node in its own process, with its own data folder: to the app, a network."""
    home = tmp_path_factory.mktemp("network-node")
    process = subprocess.Popen(
        node_command(workers=1),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=dict(os.environ, DESKGRID_HOME=str(home)),
    )
    info: NodeInfo | None = None
    try:
        for raw in process.stdout:
            line = NodeLine.loads(raw)
            if line is not None and line.event == "error":
                pytest.fail(line.message)
            if line is not None and line.node is not None:
                info = line.node
                break
        assert info is not None, "the node stopped while booting"
        yield info
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def fund_network_wallet(info: NodeInfo):
    """The user's key, with RLC from the node's faucet account (it has ETH from genesis)."""
    from deskgrid.chain.connection import connect
    from deskgrid.chain.contracts import RLCToken
    from deskgrid.chain.transactions import TxSender

    chain = connect(info.rpc_url, dev_keys=info.dev_keys)
    user, faucet = chain.dev_accounts[USER_INDEX], chain.dev_accounts[1]
    rlc = RLCToken(chain, info.deployment["rlc"])
    rlc.transfer(TxSender(chain, faucet), user.address, 100 * 10**9)
    return user


def test_a_network_change_rebuilds_the_panes_and_jobs_run_on_the_network(
    qtbot, booted, network_node
):
    window = booted
    controller = window.controller
    names = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert "Jobs" not in names  # the embedded-chain demo has no grid
    old_panes = dict(window.panes)
    old_backend = controller.backend

    user = run_async(qtbot, asyncio.to_thread(fund_network_wallet, network_node))
    controller.manager.add("Network wallet", user)

    # Settings → a network (the other process's chain, hub and grid) → Save and reconnect.
    window.show_pane("settings")
    settings = window.panes["settings"]
    settings.network.network.setChecked(True)
    settings.network.rpc_url.setText(network_node.rpc_url)
    settings.network.hub_address.setText(network_node.deployment["hub"])
    settings.network.grid_url.setText(network_node.grid_url)
    failures: list[str] = []
    controller.boot_failed.connect(failures.append)
    qtbot.mouseClick(settings.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.ready or bool(failures), timeout=BOOT_TIMEOUT_MS)
    assert not failures

    assert isinstance(controller.backend, NetworkBackend) and controller.backend is not old_backend
    names = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert names == ["Wallet", "Jobs", "Volunteer", "Settings"]
    assert window.current_pane() == "settings"  # the selected pane is kept
    assert window.stack.currentWidget() is window.panes["settings"]
    assert all(window.panes[key] is not pane for key, pane in old_panes.items())
    qtbot.waitUntil(
        lambda: not any(shiboken6.isValid(pane) for pane in old_panes.values()), timeout=5000
    )
    assert window.stack.count() == len(window.panes)

    # The volunteer side follows the new grid.
    volunteer = window.panes["volunteer"]
    assert volunteer.grid_url == network_node.grid_url
    assert controller.donation.grid_url == network_node.grid_url

    # The wallet is the network one, with its RLC.
    wallet = window.panes["wallet"]
    assert controller.session.address == user.address
    # The donation signs in with its own worker key; the wallet is only the payout.
    assert controller.donation.payout == user.address
    qtbot.waitUntil(lambda: wallet.rlc_card.value.text() == "100 RLC", timeout=10_000)

    # The Jobs pane on the network: no submitter token, so the timeline follows the chain.
    window.show_pane("jobs")
    pane = window.panes["jobs"]
    assert pane.chain_only.isVisibleTo(pane) and pane.chain_only.text() == CHAIN_ONLY
    qtbot.waitUntil(lambda: pane.current_app() is not None, timeout=10_000)
    assert pane.current_app().name == "vanity" and "pool fee" in pane.price.text()
    pane.form.patterns_edit.setText("1A")
    qtbot.waitUntil(pane.run_button.isEnabled, timeout=5000)
    qtbot.mouseClick(pane.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.review is not None and pane.review.isVisible(), timeout=10_000)
    pane.review.pay_button.click()  # Run reviews the price and fee first
    qtbot.waitUntil(lambda: pane.result.address.text().startswith("1A"), timeout=JOB_TIMEOUT_MS)
    address, wif = pane.result.address.text(), pane.result.wif.text()
    key, compressed = wif_decode(wif)
    assert address_from_private_key(key, compressed) == address
    assert "finalized" in pane.timeline.kinds and "running" not in pane.timeline.kinds
    assert pane.my_jobs.jobs[0].state == "finalized"
    assert "Traceback" not in pane.status.text()

    # And back to the demo: the panes follow again.
    window.show_pane("jobs")
    jobs = window.panes["jobs"]
    with qtbot.waitSignal(controller.booted, timeout=BOOT_TIMEOUT_MS):
        settings = window.panes["settings"]
        settings.network.demo.setChecked(True)
        settings.apply_network()
    assert "Jobs" not in [window.nav.item(i).text() for i in range(window.nav.count())]
    assert window.current_pane() == "wallet"  # no Jobs pane any more: the first one
    qtbot.waitUntil(lambda: not shiboken6.isValid(jobs), timeout=5000)

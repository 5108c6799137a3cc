"""A transfer from another account shows in the wallet pane's history as incoming, with the
exact amount and the sender, found by the wallet's follower on the next block."""

from __future__ import annotations

import pytest

from deskgrid.chain.contracts import RLCToken
from deskgrid.chain.transactions import TxSender
from deskgrid.money import parse_rlc
from deskgrid.ui.history_table import COLUMNS
from tests.gui.conftest import TX_TIMEOUT_MS, run_async

pytestmark = pytest.mark.gui


def test_rlc_sent_from_a_dev_account_shows_as_incoming(qtbot, booted):
    import asyncio

    pane = booted.panes["wallet"]
    session = booted.controller.session
    backend = booted.controller.backend
    chain, address = backend.chain, session.address
    payer = chain.dev_accounts[1]
    rlc = RLCToken(chain, backend.market.rlc)

    def pay():
        return rlc.transfer(TxSender(chain, payer), address, parse_rlc("3.000000007"))

    sent = run_async(qtbot, asyncio.to_thread(pay))
    table = pane.history

    def shown() -> bool:
        return any(r.tx_hash == sent.tx_hash for r in table.records)

    qtbot.waitUntil(shown, timeout=TX_TIMEOUT_MS)
    row = next(i for i, r in enumerate(table.records) if r.tx_hash == sent.tx_hash)
    assert table.text_of(row, "In/Out") == "In"
    assert table.text_of(row, "What") == "Received"
    assert table.text_of(row, "Amount") == "+3.000000007 RLC"
    assert table.item(row, COLUMNS.index("With")).toolTip() == payer.address
    assert table.text_of(row, "Block") == f"{sent.block_number:,}"
    assert table.status_of(row) == "confirmed"
    # the demo faucet's gifts stay listed once, as gifts
    kinds = sorted(r.kind for r in table.records)
    assert kinds == ["faucet", "faucet", "receive"]

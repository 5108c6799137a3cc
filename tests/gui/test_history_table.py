"""The wallet pane's history on the embedded demo chain: a transfer from another account shows
as incoming, and tasks paid with the wallet's key elsewhere show as job payments, with the
reward and the refund on the escrow side, each with its state; all found by the wallet's
follower on the next blocks."""

from __future__ import annotations

import asyncio

import pytest

from deskgrid.chain.contracts import HubContract, RLCToken, TaskRequest, result_digest
from deskgrid.chain.deployment import Roles
from deskgrid.chain.transactions import TxSender
from deskgrid.money import format_rlc, parse_rlc
from deskgrid.ui.history_table import COLUMNS
from tests.gui.conftest import TX_TIMEOUT_MS, run_async

pytestmark = pytest.mark.gui


def _row_of(table, tx_hash: str, kind: str) -> int:
    return next(i for i, r in enumerate(table.records) if r.tx_hash == tx_hash and r.kind == kind)


def test_rlc_sent_from_a_dev_account_shows_as_incoming(qtbot, booted):
    pane = booted.panes["wallet"]
    session = booted.controller.session
    backend = booted.controller.backend
    chain, address = backend.chain, session.address
    payer = chain.dev_accounts[4]
    rlc = RLCToken(chain, backend.market.rlc)

    def pay():
        faucet = TxSender(chain, chain.dev_accounts[1])
        rlc.transfer(faucet, payer.address, parse_rlc("10"))  # someone else than the faucet
        return rlc.transfer(TxSender(chain, payer), address, parse_rlc("3.000000007"))

    sent = run_async(qtbot, asyncio.to_thread(pay))
    table = pane.history

    def shown() -> bool:
        return any(r.tx_hash == sent.tx_hash for r in table.records)

    qtbot.waitUntil(shown, timeout=TX_TIMEOUT_MS)
    row = _row_of(table, sent.tx_hash, "receive")
    assert table.text_of(row, "In/Out") == "In"
    assert table.text_of(row, "What") == "Received"
    assert table.text_of(row, "Account") == "Wallet"
    assert table.text_of(row, "Amount") == "+3.000000007 RLC"
    assert table.item(row, COLUMNS.index("With")).toolTip() == payer.address
    assert table.text_of(row, "Block") == f"{sent.block_number:,}"
    assert table.status_of(row) == "mined"  # the newest block: no block on top of it yet
    assert table.text_of(row, "Status") == "mined · 0 of 1 confirmations"
    # the demo faucet's gifts stay listed once, as gifts
    kinds = sorted(r.kind for r in table.records)
    assert kinds == ["faucet", "faucet", "receive"]


def test_job_payments_rewards_and_refunds_are_labelled(qtbot, booted):
    pane = booted.panes["wallet"]
    backend = booted.controller.backend
    chain, market = backend.chain, backend.market
    account = booted.controller.session.service.account
    hub, rlc = HubContract(chain, market.hub), RLCToken(chain, market.rlc)
    scheduler = TxSender(chain, Roles.dev(chain).scheduler)
    elsewhere = TxSender(chain, account)  # the same key in another program

    def tasks():
        app_id = hub.apps()[0].app_id
        price = hub.app(app_id).price + hub.pool(market.pool_id).fee
        request = TaskRequest(app_id, market.pool_id, "{}", price)
        done = hub.pay_and_request(elsewhere, rlc, request)
        hub.finalize(scheduler, done, result_digest(b"ok"), b"ok", [account.address], [1])
        failed = hub.pay_and_request(elsewhere, rlc, request)
        return done, hub.fail(scheduler, failed, "no volunteer").tx_hash, price

    done, refund_tx, price = run_async(qtbot, asyncio.to_thread(tasks))
    table = pane.history
    task = "0x" + done.hex()

    def shown() -> bool:
        return {"payment", "reward", "refund"} <= {r.kind for r in table.records}

    qtbot.waitUntil(shown, timeout=TX_TIMEOUT_MS)
    [paid] = [i for i, r in enumerate(table.records) if r.kind == "payment" and r.task_id == task]
    assert table.text_of(paid, "What") == "Job payment"
    assert table.item(paid, COLUMNS.index("What")).toolTip() == f"Task {task}"
    assert (table.text_of(paid, "Account"), table.text_of(paid, "In/Out")) == ("Wallet", "Out")
    [reward] = [i for i, r in enumerate(table.records) if r.kind == "reward"]
    assert table.text_of(reward, "What") == "Reward"
    assert (table.text_of(reward, "Account"), table.text_of(reward, "In/Out")) == ("Escrow", "In")
    assert table.text_of(reward, "Amount").startswith("+")
    # blocks were mined on top of the task's: its records are confirmed (depth 1)
    assert table.status_of(paid) == "confirmed" and table.status_of(reward) == "confirmed"
    assert table.text_of(paid, "Status") == "confirmed"
    refund = _row_of(table, refund_tx, "refund")
    assert table.text_of(refund, "What") == "Refund"
    assert table.text_of(refund, "Account") == "Escrow"
    assert table.text_of(refund, "Amount") == "+" + format_rlc(price)
    fees = [i for i, r in enumerate(table.records) if r.kind == "fee"]
    assert len(fees) == 2 and {table.text_of(i, "What") for i in fees} == {"Network fee"}

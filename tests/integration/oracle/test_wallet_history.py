"""A scripted wallet session on the embedded chain, with a real grid server, oracle and
volunteer: faucet, sends, receipts, a paid task that succeeds with the wallet as its worker's
payout address, a task that fails (refunded to the escrow), a task paid through the VanityGen
requester that fails (refund withdrawn to the wallet), a deposit and a withdrawal. The
wallet's history, scanned from the chain across a restart, adds up per asset and side to the
balance change measured on chain."""

from __future__ import annotations

import asyncio
import json

import pytest
from eth_account import Account

from deskgrid.chain.contracts import TaskRequest, TaskStatus
from deskgrid.chain.transactions import TxSender
from deskgrid.money import parse_eth, parse_rlc
from deskgrid.wallet.history import TxHistory, TxRecord
from deskgrid.wallet.service import WalletService

from .conftest import volunteer

pytestmark = pytest.mark.integration


def measured(wallet: WalletService) -> dict[str, int]:
    balances = wallet.balances()
    assert balances.locked == 0  # no task is running when a balance is measured
    return {"wallet RLC": balances.rlc, "escrow RLC": balances.escrow, "ETH": balances.eth}


def summed(records: list[TxRecord]) -> dict[str, int]:
    sums = {"wallet RLC": 0, "escrow RLC": 0, "ETH": 0}
    for r in records:
        side = "ETH" if r.asset == "ETH" else f"{r.account} RLC"
        sums[side] += r.signed_amount
        sums["ETH"] -= r.fee_wei or 0
    return sums


async def run_until_ended(setup, oracle, worker_payout: str, task_ids: list[bytes]) -> None:
    stop = asyncio.Event()
    worker = setup.chain.dev_accounts[6]
    tasks = [
        asyncio.create_task(oracle.run(stop)),
        asyncio.create_task(volunteer(setup.server.url, worker, stop, payout=worker_payout)),
    ]
    try:
        async with asyncio.timeout(90):
            while any(setup.hub.task_status(t) is TaskStatus.ACTIVE for t in task_ids):
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_the_history_adds_up_to_every_balance_change(setup, tmp_path):
    chain, hub, rlc, deployment = setup.chain, setup.hub, setup.rlc, setup.deployment
    account = Account.create()
    path = tmp_path / "history.json"
    wallet = WalletService(chain, deployment, account, history=TxHistory(path))
    start = await asyncio.to_thread(measured, wallet)

    def opening() -> None:
        wallet.faucet()
        other = chain.dev_accounts[5]
        wallet.send_rlc(other.address, parse_rlc("1.5"))
        wallet.send_eth(other.address, parse_eth("0.01"))
        rlc.transfer(TxSender(chain, other), account.address, parse_rlc("0.25"))
        TxSender(chain, other).send(to=account.address, value=parse_eth("0.002"))

    await asyncio.to_thread(opening)

    # Tasks paid with the same key by another program (as `deskgrid run vanity` would): the
    # wallet did not record them, so the chain's logs must tell them, fees included.
    elsewhere = TxSender(chain, account)
    fee = hub.pool(deployment.pool_id).fee

    def request(app: str, params: dict) -> TaskRequest:
        app_id = deployment.apps[app]
        price = hub.app(app_id).price + fee
        return TaskRequest(app_id, deployment.pool_id, json.dumps(params), price, 0)

    def pay() -> tuple[bytes, bytes, bytes]:
        done = hub.pay_and_request(elsewhere, rlc, request("echo", {"text": "paid"}))
        failing = hub.pay_and_request(elsewhere, rlc, request("fail", {"message": "boom"}))
        vanity_price = hub.app(deployment.apps["vanity"]).price + fee
        refused = setup.requester.request(
            elsewhere, rlc, json.dumps({"patterns": ["1LoVE0"]}), vanity_price
        )
        return done, failing, refused

    done, failing, refused = await asyncio.to_thread(pay)
    await run_until_ended(setup, setup.oracle(), account.address, [done, failing, refused])
    assert [hub.task_status(t) for t in (done, failing, refused)] == [
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.FAILED,
    ]
    await asyncio.to_thread(wallet.scan_chain)  # the app scans as blocks come

    # a restart: the history and the scan's cursor are read back from disk
    wallet = WalletService(chain, deployment, account, history=TxHistory(path))

    def closing() -> None:
        setup.requester.withdraw_refund(elsewhere, refused)
        wallet.deposit(parse_rlc("2"))
        wallet.withdraw(hub.balance_of(account.address))  # the reward, the refund, the deposit
        wallet.scan_chain()

    await asyncio.to_thread(closing)
    end = await asyncio.to_thread(measured, wallet)
    records = wallet.records()
    change = {side: end[side] - start[side] for side in start}
    assert summed(records) == change
    assert change["escrow RLC"] == 0 and change["wallet RLC"] > 0 and change["ETH"] > 0

    kinds = {(r.kind, r.account, r.asset) for r in records}
    for kind in [
        ("faucet", "wallet", "RLC"),
        ("faucet", "wallet", "ETH"),
        ("send", "wallet", "RLC"),
        ("send", "wallet", "ETH"),
        ("receive", "wallet", "RLC"),
        ("receive", "wallet", "ETH"),
        ("payment", "wallet", "RLC"),
        ("reward", "escrow", "RLC"),
        ("refund", "escrow", "RLC"),
        ("refund", "wallet", "RLC"),
        ("deposit", "wallet", "RLC"),
        ("deposit", "escrow", "RLC"),
        ("withdraw", "wallet", "RLC"),
        ("withdraw", "escrow", "RLC"),
        ("fee", "wallet", "ETH"),
    ]:
        assert kind in kinds, kind
    by_task = {(r.kind, r.account, r.task_id) for r in records if r.task_id}
    assert {
        ("payment", "wallet", "0x" + done.hex()),
        ("reward", "escrow", "0x" + done.hex()),
        ("payment", "wallet", "0x" + failing.hex()),
        ("refund", "escrow", "0x" + failing.hex()),
        ("payment", "wallet", "0x" + refused.hex()),
        ("refund", "wallet", "0x" + refused.hex()),
    } <= by_task
    assert len({r.key for r in records}) == len(records)  # no record twice
    assert {r.status for r in records} <= {"mined", "confirmed"}

    again = WalletService(chain, deployment, account, history=TxHistory(path))
    assert await asyncio.to_thread(again.scan_chain) == []

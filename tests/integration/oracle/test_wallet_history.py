"""A scripted wallet session on the embedded chain, with a real grid server, oracle and
volunteer: faucet, sends, receipts, a paid task that succeeds with the wallet as its worker's
payout address, a task that fails (refunded to the escrow), a task paid through the VanityGen
requester that fails (refund withdrawn to the wallet), a deposit and a withdrawal, stake put in
(by the account, and for it by another), taken out and slashed on an out-voted contribution, a
stake the account puts on another, and a late task whose claim gives it the pool's stake. The
wallet's history, scanned from the chain across a restart, adds up per asset and side (wallet,
escrow, stake) to the balance change measured on chain."""

from __future__ import annotations

import asyncio
import json

import pytest
from eth_account import Account

from deskgrid.chain.contracts import TaskRequest, TaskStatus, result_digest
from deskgrid.chain.transactions import TxSender
from deskgrid.money import parse_eth, parse_rlc
from deskgrid.wallet.history import TxHistory, TxRecord
from deskgrid.wallet.service import WalletService

from .conftest import volunteer

pytestmark = pytest.mark.integration


def measured(wallet: WalletService) -> dict[str, int]:
    balances = wallet.balances()
    assert balances.locked == 0  # no task is running when a balance is measured
    stake = wallet.hub.stake_of(wallet.address)
    return {
        "wallet RLC": balances.rlc,
        "escrow RLC": balances.escrow,
        "stake RLC": stake,
        "ETH": balances.eth,
    }


def summed(records: list[TxRecord]) -> dict[str, int]:
    sums = {"wallet RLC": 0, "escrow RLC": 0, "stake RLC": 0, "ETH": 0}
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

    scheduler, other = (
        TxSender(chain, setup.roles.scheduler),
        TxSender(chain, chain.dev_accounts[5]),
    )

    def staking() -> tuple[bytes, bytes]:
        rlc.approve_and_call(elsewhere, hub.address, parse_rlc("0.5"), b"")  # a deposit
        hub.stake(elsewhere, parse_rlc("2"))  # out of the escrow (the reward, the refund)
        hub.unstake(elsewhere, parse_rlc("0.25"))
        rlc.approve_and_call(other, hub.address, parse_rlc("0.6"), b"")
        hub.stake_for(other, account.address, parse_rlc("0.5"))  # a sponsor stakes for it
        hub.stake_for(elsewhere, other.address, parse_rlc("0.1"))  # it stakes for another
        # replicated work: the account's contribution was locked, then out-voted (slashed)
        slashed = hub.pay_and_request(elsewhere, rlc, request("echo", {"text": "out-voted"}))
        hub.lock_stake(scheduler, slashed, [account.address])
        digest = result_digest(b"r")
        hub.finalize(scheduler, slashed, digest, b"r", [], [], [account.address])
        # nobody finalized this one in time: its claim gives the account the pool's stake
        late = hub.pay_and_request(elsewhere, rlc, request("echo", {"text": "late"}))
        chain.advance_time(hub.task(late).final_deadline - chain.timestamp() + 1)
        hub.claim(other, late)
        return slashed, late

    def closing() -> None:
        setup.requester.withdraw_refund(elsewhere, refused)
        wallet.deposit(parse_rlc("2"))
        wallet.withdraw(hub.balance_of(account.address))  # the reward, the refund, the deposit
        wallet.scan_chain()

    slashed, late = await asyncio.to_thread(staking)
    await asyncio.to_thread(closing)
    end = await asyncio.to_thread(measured, wallet)
    records = wallet.records()
    change = {side: end[side] - start[side] for side in start}
    assert summed(records) == change
    assert change["escrow RLC"] == 0 and change["wallet RLC"] > 0 and change["ETH"] > 0
    lock = hub.task(slashed).price * 3_000 // 10_000
    assert change["stake RLC"] == parse_rlc("2") - parse_rlc("0.25") + parse_rlc("0.5") - lock

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
        ("stake", "escrow", "RLC"),
        ("stake", "stake", "RLC"),
        ("unstake", "stake", "RLC"),
        ("unstake", "escrow", "RLC"),
        ("slashed", "stake", "RLC"),
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
        ("slashed", "stake", "0x" + slashed.hex()),
        ("refund", "escrow", "0x" + late.hex()),
        ("reward", "escrow", "0x" + late.hex()),  # the pool's stake, for the delay
    } <= by_task
    stakes = [r for r in records if r.kind == "stake"]
    assert sorted((r.account, r.counterparty) for r in stakes) == sorted(
        [
            ("escrow", account.address),  # its own stake: out of its escrow ...
            ("escrow", other.address),  # ... its stake for another
            ("stake", account.address),  # ... into its stake
            ("stake", other.address),  # the sponsor's stake for it
        ]
    )
    assert len({r.key for r in records}) == len(records)  # no record twice
    assert {r.status for r in records} <= {"mined", "confirmed"}

    again = WalletService(chain, deployment, account, history=TxHistory(path))
    assert await asyncio.to_thread(again.scan_chain) == []

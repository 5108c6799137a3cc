"""Deciding the journal's unfinished orders from on-chain facts only.

Nothing here ever pays: an order is never sent again. The rules, per entry:
- no tx hash: it was never signed (the hash is written before sending) → `abandoned`;
- a tx hash without a task id: its receipt decides: mined and succeeded → the task id from the
  receipt's `TaskRequested` → `active`; mined and reverted → `abandoned` (a reverted payment
  moves nothing); not mined but known to the node → `sent` (pending); unknown to the node →
  `abandoned` (if its nonce was since used by another transaction it can never be mined; if not,
  it never reached the node). An abandoned entry keeps its secret and its hash: should that
  transaction still be mined one day, the next resume finds its receipt and takes it up again;
- a task id: the hub's task decides: ACTIVE → `active` (or `failed` once its final deadline
  passed: `claim` refunds it), COMPLETED → combined locally, the address and WIF stored
  encrypted → `completed` (a published app's order: its result's digest kept, to fetch it with
  `deskgrid tasks download`), FAILED → `refunded` with the hub's reason.
An entry another live process holds (its lock) is left alone.
"""

from __future__ import annotations

import json
import time
from typing import Any

from web3.exceptions import TransactionNotFound

from deskgrid import logs
from deskgrid.apps.vanity.splitkey import combine
from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import HubContract, TaskStatus
from deskgrid.errors import DeskGridError
from deskgrid.node.journal import APP_ORDER, JournalEntry, RequestJournal


def _receipt(chain: Chain, tx_hash: str) -> Any | None:
    try:
        with chain.lock:
            return chain.w3.eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        return None


def _pending(chain: Chain, tx_hash: str) -> bool:
    try:
        with chain.lock:
            return chain.w3.eth.get_transaction(tx_hash) is not None
    except TransactionNotFound:
        return False


def _task_from_receipt(hub: HubContract, receipt: Any, requester: str) -> bytes | None:
    for event in hub.events("TaskRequested", receipt):
        if str(event["args"]["requester"]).lower() == requester.lower():
            return bytes(event["args"]["taskId"])
    return None


def combine_entry(journal: RequestJournal, entry: JournalEntry, results: bytes) -> JournalEntry:
    """Combine a completed task's partial key with the order's secret; store the result."""
    try:
        doc = json.loads(results)
        partial = int(doc["partial_private_key"], 16)
        address = doc["address"]
    except (ValueError, KeyError, TypeError):
        return journal.update(
            entry, state="failed", reason="the task's result is not a VanityGen result"
        )
    final, wif = combine(journal.secret(entry), partial, address, entry.compressed)
    logs.redact(final.to_bytes(32, "big"))
    logs.redact(wif)
    return journal.store_result(entry, address, wif)


def _failure_reason(hub: HubContract, entry: JournalEntry, task_id: bytes) -> str:
    failed = hub.logs("TaskFailed", entry.block or 0, taskId=task_id)
    return failed[0]["args"]["reason"] if failed else "claimed after the deadline"


def settle(
    journal: RequestJournal,
    chain: Chain,
    hub: HubContract,
    entry: JournalEntry,
    *,
    now: float | None = None,
) -> JournalEntry:
    """Bring one entry up to date with the chain (blocking; never sends a transaction)."""
    if entry.state in ("completed", "refunded"):
        return entry
    if not journal.lock(entry.order_id):
        return entry  # a live process (a `run`, the app) is on it
    try:
        entry = journal.read(entry.order_id)  # as its last writer left it
        return _settle(journal, chain, hub, entry, now)
    finally:
        journal.release(entry.order_id)


def _settle(
    journal: RequestJournal,
    chain: Chain,
    hub: HubContract,
    entry: JournalEntry,
    now: float | None,
) -> JournalEntry:
    if entry.state == "abandoned":
        if not entry.tx_hash:
            return entry
        receipt = _receipt(chain, entry.tx_hash)
        if receipt is None or receipt["status"] != 1:
            return entry
    if entry.task_id is None:
        if not entry.tx_hash:
            return journal.update(
                entry, state="abandoned", reason="never signed: nothing was sent or paid"
            )
        receipt = _receipt(chain, entry.tx_hash)
        if receipt is None:
            if _pending(chain, entry.tx_hash):
                return journal.update(entry, state="sent")
            with chain.lock:
                used = int(chain.w3.eth.get_transaction_count(entry.requester, "latest"))
            why = (
                "another transaction used its nonce, so it can never be mined: nothing was paid"
                if entry.nonce is not None and used > entry.nonce
                else "the node never received the payment: nothing was paid"
            )
            return journal.update(entry, state="abandoned", reason=why)
        if receipt["status"] != 1:
            return journal.update(
                entry, state="abandoned", reason="the payment reverted: nothing was paid"
            )
        task_id = _task_from_receipt(hub, receipt, entry.requester)
        if task_id is None:
            return journal.update(
                entry, state="abandoned", reason="the payment created no task: nothing was paid"
            )
        entry = journal.update(
            entry,
            task_id="0x" + task_id.hex(),
            block=int(receipt["blockNumber"]),
            state="active",
            reason=None,
        )
    task_id = bytes.fromhex(entry.task_id.removeprefix("0x"))
    task = hub.task(task_id)
    if task.status is TaskStatus.COMPLETED:
        if entry.kind == APP_ORDER:
            return journal.app_completed(entry, task.result_digest.hex())
        return combine_entry(journal, entry, task.results)
    if task.status is TaskStatus.FAILED:
        return journal.update(entry, state="refunded", reason=_failure_reason(hub, entry, task_id))
    if task.status is TaskStatus.ACTIVE:
        moment = now if now is not None else _chain_time(chain)
        if moment > task.final_deadline:
            return journal.update(
                entry,
                state="failed",
                reason="its final deadline passed: `deskgrid tasks claim` refunds it",
            )
        return journal.update(entry, state="active") if entry.state != "active" else entry
    return entry  # UNSET with a task id: a reorg took it away for now; the next resume sees


def _chain_time(chain: Chain) -> float:
    try:
        with chain.lock:
            return float(chain.w3.eth.get_block("latest")["timestamp"])
    except Exception:  # noqa: BLE001 - the wall clock then
        return time.time()


def resume(journal: RequestJournal, chain: Chain, hub: HubContract) -> list[JournalEntry]:
    """Settle every unfinished entry of the journal's requester; all entries, oldest first."""
    out = []
    for entry in journal.entries():
        out.append(settle(journal, chain, hub, entry))
    return out


def claim(
    journal: RequestJournal, chain: Chain, hub: HubContract, sender: Any, entry: JournalEntry
) -> JournalEntry:
    """Claim the refund of a task whose final deadline passed (anyone may; it refunds the
    requester's escrow)."""
    entry = settle(journal, chain, hub, entry)
    if entry.state != "failed" or not entry.task_id:
        raise DeskGridError(
            f"Order {entry.order_id} is {entry.state}: only a task past its deadline can be "
            "claimed."
        )
    hub.claim(sender, bytes.fromhex(entry.task_id.removeprefix("0x")))
    return settle(journal, chain, hub, entry)

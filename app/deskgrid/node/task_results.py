"""Which result a published app's finished task has, from the chain: its digest, whether it is
encrypted to the wallet, and its media type; a sentence for a task that has none to fetch
(not finished, failed, unknown, paid by another wallet)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deskgrid import boundedjson
from deskgrid.chain.contracts import HubContract, TaskInfo, TaskStatus
from deskgrid.errors import DeskGridError
from deskgrid.market.published import read_app
from deskgrid.node.journal import APP_ORDER, JournalEntry, RequestJournal

TASK_ID = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
DEFAULT_MEDIA_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class TaskResult:
    task_id: str  # 0x…, lowercase
    digest: str  # sha256 hex of the stored result
    encrypted: bool
    media_type: str
    entry: JournalEntry | None = None  # the journal's order, when it has one


def find_task(journal: RequestJournal, ident: str) -> tuple[str, JournalEntry | None]:
    """The task id `ident` names: a journal order (its id or task id, a prefix of either),
    or any whole task id."""
    try:
        entry = journal.find(ident)
    except DeskGridError:
        if not TASK_ID.match(ident):
            raise
        return "0x" + ident.lower().removeprefix("0x"), None
    if entry.kind != APP_ORDER:
        raise DeskGridError(
            f"Order {entry.order_id} is a VanityGen order: it has no file to download; "
            f"`deskgrid tasks show {entry.order_id}` shows its key."
        )
    if entry.task_id is None:
        raise DeskGridError(
            f"Order {entry.order_id} has no task on chain ({entry.state}"
            + (f": {entry.reason}" if entry.reason else "")
            + "); there is no result to download."
        )
    return entry.task_id.lower(), entry


def _failure_reason(hub: HubContract, task: TaskInfo) -> str:
    found = hub.logs("TaskFailed", task.closed_block, task.closed_block, taskId=task.task_id)
    return found[-1]["args"]["reason"] if found else "claimed after its deadline"


def task_result(
    hub: HubContract, task_id: str, requester: str, result_key: str, entry: JournalEntry | None
) -> TaskResult:
    """The result of the completed task `task_id` paid by `requester` (whose public key is
    `result_key`); DeskGridError with a sentence when there is none to fetch."""
    task = hub.task(bytes.fromhex(task_id.removeprefix("0x")))
    if task.status is TaskStatus.UNSET:
        raise DeskGridError(
            f"There is no task {task_id} on the hub {hub.address}; check the task id and --hub."
        )
    if task.requester.lower() != requester.lower():
        raise DeskGridError(
            f"Task {task_id} was paid by {task.requester}, not by this wallet ({requester}); "
            "open the wallet that paid for it."
        )
    if task.status is TaskStatus.ACTIVE:
        raise DeskGridError(
            f"Task {task_id} is not finished yet; download its result once it completed "
            "(`deskgrid tasks` shows its state)."
        )
    if task.status is TaskStatus.FAILED:
        raise DeskGridError(
            f"Task {task_id} failed and its price was refunded: {_failure_reason(hub, task)}. "
            "It has no result."
        )
    if task.result_digest == bytes(32):
        raise DeskGridError(f"Task {task_id} completed without a result to download.")
    try:
        doc = boundedjson.loads(task.params, max_depth=8)
    except ValueError:
        doc = None
    key = doc.get("result_key") if isinstance(doc, dict) else None
    if key is not None and key != result_key:
        raise DeskGridError(
            f"The result of task {task_id} is encrypted to another key ({str(key)[:12]}…), "
            "not to this wallet's; open the wallet that paid for it."
        )
    listed = read_app(hub, task.app_id)
    media_type = listed.manifest.result.media_type if listed.manifest else DEFAULT_MEDIA_TYPE
    return TaskResult(task_id, task.result_digest.hex(), key is not None, media_type, entry)

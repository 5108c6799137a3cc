"""The wallet's tasks that ended, from the hub's logs: `TaskFinalized`, `TaskFailed` and
`TaskClaimed` of tasks whose requester is the wallet's address, or which the wallet paid through
the VanityRequester (the hub's requester is then the contract, which keeps the payer's refund),
become `TaskEnded` events, once per task. The scan starts at the chain's head when the watcher
is made (tasks that ended before are not announced); the tasks already announced are remembered
beside the history file (`<address>.announced.json`), so a reorg or a restart does not announce
one twice."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import HubContract, VanityRequesterContract
from deskgrid.chain.hub_events import LOG_SPAN
from deskgrid.desktop.events import TaskEnded, TaskOutcome
from deskgrid.jsonfile import read_json, write_json_atomic
from deskgrid.wallet.history import TxHistory
from deskgrid.wallet.log_cursor import LogCursor

END_EVENTS: dict[str, TaskOutcome] = {
    "TaskFinalized": "finalized",
    "TaskFailed": "failed",
    "TaskClaimed": "claimed",
}
APP_TITLES = {"vanity": "VanityGen"}  # on-chain app names → what people call them
RANGES_PER_SCAN = 10
KEEP_ANNOUNCED = 1_000


def announced_path(history: TxHistory) -> Path | None:
    """Beside the wallet's history file (None: in memory, as the demo wallet's history)."""
    if history.path is None:
        return None
    return history.path.with_name(f"{history.path.stem}.announced.json")


class AnnouncedTasks:
    """The task ids already announced (the newest `KEEP_ANNOUNCED`), saved on every change."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._ids: list[str] = []
        if path is not None:
            try:
                data = read_json(path) or []
            except (OSError, ValueError):
                data = []
            self._ids = (
                [str(i) for i in data if isinstance(i, str)] if isinstance(data, list) else []
            )

    def __contains__(self, task_id: object) -> bool:
        with self._lock:
            return task_id in self._ids

    def add(self, task_id: str) -> None:
        with self._lock:
            if task_id in self._ids:
                return
            self._ids = [*self._ids, task_id][-KEEP_ANNOUNCED:]
            if self.path is not None:
                write_json_atomic(self.path, self._ids)


class TaskEndWatcher:
    """Blocking: call `scan` off the GUI thread, once per new block."""

    def __init__(
        self,
        chain: Chain,
        hub: HubContract,
        address: str,
        *,
        announced: Path | None = None,
        start_block: int | None = None,
        requester: VanityRequesterContract | None = None,
    ) -> None:
        """`start_block`: the first block to read (default: the one after the head now);
        `requester`: the VanityRequester, whose tasks this wallet paid are announced too."""
        self.chain = chain
        self.hub = hub
        self.address = address
        self.requester = requester
        self.announced = AnnouncedTasks(announced)
        first = chain.block_number() + 1 if start_block is None else start_block
        self.cursor = LogCursor(None, first_block=first)
        self._app_titles: dict[int, str] = {}

    def scan(self) -> list[TaskEnded]:
        """The wallet's tasks that ended since the last scan, oldest first."""
        head = self.chain.block_number()
        ended: list[TaskEnded] = []
        for _ in range(RANGES_PER_SCAN):
            blocks = self.cursor.next_range(self.chain, head, LOG_SPAN)
            if blocks is None:
                break
            for name, log in self._end_logs(blocks.start, blocks.end):
                event = self._mine(END_EVENTS[name], log)
                if event is not None:
                    self.announced.add(event.task_id)
                    ended.append(event)
            self.cursor.advance(self.chain, blocks.end)
        return ended

    def _end_logs(self, start: int, end: int) -> list[tuple[str, Any]]:
        found = [(name, log) for name in END_EVENTS for log in self.hub.logs(name, start, end)]
        found.sort(key=lambda item: (int(item[1]["blockNumber"]), int(item[1]["logIndex"])))
        return found

    def _mine(self, outcome: TaskOutcome, log: Any) -> TaskEnded | None:
        """The event for a task of this wallet not announced yet, else None."""
        task_id = bytes(log["args"]["taskId"])
        hex_id = "0x" + task_id.hex()
        if hex_id in self.announced:
            return None
        task = self.hub.task(task_id)
        through = self.requester is not None and task.requester == self.requester.address
        if through:
            assert self.requester is not None
            if self.requester.request_of(task_id).user != self.address:
                return None
        elif task.requester != self.address:
            return None
        return TaskEnded(
            task_id=hex_id,
            requester=self.address,
            through_requester=through,
            app=self._app_title(task.app_id),
            outcome=outcome,
            price=task.price,
            block_number=int(log["blockNumber"]),
            reason=str(log["args"].get("reason", "")) if outcome == "failed" else "",
        )

    def _app_title(self, app_id: int) -> str:
        if app_id not in self._app_titles:
            try:
                name = self.hub.app(app_id).name
            except Exception:
                name = f"app #{app_id}"
            self._app_titles[app_id] = APP_TITLES.get(name, name)
        return self._app_titles[app_id]

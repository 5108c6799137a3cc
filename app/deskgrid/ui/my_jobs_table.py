"""My jobs: the open wallet's tasks, each followed on its own. A row per task: its id, app,
state, progress, cost and duration, and "Claim refund" while its refund is this wallet's to
take ("Download result…" once a published app's task has a result to fetch). Selecting a row
asks the pane to show that task (`job_selected`).

States, in the order a task goes through them: `paying` (the payment is being sent),
`requested` (on chain, waiting for a worker), `computing` (on the grid), then one of
`finalized` (the result is delivered), `failed` (ended without a result: its refund waits to be
claimed, or belongs to another wallet), `refunded` (its price is back with this wallet: the pool
gave up on it, or this app claimed it), `claimed` (another account claimed it after its
deadline; its price is back in this wallet's escrow)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deskgrid.desktop.task_ends import APP_TITLES
from deskgrid.money import format_rlc
from deskgrid.oracle.timeline import TimelineEvent

COLUMNS = ("Task", "App", "State", "Progress", "Cost", "Duration", "")
ACTION_COLUMN = len(COLUMNS) - 1
STATES = ("paying", "requested", "computing", "finalized", "failed", "refunded", "claimed")
RUNNING = frozenset({"paying", "requested", "computing"})
CLAIM_REFUND = "Claim refund"
DOWNLOAD_RESULT = "Download result…"


@dataclass(eq=False)
class JobRecord:
    """One task as My jobs shows it; `events` is its timeline so far, `result` its address and
    key once combined (`output` a published app's result)."""

    task_id: bytes | None  # None while the payment is on its way
    app: str
    cost: int
    state: str = "paying"
    started: float = 0.0
    ended: float | None = None
    claimable: bool = False
    claiming: bool = False
    what: str = ""  # what was asked, in a few words
    reason: str | None = None  # why it ended without a result
    result: tuple[str, str] | None = None
    output: str | None = None  # a published app's result, as the hub holds it
    events: list[TimelineEvent] = field(default_factory=list)
    order_id: str | None = None
    app_id: int | None = None  # the hub's app, when known
    downloadable: bool = False  # a published app's result waits in the grid's data store

    @property
    def hex_id(self) -> str:
        return "0x" + self.task_id.hex() if self.task_id is not None else ""

    @property
    def short_id(self) -> str:
        return f"{self.hex_id[:10]}…" if self.task_id is not None else "(being paid)"

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    def duration(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    def progress(self) -> str:
        """The grid's last progress report (and speed) while computing; 100 % once done."""
        if self.state == "finalized":
            return "100 %"
        if self.state != "computing":
            return ""
        running = [e for e in self.events if e.kind == "running"]
        if not running:
            return "computed" if any(e.kind == "completed" for e in self.events) else ""
        data = running[-1].data
        text = f"{float(data.get('progress') or 0) * 100:.0f} %"
        if data.get("keys_per_s"):
            text += f" · {float(data['keys_per_s']):,.0f} keys/s"
        return text


def duration_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class MyJobsTable(QWidget):
    """`claim_requested(task_id)` when the person asks for a task's refund;
    `download_requested(job)` for a published app's result; `job_selected(job)` when they
    select another row."""

    claim_requested = Signal(bytes)
    download_requested = Signal(object)
    job_selected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        self.table.setMinimumHeight(150)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        self.jobs: list[JobRecord] = []
        self._buttons: dict[int, QPushButton] = {}  # id(job) → its row's action
        self._last_selected: JobRecord | None = None
        self.table.itemSelectionChanged.connect(self._selection_changed)

    def add(self, job: JobRecord) -> None:
        """A new task, on top."""
        self.jobs.insert(0, job)
        self.refresh()

    def append(self, job: JobRecord) -> None:
        """An older task (from the journal), below the others."""
        self.jobs.append(job)
        self.refresh()

    def remove(self, job: JobRecord) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
            if self._last_selected is job:
                self._last_selected = None
            self.refresh()

    def find(self, task_id: bytes) -> JobRecord | None:
        return next((j for j in self.jobs if j.task_id == task_id), None)

    def row_of(self, job: JobRecord) -> int:
        return self.jobs.index(job)

    def selected(self) -> JobRecord | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.jobs):
            return None
        return self.jobs[rows[0].row()]

    def select(self, job: JobRecord) -> None:
        """Select `job`'s row (as the person would)."""
        if job in self.jobs:
            self.table.selectRow(self.jobs.index(job))

    def claim_button(self, job: JobRecord) -> QPushButton | None:
        """The row's "Claim refund" (None while the task has none to claim)."""
        button = self._buttons.get(id(job))
        return button if button is not None and button.text() == CLAIM_REFUND else None

    def download_button(self, job: JobRecord) -> QPushButton | None:
        """The row's "Download result…" (None unless its result can be fetched)."""
        button = self._buttons.get(id(job))
        return button if button is not None and button.text() == DOWNLOAD_RESULT else None

    def refresh(self) -> None:
        """Show the records as they are now (durations of running tasks move on)."""
        selected = self._last_selected
        self.table.blockSignals(True)
        try:
            self.table.setRowCount(len(self.jobs))
            for row, job in enumerate(self.jobs):
                cells = (
                    job.hex_id[:18] + "…" if job.task_id is not None else job.short_id,
                    APP_TITLES.get(job.app, job.app),
                    job.state,
                    job.progress(),
                    format_rlc(job.cost),
                    duration_text(job.duration()),
                )
                for column, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    if column == 0:
                        item.setToolTip(job.hex_id or "The payment is on its way.")
                    elif column == 2 and job.reason:
                        item.setToolTip(job.reason)
                    self.table.setItem(row, column, item)
                self._action_cell(row, job)
            if selected is not None and selected in self.jobs:
                self.table.selectRow(self.jobs.index(selected))
        finally:
            self.table.blockSignals(False)
        self._forget_buttons()

    def _action_cell(self, row: int, job: JobRecord) -> None:
        button = self._buttons.get(id(job))
        action = CLAIM_REFUND if job.claimable else DOWNLOAD_RESULT if job.downloadable else None
        if action is None:
            if self.table.cellWidget(row, ACTION_COLUMN) is not None:
                self.table.removeCellWidget(row, ACTION_COLUMN)
            self._buttons.pop(id(job), None)
            return
        if (
            button is None
            or button.text() != action
            or self.table.cellWidget(row, ACTION_COLUMN) is not button
        ):
            button = QPushButton(action)
            if action == CLAIM_REFUND:
                button.setToolTip("Take this task's price back: it ended without a result.")
                button.clicked.connect(lambda _=False, j=job: self._claim(j))
            else:
                button.setToolTip("Fetch this task's result from the grid and save it.")
                button.clicked.connect(lambda _=False, j=job: self.download_requested.emit(j))
            self.table.setCellWidget(row, ACTION_COLUMN, button)
            self._buttons[id(job)] = button
        button.setEnabled(not job.claiming)

    def _forget_buttons(self) -> None:
        known = {id(j) for j in self.jobs}
        for key in [k for k in self._buttons if k not in known]:
            del self._buttons[key]

    def _selection_changed(self) -> None:
        job = self.selected()
        if job is not None and job is not self._last_selected:
            self._last_selected = job
            self.job_selected.emit(job)

    def _claim(self, job: JobRecord) -> None:
        if job.claimable and not job.claiming and job.task_id is not None:
            job.claiming = True
            self.refresh()
            self.claim_requested.emit(job.task_id)

"""The tasks paid in this session: id, status, cost, duration; "Claim refund" for a selected task
that is still active past its final deadline."""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deskgrid.money import format_rlc

COLUMNS = ("Task", "App", "Status", "Cost", "Duration")


@dataclass
class JobRecord:
    task_id: bytes
    app: str
    cost: int
    status: str = "ACTIVE"
    started: float = 0.0
    ended: float | None = None
    claimable: bool = False

    @property
    def hex_id(self) -> str:
        return "0x" + self.task_id.hex()

    def duration(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started


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
    """`claim_requested(task_id)` when the person asks for a refund."""

    claim_requested = Signal(bytes)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.claim_button = QPushButton("Claim refund")
        self.claim_button.setToolTip(
            "A task still active after its final deadline can be refunded to your escrow."
        )
        self.claim_button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.claim_button)
        layout.addLayout(row)
        self.jobs: list[JobRecord] = []
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.claim_button.clicked.connect(self._claim)

    def add(self, job: JobRecord) -> None:
        self.jobs.insert(0, job)
        self.refresh()

    def find(self, task_id: bytes) -> JobRecord | None:
        return next((j for j in self.jobs if j.task_id == task_id), None)

    def selected(self) -> JobRecord | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.jobs):
            return None
        return self.jobs[rows[0].row()]

    def refresh(self) -> None:
        """Show the records as they are now (durations of running tasks move on)."""
        selected = self.selected()
        self.table.setRowCount(len(self.jobs))
        for row, job in enumerate(self.jobs):
            status = "ACTIVE, refund claimable" if job.claimable else job.status
            cells = (
                job.hex_id[:18] + "…",
                job.app,
                status,
                format_rlc(job.cost),
                duration_text(job.duration()),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setToolTip(job.hex_id)
                self.table.setItem(row, column, item)
        if selected is not None and selected in self.jobs:
            self.table.selectRow(self.jobs.index(selected))
        self._selection_changed()

    def _selection_changed(self) -> None:
        job = self.selected()
        self.claim_button.setEnabled(job is not None and job.claimable)

    def _claim(self) -> None:
        job = self.selected()
        if job is not None and job.claimable:
            self.claim_button.setEnabled(False)
            self.claim_requested.emit(job.task_id)

"""The live timeline of one task: each fact as a sentence, a progress bar and the keys/s."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QLabel, QListWidget, QProgressBar, QVBoxLayout, QWidget

from deskgrid.oracle.timeline import TimelineEvent


class TaskTimelineView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("<b>Timeline</b>")
        self.events = QListWidget()
        self.events.setMinimumHeight(110)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.speed = QLabel()
        layout.addWidget(self.title)
        layout.addWidget(self.events)
        layout.addWidget(self.progress)
        layout.addWidget(self.speed)
        self.kinds: list[str] = []
        self.reset()

    def reset(self, task_id: str = "") -> None:
        self.events.clear()
        self.kinds = []
        self.progress.setValue(0)
        self.speed.setText("")
        self.title.setText(f"<b>Timeline</b> {task_id[:18]}…" if task_id else "<b>Timeline</b>")

    def add_note(self, text: str) -> None:
        self.events.addItem(f"{dt.datetime.now():%H:%M:%S}  {text}")
        self.events.scrollToBottom()

    def add_event(self, event: TimelineEvent) -> None:
        self.kinds.append(event.kind)
        when = dt.datetime.fromtimestamp(event.at).strftime("%H:%M:%S")
        self.events.addItem(f"{when}  {event.sentence()}")
        self.events.scrollToBottom()
        data = event.data
        if event.kind == "running":
            self.progress.setValue(int(float(data.get("progress") or 0) * 100))
            if data.get("keys_per_s"):
                self.speed.setText(f"{float(data['keys_per_s']):,.0f} keys/s")
        elif event.kind in ("completed", "finalized"):
            self.progress.setValue(100)

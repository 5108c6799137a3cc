"""Notices of the wallet's jobs.

`JobNotices` announces the open wallet's tasks that ended (`TaskEnded` from the core's follower,
through the bridge): "Your VanityGen task … is done", or why it failed and what was refunded.
Shown by a `notify(title, text, warning)` callable (the tray's), unless the setting "notify when
my jobs complete" is off.

`NoticeList` is the Jobs pane's own list of notices, one per task, newest first: a task that
finished while another one is shown ("Show" brings it up), a task that failed or passed its
deadline with its reason and, when its refund is this wallet's to take, "Claim refund". A newer
notice of a task replaces its older one; each can be dismissed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from deskgrid.desktop.events import TaskEnded
from deskgrid.desktop.settings import SettingsStore
from deskgrid.ui.bridge import QtEventBridge

Notify = Callable[[str, str, bool], None]
NoticeKind = Literal["info", "ok", "warning"]
SHOW = "Show"
CLAIM_REFUND = "Claim refund"

_STYLES = {
    "info": "background: palette(alternate-base); border: 1px solid palette(mid);",
    "ok": "color: #1e4620; background: #e6f4ea; border: 1px solid #b7dfc1;",
    "warning": "color: #6b3a00; background: #fff4e5; border: 1px solid #f5c27a;",
}


class JobNotices(QObject):
    def __init__(
        self,
        bridge: QtEventBridge,
        notify: Notify,
        settings: SettingsStore | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.notify = notify
        self.settings = settings
        bridge.task_ended.connect(self.task_ended)

    @property
    def enabled(self) -> bool:
        return self.settings is None or self.settings.settings.notify_job_ends

    def task_ended(self, event: TaskEnded) -> None:
        if not self.enabled:
            return
        self.notify(event.title, event.message, event.outcome != "finalized")


@dataclass(frozen=True)
class JobNotice:
    """One task's notice: `key` names the task (its hex id), `action` the button it offers
    (`SHOW`, `CLAIM_REFUND` or none)."""

    key: str
    text: str
    kind: NoticeKind = "info"
    action: str | None = None


class _NoticeRow(QFrame):
    def __init__(self, notice: JobNotice, owner: NoticeList) -> None:
        super().__init__()
        self.notice = notice
        self.setObjectName("notice")
        self.setStyleSheet(f"QFrame#notice {{ {_STYLES[notice.kind]} border-radius: 4px; }}")
        self.label = QLabel(notice.text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setStyleSheet("border: none; background: transparent;")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.label, 1)
        self.action_button: QPushButton | None = None
        if notice.action:
            self.action_button = QPushButton(notice.action)
            self.action_button.clicked.connect(lambda: owner.act(notice.key))
            row.addWidget(self.action_button)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setFlat(True)
        self.dismiss_button.clicked.connect(lambda: owner.dismiss(notice.key))
        row.addWidget(self.dismiss_button)


class NoticeList(QWidget):
    """`acted(key, action)` when the person presses a notice's button."""

    acted = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._rows: dict[str, _NoticeRow] = {}
        self.setVisible(False)

    def post(self, notice: JobNotice) -> None:
        """Show `notice` on top, in place of an older notice of the same task."""
        self._remove(notice.key)
        row = _NoticeRow(notice, self)
        self._rows[notice.key] = row
        self._layout.insertWidget(0, row)
        self.setVisible(True)

    def notice(self, key: str) -> JobNotice | None:
        row = self._rows.get(key)
        return row.notice if row is not None else None

    def notices(self) -> list[JobNotice]:
        """Newest first."""
        rows = [self._layout.itemAt(i).widget() for i in range(self._layout.count())]
        return [row.notice for row in rows if isinstance(row, _NoticeRow)]

    def button(self, key: str) -> QPushButton | None:
        """The action button of a task's notice (None: none offered)."""
        row = self._rows.get(key)
        return row.action_button if row is not None else None

    def act(self, key: str) -> None:
        row = self._rows.get(key)
        if row is not None and row.notice.action:
            if row.action_button is not None:
                row.action_button.setEnabled(False)  # once; a newer notice replaces it
            self.acted.emit(key, row.notice.action)

    def enable_action(self, key: str) -> None:
        """The action did not go through: it may be pressed again."""
        row = self._rows.get(key)
        if row is not None and row.action_button is not None:
            row.action_button.setEnabled(True)

    def dismiss(self, key: str) -> None:
        self._remove(key)
        self.setVisible(bool(self._rows))

    def _remove(self, key: str) -> None:
        row = self._rows.pop(key, None)
        if row is not None:
            self._layout.removeWidget(row)
            row.deleteLater()

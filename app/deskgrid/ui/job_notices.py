"""Announces the open wallet's tasks that ended (`TaskEnded` from the core's follower, through
the bridge): "Your VanityGen task … is done", or why it failed and what was refunded. Shown by
a `notify(title, text, warning)` callable (the tray's), unless the setting "notify when my jobs
complete" is off."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from deskgrid.desktop.events import TaskEnded
from deskgrid.desktop.settings import SettingsStore
from deskgrid.ui.bridge import QtEventBridge

Notify = Callable[[str, str, bool], None]


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

"""Core events (any thread) → Qt signals delivered on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from deskgrid.desktop.events import (
    BootProgress,
    EventBus,
    HistoryChanged,
    NewBlock,
    TaskEnded,
    WalletChanged,
)


class QtEventBridge(QObject):
    """Subscribes to an EventBus and re-emits each event as a typed signal. A signal emitted
    from a worker thread reaches slots of GUI objects through a queued connection."""

    boot_progress = Signal(str, float)
    new_block = Signal(int)
    history_changed = Signal(str)
    wallet_changed = Signal(str)
    task_ended = Signal(object)  # TaskEnded: a task of the open wallet ended
    event = Signal(object)  # every event, for panes added later

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = bus.subscribe(self._on_event)

    def _on_event(self, event: object) -> None:
        if isinstance(event, BootProgress):
            self.boot_progress.emit(event.step, event.fraction)
        elif isinstance(event, NewBlock):
            self.new_block.emit(event.number)
        elif isinstance(event, HistoryChanged):
            self.history_changed.emit(event.address)
        elif isinstance(event, WalletChanged):
            self.wallet_changed.emit(event.address or "")
        elif isinstance(event, TaskEnded):
            self.task_ended.emit(event)
        self.event.emit(event)

    def close(self) -> None:
        self._unsubscribe()

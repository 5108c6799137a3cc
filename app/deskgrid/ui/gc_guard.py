"""Python's cyclic garbage collector runs in whichever thread happens to allocate. When it
frees a Qt object on a worker thread (a chain read in `asyncio.to_thread`, say) while the GUI
thread holds a Qt lock, the two threads deadlock. In the GUI process the automatic collector
is therefore off, and this timer on the GUI thread collects with the same thresholds."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class MainThreadCollector(QObject):
    """Collect cyclic garbage on the GUI thread only, every `interval_ms`; `stop()` puts the
    automatic collector back as it was."""

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect)
        self.timer.start(interval_ms)

    def collect(self) -> None:
        count0, count1, count2 = gc.get_count()
        if count0 > self.threshold[0]:
            gc.collect(0)
            if count1 > self.threshold[1]:
                gc.collect(1)
                if count2 > self.threshold[2]:
                    gc.collect(2)

    def stop(self) -> None:
        self.timer.stop()
        if self._was_enabled:
            gc.enable()

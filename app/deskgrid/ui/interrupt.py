"""Ctrl-C in the terminal that started the app, and SIGTERM from the session, quit it as its
Quit does: no traceback, the worker and the local node stopped.

Python runs a signal handler only when the interpreter gets control, and Qt's event loop may
sleep in C++ for as long as nothing happens; the signal's byte written to a socket
(`signal.set_wakeup_fd`) wakes the loop through a QSocketNotifier, at once and without a
polling timer."""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class QuitOnSignal(QObject):
    def __init__(self, quit_app: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.quit_app = quit_app
        self.received: list[int] = []
        self._reader, self._writer = socket.socketpair()
        for sock in (self._reader, self._writer):
            sock.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._previous = {sig: signal.signal(sig, self._handle) for sig in SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)

    def _handle(self, signum: int, _frame: object) -> None:
        if not self.received:  # a second Ctrl-C while quitting changes nothing
            QTimer.singleShot(0, self.quit_app)
        self.received.append(signum)

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            while self._reader.recv(64):
                pass

    def close(self) -> None:
        """Give the signals back to their previous handlers."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()

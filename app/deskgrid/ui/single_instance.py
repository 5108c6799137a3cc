"""One DeskGrid per user and data folder: a second launch asks the first to show its window
(over a QLocalSocket) and exits."""

from __future__ import annotations

import getpass
import hashlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from deskgrid import paths

RAISE = b"raise\n"
TIMEOUT_MS = 1000


def server_name() -> str:
    """Unique per user and data folder (tests and portable installs each get their own)."""
    key = f"{getpass.getuser()}:{paths.data_dir().resolve()}"
    return "deskgrid-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def ask_running_instance_to_raise(name: str | None = None) -> bool:
    """True when another instance answered (it will raise its window)."""
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(TIMEOUT_MS):
        return False
    socket.write(RAISE)
    socket.flush()
    socket.waitForBytesWritten(TIMEOUT_MS)
    socket.disconnectFromServer()
    return True


class SingleInstance(QObject):
    """Listens for later launches; emits `raise_requested` when one knocks."""

    raise_requested = Signal()

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self.server = QLocalServer(self)
        self._sockets: list[QLocalSocket] = []
        self.server.newConnection.connect(self._on_connection)

    def listen(self) -> bool:
        if self.server.listen(self.name):
            return True
        # A server left behind by a crash: nobody answered, so take its place.
        QLocalServer.removeServer(self.name)
        return self.server.listen(self.name)

    def _on_connection(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            self._sockets.append(socket)
            socket.readyRead.connect(self._on_ready)
            if socket.bytesAvailable():
                self._read(socket)

    def _on_ready(self) -> None:
        for socket in list(self._sockets):
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        data = bytes(socket.readAll().data())
        socket.readyRead.disconnect(self._on_ready)
        self._sockets.remove(socket)
        socket.disconnectFromServer()
        socket.deleteLater()
        if data.startswith(RAISE.strip()):
            self.raise_requested.emit()

    def close(self) -> None:
        for socket in self._sockets:
            socket.blockSignals(True)
            socket.abort()
        self._sockets.clear()
        self.server.blockSignals(True)
        self.server.close()

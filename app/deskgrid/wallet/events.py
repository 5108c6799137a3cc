"""Typed wallet events and a tiny publish/subscribe bus. Publishers may run on any thread;
subscribers that touch a GUI must hop to its thread themselves (the UI's bridge does)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BootProgress:
    """A step of starting the backend; `fraction` in [0, 1]."""

    step: str
    fraction: float


@dataclass(frozen=True)
class NewBlock:
    number: int


@dataclass(frozen=True)
class HistoryChanged:
    address: str


@dataclass(frozen=True)
class WalletChanged:
    """The current wallet changed, or was locked / unlocked."""

    address: str | None


Handler = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Receive every event; returns a function that unsubscribes."""
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def publish(self, event: object) -> None:
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(event)
            except Exception:  # one bad subscriber must not silence the others
                log.exception("event handler failed for %s", type(event).__name__)

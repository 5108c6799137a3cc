"""Typed wallet events and a tiny publish/subscribe bus. Publishers may run on any thread;
subscribers that touch a GUI must hop to its thread themselves (the UI's bridge does)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from deskgrid.money import format_rlc

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


TaskOutcome = Literal["finalized", "failed", "claimed"]


@dataclass(frozen=True)
class TaskEnded:
    """A task the open wallet requested ended: "finalized" (the result is delivered), "failed"
    (the pool's scheduler gave up, with its reason) or "claimed" (refunded after its final
    deadline). `price` (nRLC) is what it cost or, when it did not finish, what went back to
    the requester's escrow, or, for a task paid through the VanityRequester
    (`through_requester`), what that contract keeps for the payer until they claim it."""

    task_id: str  # 0x-prefixed hex
    requester: str
    app: str
    outcome: TaskOutcome
    price: int
    block_number: int
    reason: str = ""
    through_requester: bool = False  # paid through the VanityRequester, which keeps the refund

    @property
    def short_id(self) -> str:
        return f"{self.task_id[:10]}…"

    @property
    def title(self) -> str:
        return {"finalized": "Job done", "failed": "Job failed"}.get(self.outcome, "Job refunded")

    @property
    def message(self) -> str:
        task = f"Your {self.app} task {self.short_id}"
        refund = f"its {format_rlc(self.price)} went back to your escrow."
        if self.through_requester:
            refund = (
                f"the VanityRequester keeps its {format_rlc(self.price)} for you: claim it in "
                "the Jobs pane."
            )
        if self.outcome == "finalized":
            return f"{task} is done."
        if self.outcome == "failed":
            reason = self.reason.strip().rstrip(".") or "no reason was given"
            return f"{task} failed: {reason}; {refund}"
        return f"{task} was not done before its deadline; {refund}"


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

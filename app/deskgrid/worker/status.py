"""What the worker is doing, for the GUI and the command line, and its retry pacing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

WorkerState = Literal["idle", "computing", "suspended", "error", "stopped"]


@dataclass(frozen=True)
class WorkerStatus:
    state: WorkerState = "idle"
    reason: str = "Starting."  # a sentence shown to the volunteer
    job_id: str | None = None
    app: str | None = None
    progress: float | None = None  # 0..1 when the app reports it
    keys_per_s: float | None = None
    jobs_done: int = 0
    last_error: str | None = None
    address: str | None = None  # the worker's Ethereum address


class Backoff:
    """Exponential backoff: `first`, doubled each failure up to `cap`; reset on success."""

    def __init__(self, first: float = 0.5, cap: float = 60.0) -> None:
        self.first, self.cap = first, cap
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self.cap, self._next * 2)
        return delay

    def reset(self) -> None:
        self._next = self.first

"""Long-polled requests: a work request or an events read that finds nothing waits on the
server (up to MAX_WAIT_S) and is answered as soon as a commit rings the event bell.

Waiting requests hold a connection and a coroutine each, so they are bounded: at most
PER_CALLER at once per worker address, SUBMITTER_WAITERS for the submitter tokens together
(the oracle, the apps following their jobs), at most MAX_WAITERS in all; a request past a
bound gets today's immediate answer. A server also looks again every `recheck_s` without a
ring, which is how it sees a job another server (PostgreSQL) committed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from deskgrid.grid.events import EventBell

MAX_WAIT_S = 25.0  # longer waits are cut to this (below the clients' 30 s read timeout)
PER_CALLER = 2  # a retry may come while the server still holds the caller's previous wait
SUBMITTER_WAITERS = 16
MAX_WAITERS = 512

T = TypeVar("T")


class LongPoll:
    def __init__(
        self, bell: EventBell, *, per_caller: int = PER_CALLER, max_waiters: int = MAX_WAITERS
    ) -> None:
        self.bell = bell
        self.per_caller = per_caller
        self.max_waiters = max_waiters
        self._waiting: dict[str, int] = {}
        self._total = 0

    @property
    def waiting(self) -> int:
        return self._total

    @contextmanager
    def slot(self, caller: str, limit: int | None = None) -> Iterator[bool]:
        """True inside when `caller` may wait (a slot is held until the block ends); `limit`
        replaces `per_caller` for this key."""
        held = self._waiting.get(caller, 0)
        if held >= (limit or self.per_caller) or self._total >= self.max_waiters:
            yield False
            return
        self._waiting[caller] = held + 1
        self._total += 1
        try:
            yield True
        finally:
            self._total -= 1
            left = self._waiting[caller] - 1
            if left:
                self._waiting[caller] = left
            else:
                del self._waiting[caller]

    async def wait_for(
        self,
        look: Callable[[], Awaitable[T | None]],
        seconds: float,
        *,
        recheck_s: float,
        gone: Callable[[], Awaitable[bool]] | None = None,
    ) -> T | None:
        """`look()` after every ring (or `recheck_s`) until it finds something (not None),
        `seconds` pass or the client is `gone()`; None when nothing came."""
        deadline = time.monotonic() + min(max(0.0, seconds), MAX_WAIT_S)
        while True:
            ticket = self.bell.ticket()  # before looking: a ring during the look wakes us
            found = await look()
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            await self.bell.wait(min(left, recheck_s), ticket)
            if gone is not None and await gone():
                return None

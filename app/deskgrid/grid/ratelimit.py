"""Per-client token buckets (in one server process): a client may burst, then is held to a
steady rate and told how long to wait."""

from __future__ import annotations

import time
from collections.abc import Callable

from deskgrid.grid.errors import RateLimited


class RateLimiter:
    def __init__(
        self, rate_per_s: float, burst: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate_per_s
        self.burst = max(burst, 1.0)
        self._now = now
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str, cost: float = 1.0) -> None:
        if self.rate <= 0:
            return
        now = self._now()
        tokens, stamp = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if tokens < cost:
            self._buckets[key] = (tokens, now)
            wait = (cost - tokens) / self.rate
            raise RateLimited(
                f"Too many requests; wait {wait:.2f} seconds before the next one.", wait
            )
        self._buckets[key] = (tokens - cost, now)
        if len(self._buckets) > 100_000:
            self._buckets.clear()

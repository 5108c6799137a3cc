"""Per-client token buckets (in one server process): a client may burst, then is held to a
steady rate and told how long to wait.

The buckets live in a least-recently-used order, at most `max_keys` of them. A bucket idle
long enough to be full again is the same as no bucket and is dropped first; only when every
bucket is in use does the least recently used one go. So a flood of new keys (addresses,
identities) can never reset the limits of the clients that are active, and memory stays
bounded."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from deskgrid.grid.errors import RateLimited

DEFAULT_MAX_KEYS = 100_000


class RateLimiter:
    def __init__(
        self,
        rate_per_s: float,
        burst: float,
        now: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
        what: str = "requests",
    ) -> None:
        self.rate = rate_per_s
        self.burst = max(burst, 1.0)
        self.max_keys = max(1, max_keys)
        self.what = what
        self._now = now
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def check(self, key: str, cost: float = 1.0) -> None:
        """Take `cost` tokens from `key`'s bucket, or raise RateLimited (nothing taken)."""
        if self.rate <= 0:
            return
        now = self._now()
        found = self._buckets.get(key)
        if found is None:
            tokens, stamp = self.burst, now
        else:
            tokens, stamp = found
            self._buckets.move_to_end(key)
        tokens = min(self.burst, tokens + max(0.0, now - stamp) * self.rate)
        if tokens < cost:
            self._buckets[key] = (tokens, now)
            wait = (cost - tokens) / self.rate
            raise RateLimited(
                f"Too many {self.what}; wait {wait:.2f} seconds before the next one.", wait
            )
        self._buckets[key] = (tokens - cost, now)
        if found is None:
            self._trim(now)

    def _trim(self, now: float) -> None:
        refill_s = self.burst / self.rate
        buckets = self._buckets
        # the oldest buckets first: drop the ones that are full again (as if never used)
        while buckets:
            key, (tokens, stamp) = next(iter(buckets.items()))
            if now - stamp < refill_s and tokens + (now - stamp) * self.rate < self.burst:
                break
            del buckets[key]
        while len(buckets) > self.max_keys:
            buckets.popitem(last=False)

"""The free stake of a stakeholder (a worker's payout address), as the grid reads it before it
leases a staked job: none (no chain: every stake is 0) or the hub's, cached a few seconds.

Reading the hub is a network call: the work routes make sure a worker's stake is `fresh` by
reading it in a thread first (`warm`), so that the lease itself, which may run on the event
loop, finds it cached. The cache keeps the most recently used stakeholders (at most
`max_entries`; the least recently used go first), so many payout identities cost their own
reads, never the others' cached ones."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from deskgrid.chain.contracts import HubContract

log = logging.getLogger(__name__)
STAKE_CACHE_S = 5.0


class StakeBook(Protocol):
    """Where the free stake (nRLC, stake minus what is locked) of a stakeholder comes from."""

    @property
    def on_chain(self) -> bool:
        """False: every stake is 0 and nothing needs to be read."""
        ...

    def free_stake(self, owner: str) -> int: ...

    def fresh(self, owner: str) -> bool:
        """True when `free_stake(owner)` answers without a network call."""
        ...


class NoStakes:
    """A grid without a chain: nobody has stake, so only jobs with stake 0 are leased."""

    on_chain = False

    def free_stake(self, owner: str) -> int:
        return 0

    def fresh(self, owner: str) -> bool:
        return True


class HubStakes:
    """The hub's stakes, each read at most once per `ttl_s` per stakeholder; a read that fails
    (the chain is unreachable) counts as no stake and is logged."""

    on_chain = True

    def __init__(
        self,
        hub: HubContract,
        *,
        ttl_s: float = STAKE_CACHE_S,
        monotonic: Callable[[], float] = time.monotonic,
        max_entries: int = 100_000,
    ) -> None:
        self.hub = hub
        self.ttl_s = ttl_s
        self.monotonic = monotonic
        self.max_entries = max_entries
        self._cache: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def _cached(self, key: str, now: float) -> int | None:
        with self._lock:
            cached = self._cache.get(key)
            if cached is None or now - cached[0] >= self.ttl_s:
                return None
            self._cache.move_to_end(key)
            return cached[1]

    def fresh(self, owner: str) -> bool:
        return self._cached(owner.lower(), self.monotonic()) is not None

    def free_stake(self, owner: str) -> int:
        key = owner.lower()
        now = self.monotonic()
        cached = self._cached(key, now)
        if cached is not None:
            return cached
        try:
            free = max(0, self.hub.stake_of(owner) - self.hub.locked_stake_of(owner))
        except Exception as exc:  # unreachable chain, timeout: not eligible for staked jobs
            log.warning("cannot read the stake of %s on the hub (%s); counted as none", owner, exc)
            free = 0
        with self._lock:
            self._cache[key] = (now, free)
            self._cache.move_to_end(key)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)  # the least recently used
        return free


def hub_stakes(rpc_url: str, hub_address: str) -> HubStakes:
    """The stakes of the hub at `hub_address` on the chain at `rpc_url` (a ChainError with a
    sentence when the chain is unreachable or holds no hub there)."""
    from deskgrid.chain.arguments import open_hub
    from deskgrid.chain.connection import connect

    return HubStakes(open_hub(connect(rpc_url), hub_address))

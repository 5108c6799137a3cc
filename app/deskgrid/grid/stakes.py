"""The free stake of a stakeholder (a worker's payout address), as the grid reads it before it
leases a staked job: none (no chain: every stake is 0) or the hub's, cached a few seconds."""

from __future__ import annotations

import logging
import threading
import time
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


class NoStakes:
    """A grid without a chain: nobody has stake, so only jobs with stake 0 are leased."""

    on_chain = False

    def free_stake(self, owner: str) -> int:
        return 0


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
        self._cache: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def free_stake(self, owner: str) -> int:
        key = owner.lower()
        now = self.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        try:
            free = max(0, self.hub.stake_of(owner) - self.hub.locked_stake_of(owner))
        except Exception as exc:  # unreachable chain, timeout: not eligible for staked jobs
            log.warning("cannot read the stake of %s on the hub (%s); counted as none", owner, exc)
            free = 0
        with self._lock:
            if len(self._cache) >= self.max_entries:
                self._cache.clear()
            self._cache[key] = (now, free)
        return free


def hub_stakes(rpc_url: str, hub_address: str) -> HubStakes:
    """The stakes of the hub at `hub_address` on the chain at `rpc_url` (a ChainError with a
    sentence when the chain is unreachable or holds no hub there)."""
    from deskgrid.chain.arguments import open_hub
    from deskgrid.chain.connection import connect

    return HubStakes(open_hub(connect(rpc_url), hub_address))

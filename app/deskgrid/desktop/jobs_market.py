"""What the job composer needs from any backend: the chain, the marketplace's addresses (hub,
RLC, pool, VanityGen requester) and, when this app may read the grid's jobs, a grid client.

The local node hands its grid's submitter token over, so its timeline shows the grid's facts
(queued, running with progress, computed). On a network the grid's job reads are for its
operator (the submitter token): the timeline then follows the task on the chain alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from deskgrid.desktop.backend import Backend, MarketAddresses

if TYPE_CHECKING:
    from deskgrid.chain.connection import Chain
    from deskgrid.chain.contracts import HubContract, RLCToken

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
CHAIN_ONLY = (
    "Progress on the grid is not shown on this network: reading the grid's jobs needs its "
    "operator's token, so the timeline follows the task on the chain."
)


@dataclass
class JobsMarket:
    chain: Chain
    addresses: MarketAddresses
    grid_url: str | None = None
    grid_token: str | None = None
    workers: int | None = None  # local workers, when known (for the duration estimate)
    _grid: Any = field(default=None, repr=False)

    @property
    def pool_id(self) -> int:
        return self.addresses.pool_id

    @property
    def callback(self) -> str:
        """Where the hub delivers results: the VanityGen requester, else nobody (the result
        is read from the hub's task record)."""
        return self.addresses.vanity_requester or ZERO_ADDRESS

    @property
    def follows_grid(self) -> bool:
        return bool(self.grid_url and self.grid_token)

    @cached_property
    def hub(self) -> HubContract:
        """Blocking the first time (web3 builds the contract): touch it in a thread."""
        from deskgrid.chain.contracts import HubContract

        return HubContract(self.chain, self.addresses.hub)

    @cached_property
    def rlc(self) -> RLCToken:
        from deskgrid.chain.contracts import RLCToken

        return RLCToken(self.chain, self.addresses.rlc)

    def grid(self) -> Any | None:
        """A GridClient with the submitter token, or None when the grid cannot be read."""
        if not self.follows_grid:
            return None
        if self._grid is None:
            from deskgrid.grid.client import GridClient

            self._grid = GridClient(self.grid_url, token=self.grid_token)
        return self._grid

    async def aclose(self) -> None:
        grid, self._grid = self._grid, None
        if grid is not None:
            await grid.aclose()


def jobs_market_for(backend: Backend | None, grid_url: str | None = None) -> JobsMarket | None:
    """The backend's market once it is up (None before); `grid_url` stands in for a backend
    that has none (the settings' one)."""
    if backend is None or backend.chain is None or backend.market is None:
        return None
    workers = getattr(backend, "workers", None)
    return JobsMarket(
        backend.chain,
        backend.market,
        grid_url=backend.grid_url or grid_url or None,
        grid_token=getattr(backend, "grid_token", None),
        workers=workers if isinstance(workers, int) else None,
    )

"""Connect to a marketplace on a real network: an RPC URL and the hub's address."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

from deskgrid.chain.addresses import check_address
from deskgrid.desktop.backend import MarketAddresses, progress
from deskgrid.desktop.events import EventBus

if TYPE_CHECKING:  # the chain libraries load in `start`, off the GUI thread
    from eth_account.signers.local import LocalAccount

    from deskgrid.chain.connection import Chain
    from deskgrid.chain.faucet import DemoFaucet


class NetworkBackend:
    """A network: the chain at `rpc_url`, the marketplace of `hub_address`, and optionally a
    grid. Without the grid's submitter token the app cannot read its jobs (`grid_token`
    None): the job composer then follows tasks on the chain alone."""

    is_demo = False
    demo_account: LocalAccount | None = None
    grid_token: str | None = None

    def __init__(
        self, rpc_url: str, hub_address: str, grid_url: str = "", bus: EventBus | None = None
    ) -> None:
        self.bus = bus or EventBus()
        self.rpc_url = rpc_url
        self.hub_address = check_address(hub_address, what="hub contract address")
        self.grid_url: str | None = grid_url or None
        self.chain: Chain | None = None
        self.market: MarketAddresses | None = None
        self.faucet: DemoFaucet | None = None

    def _open(self) -> tuple[Chain, MarketAddresses]:
        return open_market(self.rpc_url, self.hub_address)

    async def start(self) -> None:
        progress(self.bus, f"Connecting to {self.rpc_url}…", 0.1)
        self.chain, self.market = await asyncio.to_thread(self._open)
        if self.market.faucet:
            from deskgrid.chain.faucet import DemoFaucet

            self.faucet = DemoFaucet(self.chain, self.market.rlc, self.market.faucet)
        progress(self.bus, "Connected.", 1.0)

    async def stop(self) -> None:
        if self.chain is not None:
            await asyncio.to_thread(self.chain.close)
            self.chain = None


def open_market(rpc_url: str, hub_address: str) -> tuple[Chain, MarketAddresses]:
    """Connect to `rpc_url` and find the marketplace of the hub there (blocking); a sentence
    when nothing answers or no hub is at that address."""
    from deskgrid.chain.connection import connect
    from deskgrid.chain.contracts import HubContract
    from deskgrid.chain.deployment import load_deployment
    from deskgrid.chain.reverts import ChainError

    chain = connect(rpc_url, timeout=10.0)
    try:
        with chain.lock:
            code = chain.w3.eth.get_code(hub_address)
        if len(code) == 0:
            raise ChainError(
                f"There is no contract at {hub_address} on this network; check the hub "
                "address (and that the RPC URL is the network it was deployed on)."
            )
        rlc = HubContract(chain, hub_address).token()
        known = load_deployment(chain)
        if known is not None and known.hub == hub_address:
            market = MarketAddresses.of(known)
            if not chain.is_dev:
                market = dataclasses.replace(market, faucet=None)
            return chain, market
        return chain, MarketAddresses(rlc=rlc, hub=hub_address)
    except Exception:
        chain.close()
        raise

"""What the app runs on: a chain and a marketplace, started asynchronously with progress.

`DemoBackend` (wallet/demo.py) runs an embedded chain; `NetworkBackend` (wallet/network.py)
connects to a JSON-RPC node. The local node (chain + grid + oracle + workers) implements the
same protocol and replaces the demo backend without changes to the UI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from eth_account.signers.local import LocalAccount

from deskgrid.chain.connection import Chain
from deskgrid.wallet.events import BootProgress, EventBus
from deskgrid.wallet.faucet import DemoFaucet


@dataclass(frozen=True)
class MarketAddresses:
    """The contracts a wallet needs (a `Deployment` has the same fields and more)."""

    rlc: str
    hub: str
    faucet: str | None = None


@runtime_checkable
class Backend(Protocol):
    bus: EventBus
    is_demo: bool
    chain: Chain | None
    market: MarketAddresses | None
    faucet: DemoFaucet | None
    demo_account: LocalAccount | None
    grid_url: str | None

    async def start(self) -> None:
        """Bring everything up, publishing `BootProgress` on `bus`; raise a DeskGridError
        with a sentence when it cannot."""

    async def stop(self) -> None: ...


def progress(bus: EventBus, step: str, fraction: float) -> None:
    bus.publish(BootProgress(step, fraction))

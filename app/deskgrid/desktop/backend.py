"""What the app runs on: a chain and a marketplace, started asynchronously with progress.

`DemoBackend` (desktop/demo.py) runs an embedded chain; `NetworkBackend` (desktop/network.py)
connects to a JSON-RPC node; `NodeBackend` (desktop/node_backend.py) starts the local node
(chain + grid + oracle + workers) in a child process and connects to it like to a network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from deskgrid.desktop.events import BootProgress, EventBus

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from deskgrid.chain.connection import Chain
    from deskgrid.chain.faucet import DemoFaucet


@dataclass(frozen=True)
class MarketAddresses:
    """The contracts a wallet and the job composer need (a `Deployment` has the same fields
    and more). On a network only the hub is known for sure: tasks go to pool 1 and the
    result is read from the hub when no VanityGen requester contract is known."""

    rlc: str
    hub: str
    faucet: str | None = None
    pool_id: int = 1
    vanity_requester: str | None = None

    @classmethod
    def of(cls, deployment: Any) -> MarketAddresses:
        """The addresses of a `Deployment` (or anything with its fields)."""
        return cls(
            deployment.rlc,
            deployment.hub,
            deployment.faucet,
            deployment.pool_id,
            deployment.vanity_requester,
        )


@runtime_checkable
class Backend(Protocol):
    bus: EventBus
    is_demo: bool
    chain: Chain | None
    market: MarketAddresses | None
    faucet: DemoFaucet | None
    demo_account: LocalAccount | None
    grid_url: str | None
    grid_token: str | None  # the grid's submitter token, when this app may read its jobs

    async def start(self) -> None:
        """Bring everything up, publishing `BootProgress` on `bus`; raise a DeskGridError
        with a sentence when it cannot."""

    async def stop(self) -> None: ...


def progress(bus: EventBus, step: str, fraction: float) -> None:
    bus.publish(BootProgress(step, fraction))

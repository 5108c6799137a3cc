"""The offline demo on the local node: an embedded chain with the marketplace, a grid server on
loopback, the oracle and one local worker, plus a fresh demo wallet funded from the faucet.
Everything lives only while the app runs."""

from __future__ import annotations

import asyncio

from eth_account import Account

from deskgrid.errors import DeskGridError
from deskgrid.node import LocalNode, NodeConfig
from deskgrid.wallet.backend import MarketAddresses, progress
from deskgrid.wallet.demo import DemoBackend
from deskgrid.wallet.events import EventBus
from deskgrid.wallet.faucet import DemoFaucet
from deskgrid.wallet.history import forget_other_runs

# LocalNode.start's messages, and how far along the boot each one is.
_STEPS: dict[str, tuple[str, float]] = {
    "starting the": ("Starting the embedded chain…", 0.05),
    "deploying": ("Deploying the marketplace contracts…", 0.35),
    "starting the grid": ("Starting the local grid…", 0.6),
    "starting the oracle": ("Starting the oracle…", 0.7),
    "starting local worker": ("Starting the local worker…", 0.75),
    "ready": ("The local node is up.", 0.8),
}


def _step(message: str) -> tuple[str, float]:
    best = ("", (message[:1].upper() + message[1:] + "…", 0.5))
    for prefix, step in _STEPS.items():
        if message.startswith(prefix) and len(prefix) > len(best[0]):
            best = (prefix, step)
    return best[1]


class NodeBackend(DemoBackend):
    """A `Backend` on top of a `LocalNode`; `node` is the running node (None until started)."""

    is_demo = True

    def __init__(self, bus: EventBus | None = None, config: NodeConfig | None = None) -> None:
        super().__init__(bus)
        self.config = config or NodeConfig(chain="embedded", workers=1)
        self.node: LocalNode | None = None
        self.grid_url: str | None = None

    async def start(self) -> None:
        node = LocalNode(self.config)
        self.node = node

        def say(message: str) -> None:
            step, fraction = _step(message)
            progress(self.bus, step, fraction)

        try:
            await node.start(say)
        except DeskGridError:
            raise
        except Exception as exc:
            raise DeskGridError(
                f"The local node could not start ({type(exc).__name__}); check the log, "
                "then try again."
            ) from exc
        assert node.chain is not None and node.deployment is not None
        deployment = node.deployment
        self.chain = node.chain
        self.deployment = deployment
        self.grid_url = node.grid_url
        self.market = MarketAddresses(deployment.rlc, deployment.hub, deployment.faucet)
        self.faucet = DemoFaucet(node.chain, deployment.rlc, deployment.faucet)
        await asyncio.to_thread(forget_other_runs, deployment.chain_id, deployment.genesis_hash)
        self.demo_account = Account.create()
        if self._fund:
            progress(self.bus, "Funding the demo wallet…", 0.9)
            await asyncio.to_thread(self.demo_service().faucet)
        progress(self.bus, "Ready.", 1.0)

    async def stop(self) -> None:
        node, self.node = self.node, None
        self.chain = None
        if node is not None:
            await node.stop()

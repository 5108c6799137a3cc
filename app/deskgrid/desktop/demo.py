"""The offline demo backend: an embedded chain, the marketplace deployed on it, and a demo
wallet funded from the faucet. Everything lives only while the app runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from deskgrid import logs
from deskgrid.desktop.backend import MarketAddresses, progress
from deskgrid.desktop.events import EventBus
from deskgrid.wallet.history import TxHistory, TxRecord, forget_other_runs

if TYPE_CHECKING:  # the chain libraries load when the backend starts, not with this module
    from eth_account.signers.local import LocalAccount

    from deskgrid.chain.connection import Chain
    from deskgrid.chain.deployment import Deployment
    from deskgrid.chain.faucet import DemoFaucet
    from deskgrid.wallet.service import WalletService

DEMO_WALLET_NAME = "Demo wallet"


class DemoBackend:
    is_demo = True
    grid_url: str | None = None
    grid_token: str | None = None

    def __init__(
        self,
        bus: EventBus | None = None,
        *,
        chain_factory: Callable[[], Chain] | None = None,
        fund_demo_wallet: bool = True,
    ) -> None:
        self.bus = bus or EventBus()
        self._chain_factory = chain_factory or _embedded_chain
        self._fund = fund_demo_wallet
        self.chain: Chain | None = None
        self.deployment: Deployment | None = None
        self.market: MarketAddresses | None = None
        self.faucet: DemoFaucet | None = None
        self.demo_account: LocalAccount | None = None
        self.demo_history = TxHistory(None)

    async def start(self) -> None:
        from deskgrid.chain.deployment import Roles, ensure_deployment

        progress(self.bus, "Starting the embedded chain…", 0.05)
        chain = await asyncio.to_thread(self._chain_factory)
        self.chain = chain
        progress(self.bus, "Deploying the marketplace contracts…", 0.45)
        deployment, _ = await asyncio.to_thread(ensure_deployment, chain, Roles.dev(chain))
        self.deployment = deployment
        await self._open_market(deployment, 0.8)

    async def _open_market(
        self,
        deployment: Deployment,
        funding_at: float,
        funded: tuple[LocalAccount, list[TxRecord]] | None = None,
    ) -> None:
        """The marketplace of `deployment` on `self.chain`, and a funded demo wallet (`funded`:
        one already funded, with the faucet's gifts for its history)."""
        from eth_account import Account

        from deskgrid.chain.faucet import DemoFaucet

        assert self.chain is not None
        self.market = MarketAddresses.of(deployment)
        self.faucet = DemoFaucet(self.chain, deployment.rlc, deployment.faucet)
        await asyncio.to_thread(forget_other_runs, deployment.chain_id, deployment.genesis_hash)
        if funded is not None:
            self.demo_account, gifts = funded
            for record in gifts:
                self.demo_history.add(record)
        else:
            self.demo_account = Account.create()
            logs.redact(self.demo_account.key)
        if self._fund and funded is None:
            progress(self.bus, "Funding the demo wallet…", funding_at)
            await asyncio.to_thread(self.demo_service().faucet)
        progress(self.bus, "Ready.", 1.0)

    def demo_service(self) -> WalletService:
        """A service for the demo wallet (its history is kept in memory only)."""
        from deskgrid.wallet.service import WalletService

        assert self.chain is not None and self.market is not None
        assert self.demo_account is not None
        return WalletService(
            self.chain,
            self.market,
            self.demo_account,
            history=self.demo_history,
            faucet=self.faucet,
        )

    async def stop(self) -> None:
        if self.chain is not None:
            await asyncio.to_thread(self.chain.close)
            self.chain = None


def _embedded_chain() -> Chain:
    from deskgrid.chain.connection import connect

    return connect("embedded")

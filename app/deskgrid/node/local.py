"""The local node: chain + deployment + grid server on loopback + oracle + N local workers in
one asyncio process, started and stopped cleanly. The offline demo and headless servers use it.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount

from deskgrid import paths
from deskgrid.apps.registry import builtin_apps
from deskgrid.chain.connection import Chain, connect
from deskgrid.chain.contracts import HubContract, RLCToken, VanityRequesterContract
from deskgrid.chain.deployment import Deployment, Roles, ensure_deployment
from deskgrid.chain.transactions import TxSender
from deskgrid.grid.client import GridClient
from deskgrid.grid.config import GridConfig, JobDefaults
from deskgrid.grid.server import GridServer
from deskgrid.grid.stakes import HubStakes
from deskgrid.oracle.oracle import Oracle, OracleConfig
from deskgrid.oracle.store import OracleStore

log = logging.getLogger(__name__)

DEMO_USER_INDEX = 3  # the funded demo wallet among the development accounts
FIRST_WORKER_INDEX = 5  # local workers' identities (their earnings land in their escrow)
BLOCK_INTERVAL = 2.0  # the embedded chain mines an empty block this often, so time flows


@dataclass
class NodeConfig:
    chain: str = "embedded"  # embedded | anvil | a JSON-RPC URL of a development chain
    workers: int = 1
    oracle: bool = True  # False: nobody settles tasks (their refund must be claimed)
    worker_cores: int = 1
    port: int = 0  # grid port; 0 picks a free one
    confirmations: int = 0
    data_dir: Path | None = None  # None: a throw-away folder removed at stop
    delay_bound: float = 30.0
    poll_interval: float = 0.3


@dataclass
class LocalNode:
    """Start with `await node.start()`, stop with `await node.stop()`."""

    config: NodeConfig = field(default_factory=NodeConfig)
    chain: Chain | None = None
    deployment: Deployment | None = None
    roles: Roles | None = None
    grid_server: GridServer | None = None
    grid: GridClient | None = None
    oracle: Oracle | None = None
    oracle_store: OracleStore | None = None
    workers: list = field(default_factory=list)
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tmp: tempfile.TemporaryDirectory | None = None

    # -- accessors ----------------------------------------------------------------------

    @property
    def grid_url(self) -> str:
        assert self.grid_server is not None
        return self.grid_server.url

    @property
    def hub(self) -> HubContract:
        assert self.chain and self.deployment
        return HubContract(self.chain, self.deployment.hub)

    @property
    def rlc(self) -> RLCToken:
        assert self.chain and self.deployment
        return RLCToken(self.chain, self.deployment.rlc)

    @property
    def vanity_requester(self) -> VanityRequesterContract:
        assert self.chain and self.deployment
        return VanityRequesterContract(self.chain, self.deployment.vanity_requester)

    @property
    def demo_account(self) -> LocalAccount:
        assert self.chain
        return self.chain.dev_accounts[DEMO_USER_INDEX]

    def worker_account(self, index: int) -> LocalAccount:
        assert self.chain
        return self.chain.dev_accounts[FIRST_WORKER_INDEX + index]

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self, progress: Callable[[str], None] | None = None) -> LocalNode:
        def say(message: str) -> None:
            log.info("local node: %s", message)
            if progress is not None:
                progress(message)

        if self.config.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="deskgrid-node-")
            data_dir = Path(self._tmp.name)
        else:
            data_dir = self.config.data_dir
            data_dir.mkdir(parents=True, exist_ok=True)
        say(f"starting the {self.config.chain} chain")
        self.chain = await asyncio.to_thread(connect, self.config.chain)
        self.roles = Roles.dev(self.chain)
        say("deploying the marketplace contracts")
        self.deployment, _ = await asyncio.to_thread(ensure_deployment, self.chain, self.roles)
        say("starting the grid server")
        apps = builtin_apps()
        self.grid_server = GridServer(
            GridConfig(
                data_dir=data_dir / "grid",
                port=self.config.port,
                chain_id=self.chain.chain_id,  # named in the workers' sign-ins
                defaults=JobDefaults(delay_bound=self.config.delay_bound),
                # local workers ask again soon: a desktop demo should start a job at once
                idle_retry_s=0.5,
                # every caller is this machine's own (workers, oracle, app): no per-address
                # limit; workers keep their own
                address_rate_limit_per_s=0.0,
            ),
            apps,
            stakes=HubStakes(self.hub),  # staked jobs go to the stakeholders of this chain
        )
        await self.grid_server.start()
        self.grid = GridClient(self.grid_server.url, token=self.grid_server.submitter_token)
        say("starting the oracle")
        self.oracle_store = OracleStore(data_dir / "oracle.sqlite")
        self.oracle = Oracle(
            self.chain,
            self.hub,
            TxSender(self.chain, self.roles.scheduler),
            self.grid,
            self.oracle_store,
            apps,
            OracleConfig(
                pool_id=self.deployment.pool_id,
                confirmations=self.config.confirmations,
                poll_interval=self.config.poll_interval,
                start_block=self.deployment.block,
            ),
        )
        if self.config.oracle:
            self._tasks.append(asyncio.create_task(self.oracle.run(self._stop), name="oracle"))
        if self.chain.kind == "embedded":
            self._tasks.append(asyncio.create_task(self._produce_blocks(), name="blocks"))
        for i in range(self.config.workers):
            say(f"starting local worker {i + 1}")
            await self.add_worker(i)
        say("ready")
        return self

    async def add_worker(self, index: int) -> object:
        from deskgrid.worker.worker import Worker, WorkerConfig

        worker = Worker(
            WorkerConfig(grid_url=self.grid_url, cores=self.config.worker_cores),
            account=self.worker_account(index),
        )
        self.workers.append(worker)
        self._tasks.append(asyncio.create_task(worker.run(self._stop), name=f"worker-{index}"))
        return worker

    async def _produce_blocks(self) -> None:
        assert self.chain is not None
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=BLOCK_INTERVAL)
            except TimeoutError:
                await asyncio.to_thread(self.chain.mine)

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, timeout=15)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception:  # a component that failed at the end must not stop the rest
                log.warning("%s ended with an error", task.get_name(), exc_info=True)
        self._tasks.clear()
        if self.grid is not None:
            await self.grid.aclose()
        if self.grid_server is not None:
            await self.grid_server.stop()
        if self.oracle_store is not None:
            self.oracle_store.close()
        if self.chain is not None:
            self.chain.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        log.info("local node: stopped")


def default_data_dir() -> Path:
    return paths.sub_dir("node")

"""The offline demo on the local node, run in a child process (`deskgrid.node.process`): an
embedded chain with the marketplace served over JSON-RPC on loopback, a grid server, the
oracle and one local worker; this process only talks to it, plus a fresh demo wallet funded
from the faucet. Everything lives only while the app runs: the child stops with `stop()`
and by itself when this process dies (its standard input closes)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import TYPE_CHECKING

from deskgrid import logs
from deskgrid.desktop.backend import progress
from deskgrid.desktop.demo import DemoBackend
from deskgrid.desktop.events import EventBus
from deskgrid.errors import DeskGridError
from deskgrid.node.info import NodeInfo, NodeLine
from deskgrid.node.process import LOG_NAME as NODE_LOG
from deskgrid.wallet.history import TxRecord

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from deskgrid.chain.connection import Chain
    from deskgrid.chain.deployment import Deployment

log = logging.getLogger(__name__)

BOOT_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0

# The node's boot messages, and how far along the boot each one is.
_STEPS: dict[str, tuple[str, float]] = {
    "starting the": ("Starting the embedded chain…", 0.1),
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


def node_command(
    chain: str = "embedded", workers: int = 1, *, oracle: bool = True, fund_demo: bool = False
) -> list[str]:
    """The command line of the node child process (as verbose as this process logs)."""
    command = [sys.executable, "-m", "deskgrid.node.process", "--chain", chain]
    command += ["--workers", str(workers)]
    command += [] if oracle else ["--no-oracle"]
    command += ["-v"] * min(logs.verbosity(), 2)
    return command + (["--fund-demo"] if fund_demo else [])


NODE_STDERR_LOG = "node-stderr"  # beside the child's own NODE_LOG


def see_the_log() -> str:
    """Where a failed start is explained (the child's log and its standard error)."""
    return f"see its log, {logs.log_file(NODE_LOG)} (and {NODE_STDERR_LOG}.log beside it)"


def _connect(
    info: NodeInfo,
) -> tuple[Chain, Deployment, tuple[LocalAccount, list[TxRecord]] | None]:
    """Blocking (and the first use of the chain libraries): run it in a thread."""
    from eth_account import Account

    from deskgrid.chain.connection import connect
    from deskgrid.chain.deployment import Deployment

    chain = connect(info.rpc_url, dev_keys=info.dev_keys)
    funded = None
    if info.demo_key:
        gifts = [
            TxRecord(
                g["tx_hash"],
                "faucet",
                g["asset"],
                int(g["amount"]),
                g["source"],
                status="mined",
                block_number=int(g["block_number"]),
                fee_wei=0,
            )
            for g in info.demo_gifts
        ]
        funded = (Account.from_key(info.demo_key), gifts)
    return chain, Deployment.from_json(info.deployment), funded


class NodeBackend(DemoBackend):
    """A `Backend` on the local node in a child process; `info` says where it serves (None
    until started) and `process` is the child."""

    is_demo = True

    def __init__(
        self,
        bus: EventBus | None = None,
        *,
        workers: int = 1,
        chain: str = "embedded",
        oracle: bool = True,
    ) -> None:
        super().__init__(bus)
        self.workers = workers
        self.chain_spec = chain
        self.oracle = oracle
        self.info: NodeInfo | None = None
        self.process: asyncio.subprocess.Process | None = None
        self.grid_url: str | None = None
        self.grid_token: str | None = None

    async def start(self) -> None:
        progress(self.bus, "Starting the local node…", 0.02)
        command = node_command(
            self.chain_spec, self.workers, oracle=self.oracle, fund_demo=self._fund
        )
        with logs.open_stderr_file(NODE_STDERR_LOG) as stderr:  # the child keeps its own copy
            self.process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        log.info("the local node started (pid %d)", self.process.pid)
        try:
            info = await asyncio.wait_for(self._read_boot(self.process), BOOT_TIMEOUT)
        except TimeoutError:
            raise DeskGridError(
                f"The local node did not start within {BOOT_TIMEOUT:.0f} s; {see_the_log()}, "
                "then try again."
            ) from None
        self.info = info
        logs.redact(info.grid_token)
        logs.redact(info.demo_key)
        self.grid_url, self.grid_token = info.grid_url, info.grid_token
        progress(self.bus, "Connecting to the local node…", 0.85)
        self.chain, self.deployment, funded = await asyncio.to_thread(_connect, info)
        await self._open_market(self.deployment, 0.9, funded)

    async def _read_boot(self, process: asyncio.subprocess.Process) -> NodeInfo:
        assert process.stdout is not None
        while True:
            raw = await process.stdout.readline()
            if not raw:
                code = await process.wait()
                raise DeskGridError(
                    f"The local node stopped while starting (exit code {code}); {see_the_log()}, "
                    "then try again."
                )
            line = NodeLine.loads(raw)
            if line is None:
                continue
            if line.event == "progress":
                progress(self.bus, *_step(line.message))
            elif line.event == "error":
                raise DeskGridError(line.message)
            elif line.event == "ready" and line.node is not None:
                return line.node

    async def stop(self) -> None:
        chain, self.chain = self.chain, None
        if chain is not None:
            await asyncio.to_thread(chain.close)
        process, self.process = self.process, None
        if process is not None:
            await stop_process(process)


async def stop_process(process: asyncio.subprocess.Process, timeout: float = STOP_TIMEOUT) -> None:
    """End of input first (the node stops cleanly), then SIGTERM, then SIGKILL."""
    if process.returncode is None and process.stdin is not None:
        with contextlib.suppress(OSError, RuntimeError):
            process.stdin.close()
    for ask in (None, process.terminate, process.kill):
        if ask is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                ask()
        try:
            await asyncio.wait_for(process.wait(), timeout)
            return
        except TimeoutError:
            log.warning("the local node (pid %s) did not stop in %.0f s", process.pid, timeout)

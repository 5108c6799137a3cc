"""`deskgrid oracle`: run the oracle headless against a chain, a hub and a grid."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from deskgrid import paths
from deskgrid.errors import DeskGridError
from deskgrid.grid.commands import add_grid_token_options

if TYPE_CHECKING:
    from deskgrid.chain.connection import Chain

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "oracle", help="bridge the hub and the grid as a workerpool's scheduler"
    )
    parser.add_argument("--chain", required=True, help="JSON-RPC URL of the chain")
    parser.add_argument("--hub", required=True, help="address of the Hub contract")
    parser.add_argument("--grid", required=True, help="base URL of the grid server")
    parser.add_argument("--key-file", help="keystore of the pool's scheduler account")
    add_grid_token_options(parser)
    parser.add_argument("--pool", type=int, default=1, help="workerpool id (default 1)")
    parser.add_argument("--confirmations", type=int, default=1, help="blocks deep (default 1)")
    parser.add_argument("--db", help="the oracle's database (default: in the data folder)")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between steps")
    parser.set_defaults(handler=_run)


def _scheduler_account(args: argparse.Namespace, chain):  # noqa: ANN001, ANN202
    if args.key_file:
        from deskgrid.chain.keyfile import load_key_file

        return load_key_file(args.key_file)
    if chain.is_dev:
        from deskgrid.chain.deployment import Roles

        return Roles.dev(chain).scheduler
    raise DeskGridError("Give the scheduler's keystore with --key-file.")


def default_db_path(chain: Chain, hub: str) -> Path:
    """`<data>/oracle/oracle-<chain id>-<genesis prefix>-<hub>.sqlite`: a restarted
    development chain is another chain, with the same hub address and task ids, whose blocks
    the cursor of the old one must not be looked for in. On any other network a file of the
    older name, without the genesis, is that network's and is kept."""
    folder = paths.sub_dir("oracle")
    older = folder / f"oracle-{chain.chain_id}-{hub}.sqlite"
    if older.exists() and not chain.is_dev:
        return older
    return folder / f"oracle-{chain.chain_id}-{chain.genesis_hash[2:14]}-{hub}.sqlite"


def warn_if_blocks_wait_for_transactions(chain: Chain, confirmations: int) -> None:
    """Say so when a development chain mines a block only for a transaction (anvil without
    --block-time): a task's block then gets no deeper until others send transactions."""
    if confirmations < 1 or chain.kind not in ("anvil", "dev"):
        return
    with chain.lock:
        reply = chain.w3.provider.make_request("anvil_getAutomine", [])
    if reply.get("result") is True:
        log.warning(
            "This chain mines a block only when a transaction arrives, so a task waits for "
            "%d more transaction(s) before the oracle acts on it: start anvil with "
            "--block-time 1, or give the oracle --confirmations 0.",
            confirmations,
        )


async def _serve(args: argparse.Namespace) -> None:
    from deskgrid.apps.registry import builtin_apps
    from deskgrid.chain.connection import connect
    from deskgrid.chain.contracts import HubContract
    from deskgrid.chain.transactions import TxSender
    from deskgrid.grid.client import GridClient
    from deskgrid.grid.tokens import grid_token
    from deskgrid.oracle.oracle import Oracle, OracleConfig
    from deskgrid.oracle.store import OracleStore

    token = grid_token(args.grid_token, args.grid_token_file)
    chain = await asyncio.to_thread(connect, args.chain)
    await asyncio.to_thread(warn_if_blocks_wait_for_transactions, chain, args.confirmations)
    hub = HubContract(chain, args.hub)
    account = _scheduler_account(args, chain)
    pool = hub.pool(args.pool)
    if pool.owner != account.address:
        raise DeskGridError(
            f"{account.address} is not the scheduler of workerpool #{args.pool} "
            f"(its owner is {pool.owner}); use the pool owner's key."
        )
    db = args.db or str(default_db_path(chain, hub.address))
    store = OracleStore(db)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with GridClient(args.grid, token=token) as grid:
        oracle = Oracle(
            chain,
            hub,
            TxSender(chain, account),
            grid,
            store,
            builtin_apps(),
            OracleConfig(
                pool_id=args.pool, confirmations=args.confirmations, poll_interval=args.poll
            ),
        )
        print(
            f"oracle: scheduler {account.address}, hub {hub.address}, grid {args.grid}", flush=True
        )
        await oracle.run(stop)
    store.close()
    chain.close()


def _run(args: argparse.Namespace) -> int:
    asyncio.run(_serve(args))  # its INFO lines go to oracle.log (standard error with -v)
    print("oracle stopped", file=sys.stderr, flush=True)
    return 0

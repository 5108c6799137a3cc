"""`deskgrid oracle`: run the oracle headless against a chain, a hub and a grid."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from deskgrid import argtypes, logs, paths
from deskgrid.chain import arguments as chain_args
from deskgrid.errors import DeskGridError
from deskgrid.grid.commands import add_grid_token_options

if TYPE_CHECKING:
    from deskgrid.chain.connection import Chain

log = logging.getLogger("deskgrid.oracle")


DESCRIPTION = (
    "Run a workerpool's scheduler: follow the tasks paid to the pool on the hub (a block "
    "deep by --confirmations), submit each to the grid as a job, and write the verified "
    "result on chain (or fail the task, which refunds its requester). A task of a published "
    "Docker app goes to the grid with its input files and the key its result is encrypted to; "
    "a grid that does not serve the app refuses it and the task is failed. Its state is kept in a "
    "database, so a restart neither repeats nor misses a transaction. With -v it logs one "
    "line per task step."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "oracle",
        help="bridge the hub and the grid as a workerpool's scheduler",
        description=DESCRIPTION,
    )
    parser.add_argument(
        "--chain", required=True, type=argtypes.url("RPC URL"), help="JSON-RPC URL of the chain"
    )
    parser.add_argument(
        "--hub",
        required=True,
        type=chain_args.address("hub contract address"),
        help="address of the Hub contract",
    )
    parser.add_argument(
        "--grid", required=True, type=argtypes.url("grid URL"), help="base URL of the grid server"
    )
    parser.add_argument(
        "--key-file",
        type=argtypes.existing_file("key file"),
        help="keystore of the pool's scheduler account (default: the dev chain's scheduler)",
    )
    add_grid_token_options(parser)
    parser.add_argument(
        "--pool", type=argtypes.whole_number(1, 2**63, "a workerpool id"), default=1,
        help="workerpool id",
    )  # fmt: skip
    parser.add_argument(
        "--confirmations",
        type=argtypes.whole_number(0, 1000, "a number of blocks"),
        default=1,
        help="blocks deep a task must be before it is taken",
    )
    parser.add_argument(
        "--db",
        type=argtypes.new_or_existing_file("oracle database", argtypes.DATABASE_SUFFIXES),
        help="the oracle's SQLite database, a .sqlite/.sqlite3/.db file in an existing folder "
        "(default: in the data folder's oracle/)",
    )
    parser.add_argument(
        "--poll",
        type=argtypes.seconds("a number of seconds", high=3600.0),
        default=1.0,
        help="seconds between steps",
    )
    trust = parser.add_argument_group(
        "trust",
        "what this pool requires of an app without a verifier, whose replicas vote with their "
        "stakeholders' stake (the defaults never pay a single unverified result)",
    )
    trust.add_argument(
        "--min-agree",
        type=argtypes.whole_number(1, 20, "a number of stakeholders"),  # the grid's limit
        default=2,
        help="distinct stakeholders that must agree on the result of an app without a "
        "verifier (default 2; 1 only with --allow-single-unverified)",
    )
    trust.add_argument(
        "--allow-single-unverified",
        action="store_true",
        help="take trust level 1 (one result, nobody checks it) for apps without a verifier, "
        "and allow --min-agree 1; by default such tasks are refused and refunded",
    )
    trust.add_argument(
        "--min-trust",
        type=argtypes.whole_number(1, 5, "a trust level"),
        default=1,
        help="refuse (and refund) tasks requested below this trust level, 1 to 5 (default 1)",
    )
    parser.set_defaults(handler=_run)


def check_trust_options(args: argparse.Namespace) -> None:
    """--min-agree 1 pays one unverified result: only when the operator says so."""
    if args.min_agree == 1 and not args.allow_single_unverified:
        raise DeskGridError(
            "--min-agree 1 pays a single unverified result; add --allow-single-unverified to "
            "allow that, or use --min-agree 2 or more."
        )


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
    from deskgrid.chain.arguments import open_hub
    from deskgrid.chain.connection import connect
    from deskgrid.chain.transactions import TxSender
    from deskgrid.grid.client import GridClient
    from deskgrid.grid.tokens import grid_token
    from deskgrid.oracle.oracle import Oracle, OracleConfig
    from deskgrid.oracle.store import OracleStore

    check_trust_options(args)
    token = grid_token(args.grid_token, args.grid_token_file)
    chain = await asyncio.to_thread(connect, args.chain)
    hub = open_hub(chain, args.hub)  # a wrong --hub is the first thing to say
    await asyncio.to_thread(warn_if_blocks_wait_for_transactions, chain, args.confirmations)
    account = _scheduler_account(args, chain)
    pool = hub.pool(args.pool)
    if pool.scheduler != account.address:
        raise DeskGridError(
            f"{account.address} is not the scheduler of workerpool #{args.pool} "
            f"(its scheduler is {pool.scheduler}); use the scheduler's key."
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
                pool_id=args.pool,
                confirmations=args.confirmations,
                poll_interval=args.poll,
                min_agree=args.min_agree,
                allow_single_unverified=args.allow_single_unverified,
                min_trust=args.min_trust,
            ),
        )
        print(
            f"oracle: scheduler {account.address}, hub {hub.address}, grid {args.grid}", flush=True
        )
        await oracle.run(stop)
        in_flight = oracle.in_flight()
    store.close()
    chain.close()
    stopped = (
        f"oracle stopped; {in_flight} task(s) in flight will be picked up on restart"
        if in_flight
        else "oracle stopped; no task in flight"
    )
    log.info(stopped, extra=logs.FILE_ONLY)
    print(stopped, flush=True)


def _run(args: argparse.Namespace) -> int:
    asyncio.run(_serve(args))  # its INFO lines go to oracle.log (standard error with -v)
    return 0

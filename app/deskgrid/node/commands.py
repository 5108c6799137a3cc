"""`deskgrid demo --headless` and `deskgrid run vanity`: the local node from the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

from deskgrid import paths
from deskgrid.argtypes import argument_type, existing_file, url, whole_number
from deskgrid.chain.trust import DEFAULT_TRUST, MAX_TRUST, MIN_TRUST, describe_levels
from deskgrid.errors import DeskGridError
from deskgrid.money import format_fee, format_rlc
from deskgrid.node import app_commands
from deskgrid.node.paying import add_retry_option, pay_and_follow


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="run the whole system offline: chain, grid, oracle and local workers",
        description="Start a throw-away local network on this computer: a chain with the "
        "marketplace deployed, a grid server, an oracle and local workers. With --headless it "
        "prints the addresses, a command to pay for a task from another terminal, and every "
        "task event, until Ctrl-C. Nothing is kept after it stops.",
    )
    demo.add_argument("--headless", action="store_true", help="no window; print events")
    demo.add_argument(
        "--chain",
        choices=("embedded", "anvil"),
        default="embedded",
        help="the chain: in this process, or an anvil node",
    )
    demo.add_argument(
        "--workers", type=_workers, default=1, help=f"local workers, 0-{MAX_WORKERS} (default 1)"
    )
    demo.add_argument(
        "--port", type=_port, default=0, help="grid port, 1-65535 (default: a free one)"
    )
    demo.set_defaults(handler=_demo)

    run = subparsers.add_parser("run", help="pay for a task and follow it to its result")
    apps = run.add_subparsers(dest="run_app", metavar="APP", required=True)
    vanity = apps.add_parser(
        "vanity", help="a Bitcoin vanity address (split-key: only you learn the private key)"
    )
    vanity.add_argument(
        "--pattern",
        required=True,
        action="append",
        type=_pattern,
        help="address prefix such as 1LoVE (repeat for several)",
    )
    vanity.add_argument(
        "--trust",
        type=whole_number(MIN_TRUST, MAX_TRUST, "a trust level"),
        default=DEFAULT_TRUST,
        metavar=f"{{{MIN_TRUST}..{MAX_TRUST}}}",
        help=f"trust level paid for ({describe_levels()}: the table of trust levels in "
        "docs/architecture.md); the price is the app's price + level x the pool fee "
        "(default %(default)s: VanityGen results are verified, one replica is enough)",
    )
    vanity.add_argument("--case-insensitive", action="store_true")
    vanity.add_argument("--uncompressed", action="store_true")
    where = vanity.add_mutually_exclusive_group()
    where.add_argument(
        "--demo",
        action="store_true",
        help="start a throw-away local node and pay from its demo wallet",
    )
    where.add_argument("--chain", type=url("RPC URL"), help="JSON-RPC URL of the network")
    vanity.add_argument("--hub", type=_address, help="Hub address (with --chain)")
    vanity.add_argument(
        "--key-file", type=existing_file("key file"), help="your keystore (with --chain)"
    )
    vanity.add_argument("--grid", type=url("grid URL"), help="grid URL, for progress (optional)")
    vanity.add_argument(
        "--workers",
        type=_positive_workers,
        default=1,
        help=f"local workers with --demo, 1-{MAX_WORKERS} (default 1)",
    )
    add_retry_option(vanity)
    vanity.add_argument("--json", action="store_true", help="print the outcome as JSON")
    vanity.set_defaults(handler=_run_vanity)
    app_commands.register(apps)


MAX_WORKERS = 64


_port = whole_number(0, 65535, "a port (0 for any free one)")
_workers = whole_number(0, MAX_WORKERS, "a number of local workers")
_positive_workers = whole_number(1, MAX_WORKERS, "a number of local workers")


def _pattern_check(text: str) -> str:
    if not text.strip():
        raise DeskGridError("Give an address prefix such as 1LoVE.")
    return text.strip()


def _hub_check(text: str) -> str:
    from deskgrid.chain.addresses import check_address

    return check_address(text, what="hub contract address")


_pattern = argument_type(_pattern_check, "pattern")
_address = argument_type(_hub_check, "address")


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)


# -- demo -------------------------------------------------------------------------------


async def _demo_main(args: argparse.Namespace) -> None:
    from deskgrid.node.local import LocalNode, NodeConfig

    if not args.headless:
        raise DeskGridError("Without a window use --headless; `deskgrid` alone opens the app.")
    node = LocalNode(NodeConfig(chain=args.chain, workers=args.workers, port=args.port))
    await node.start(lambda msg: print(f"… {msg}", flush=True))
    stop = asyncio.Event()
    _stop_on_signals(stop)
    rpc = None
    rpc_url = node.chain.url
    if rpc_url is None:  # the embedded chain: served on loopback for other commands to use
        from deskgrid.chain.rpc_server import ChainRpcServer

        rpc = ChainRpcServer(node.chain)
        rpc_url = await asyncio.to_thread(rpc.start)
    demo_key = await asyncio.to_thread(_demo_user_key_file, node)
    d = node.deployment
    print(f"chain      {node.chain.kind} (chain id {d.chain_id})")
    print(f"rpc        {rpc_url}")
    print(f"rlc        {d.rlc}\nhub        {d.hub}\nrequester  {d.vanity_requester}")
    print(f"grid       {node.grid_url}\ndemo user  {node.demo_account.address} (funded)")
    print("try, in another terminal:")
    print(f"  deskgrid wallet show --chain {rpc_url} --hub {d.hub}  (the wallets of this computer)")
    print(
        f"  DESKGRID_KEY_PASSWORD={DEMO_KEY_PASSWORD} deskgrid run vanity --pattern 1Ab "
        f"--chain {rpc_url} --hub {d.hub} --key-file {demo_key} --grid {node.grid_url}"
    )
    print("ready: press Ctrl-C to stop", flush=True)
    seen = 0
    try:
        while not stop.is_set():
            for event in node.oracle_store.events(since=seen):
                seen = event["seq"]
                facts = {
                    k: v for k, v in event.items() if k not in ("seq", "task_id", "kind", "at")
                }
                print(
                    f"task {event['task_id'][:10]}… {event['kind']:10} {json.dumps(facts)}",
                    flush=True,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
    finally:
        if rpc is not None:
            await asyncio.to_thread(rpc.stop)
        demo_key.unlink(missing_ok=True)
        await node.stop()
        print("stopped", flush=True)


DEMO_KEY_PASSWORD = "deskgrid-demo"  # a throw-away development key: no secret to keep


def _demo_user_key_file(node: object) -> Path:
    """The demo user's key as a keystore file (for `run vanity --key-file`), funded from the
    demo faucet. The key is a development chain's: worthless anywhere else."""
    from deskgrid.chain.faucet import DemoFaucet
    from deskgrid.chain.keyfile import write_key_file

    d = node.deployment  # type: ignore[attr-defined]
    account = node.demo_account  # type: ignore[attr-defined]
    DemoFaucet(node.chain, d.rlc, d.faucet).fund(account.address)  # type: ignore[attr-defined]
    return write_key_file(account, paths.sub_dir("demo") / "demo-user.json", DEMO_KEY_PASSWORD)


def _demo(args: argparse.Namespace) -> int:
    asyncio.run(_demo_main(args))
    return 0


# -- run vanity -------------------------------------------------------------------------


async def _vanity_main(args: argparse.Namespace) -> int:
    from deskgrid.chain.transactions import TxSender
    from deskgrid.node.journal import RequestJournal
    from deskgrid.node.requester import VanityOrder, VanityRun

    order = VanityOrder(
        args.pattern, args.case_insensitive, not args.uncompressed, trust=args.trust
    )
    order.params()  # refuse an impossible pattern before anything is started or paid
    say = (lambda _m: None) if args.json else (lambda m: print(m, flush=True))
    node = None
    grid = None
    try:
        if args.demo or not args.chain:
            from deskgrid.chain.faucet import DemoFaucet
            from deskgrid.node.local import LocalNode, NodeConfig

            node = LocalNode(NodeConfig(workers=args.workers))
            await node.start(lambda m: say(f"… {m}"))
            chain, hub, rlc = node.chain, node.hub, node.rlc
            account = node.demo_account
            faucet = DemoFaucet(chain, node.deployment.rlc, node.deployment.faucet)
            await asyncio.to_thread(faucet.fund, account.address)
            app_id = node.deployment.apps["vanity"]
            pool_id, callback = node.deployment.pool_id, node.deployment.vanity_requester
            grid = node.grid
            hub_address = node.deployment.hub
        else:
            from deskgrid.chain.arguments import open_hub
            from deskgrid.chain.connection import connect
            from deskgrid.chain.contracts import RLCToken
            from deskgrid.chain.keyfile import load_key_file

            if not (args.hub and args.key_file):
                raise DeskGridError("With --chain give --hub and --key-file too.")
            chain = await asyncio.to_thread(connect, args.chain)
            hub = await asyncio.to_thread(open_hub, chain, args.hub)
            rlc = RLCToken(chain, hub.token())
            account = load_key_file(args.key_file)
            app_id = next((a.app_id for a in hub.apps() if a.name == "vanity"), 0)
            if not app_id:
                raise DeskGridError("This hub has no VanityGen app registered.")
            pool_id, callback = 1, "0x0000000000000000000000000000000000000000"
            hub_address = args.hub
            if args.grid:
                from deskgrid.grid.client import GridClient

                grid = GridClient(args.grid)
        journal = await asyncio.to_thread(
            lambda: RequestJournal.open(chain.chain_id, chain.genesis_hash, hub_address, account)
        )
        run = VanityRun(
            chain,
            hub,
            rlc,
            TxSender(chain, account),
            app_id=app_id,
            pool_id=pool_id,
            callback=callback,
            grid=grid,
            journal=journal,
        )
        quote = await asyncio.to_thread(run.quote, order)  # a sentence when the wallet is short
        say(
            f"price {format_rlc(quote.price)} ({quote.breakdown()}); network fee up to "
            f"{format_fee(quote.fee.max_cost_wei)}"
        )
        outcome = await pay_and_follow(args, chain, run, order, say)
        if outcome is None:
            return 1
    finally:
        if node is not None:
            await node.stop()
    if args.json:
        print(json.dumps(outcome.to_json()))
    elif outcome.address:
        print(f"address  {outcome.address}\nwif      {outcome.wif}")
        print(f"cost     {format_rlc(outcome.cost_nrlc)} in {outcome.seconds:.1f} s")
    if outcome.status != "COMPLETED":
        print(f"deskgrid: the task failed and was refunded: {outcome.reason}", file=sys.stderr)
        return 1
    return 0


def _run_vanity(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_vanity_main(args))
    except KeyboardInterrupt:
        return 130

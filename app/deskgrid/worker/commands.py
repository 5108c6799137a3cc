"""`deskgrid worker`: the headless volunteer worker; `deskgrid worker withdraw`: its key's
credit on the hub swept to a wallet."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from deskgrid import argtypes
from deskgrid.chain import arguments as chain_args
from deskgrid.worker.status import WorkerStatus

if TYPE_CHECKING:
    from deskgrid.worker.worker import Worker


def register(subparsers: argparse._SubParsersAction) -> None:
    worker = subparsers.add_parser(
        "worker",
        help="compute jobs from a desktop grid (volunteer worker, headless)",
        description="Pull jobs from a DeskGrid grid server and compute them on this computer "
        "until stopped (Ctrl-C). Finished results are kept on disk until the grid has them.",
        usage="deskgrid worker --grid URL [options]\n"
        "       deskgrid worker withdraw --chain URL --hub ADDRESS [options]",
    )
    worker.add_argument(
        "--grid",
        type=argtypes.url("grid URL"),
        metavar="URL",
        help="the grid server's URL (required to run the worker)",
    )
    worker.add_argument(
        "--cores", type=argtypes.cores(), default=1, help="cores a job may use (default 1)"
    )
    worker.add_argument(
        "--cpu-limit",
        type=argtypes.whole_number(1, 100, "a percentage"),
        default=100,
        metavar="PCT",
        help="run jobs this %% of the time (duty cycle, 1-100; default 100)",
    )
    worker.add_argument(
        "--key-file",
        type=argtypes.existing_file("key file"),
        metavar="FILE",
        help="a keystore (v3) JSON file identifying this worker to the grid (password from "
        "$DESKGRID_KEY_PASSWORD or a prompt); default: a worker key kept in DeskGrid's worker "
        "folder. Do not use a key that holds funds: name your wallet with --payout instead",
    )
    worker.add_argument(
        "--payout",
        type=chain_args.address("payout address (--payout)"),
        metavar="ADDRESS",
        help="the address paid for this worker's results (e.g. your wallet's); it is signed "
        "at sign-in, so the grid cannot change it. Default: the worker key's own address",
    )
    worker.add_argument(
        "--max-input-mb",
        type=argtypes.whole_number(1, 1024 * 1024, "a size in MB"),
        default=None,
        metavar="MB",
        help="largest input a job may have, and all of a job's inputs together "
        "(default 256): a grid that sends more is refused as soon as it passes the cap",
    )
    worker.add_argument(
        "--min-free-disk-mb",
        type=argtypes.whole_number(0, 2**40, "a size in MB"),
        default=None,
        metavar="MB",
        help="refuse jobs whose inputs would leave less free disk space than this "
        "(default 1024); a running job is stopped below half of it",
    )
    worker.add_argument(
        "--docker-apps",
        action="store_true",
        help="also run apps other developers published on the hub, in Docker's sandbox (no "
        "network, read-only, no capabilities, not root, capped memory, CPU and processes); "
        "off by default; needs a running Docker",
    )
    worker.add_argument(
        "--image-cache-mb",
        type=argtypes.whole_number(1, 1024 * 1024, "a size in MB"),
        default=None,
        metavar="MB",
        help="disk space the published apps' images may take (default 2048); the least "
        "recently used are removed beyond it",
    )
    worker.add_argument("--state-dir", type=argtypes.folder("state folder"), help=argparse.SUPPRESS)
    worker.add_argument(
        "--give-up-after",
        type=argtypes.seconds("a number of seconds (0: never)", high=30 * 86400.0, zero=True),
        default=DEFAULT_GIVE_UP_S,
        metavar="S",
        help="stop with a message when the grid has not answered for this long, retrying "
        "with backoff meanwhile (0: retry for ever)",
    )
    worker.add_argument("--quiet", action="store_true", help="print nothing but errors")
    worker.set_defaults(handler=run_worker)
    actions = worker.add_subparsers(
        dest="worker_action",
        metavar="ACTION",
        title="optional action",
        help="without one, the worker runs; `withdraw --help` for the other",
    )
    _register_withdraw(actions)


def _register_withdraw(actions: argparse._SubParsersAction) -> None:
    withdraw = actions.add_parser(
        "withdraw",
        help="send the worker key's credit on the hub (and its RLC) to your wallet",
        description="Withdraw the worker key's free balance on the hub and send its RLC to "
        "your wallet: rewards earned while no payout address was named are credited to the "
        "worker key. The worker key pays the network fee, so it needs a little ETH.",
    )
    withdraw.add_argument(
        "--chain", required=True, type=argtypes.url("RPC URL"), help="JSON-RPC URL"
    )
    withdraw.add_argument(
        "--hub", required=True, type=chain_args.address("hub contract address"), help="Hub address"
    )
    withdraw.add_argument(
        "--to",
        type=chain_args.address("address to withdraw to"),
        metavar="ADDRESS",
        help="your wallet's address (default: the payout address the worker last signed in with)",
    )
    key = withdraw.add_mutually_exclusive_group()
    key.add_argument(
        "--folder",
        type=argtypes.existing_folder("worker folder"),
        metavar="DIR",
        help="the worker's folder holding its key (default: the data folder's worker "
        "folder; the desktop app's worker is in the data folder's volunteer folder)",
    )
    key.add_argument(
        "--key-file",
        type=argtypes.existing_file("worker keystore file"),
        metavar="FILE",
        help="the worker's keystore file instead (password from $DESKGRID_KEY_PASSWORD or "
        "a prompt)",
    )
    withdraw.add_argument(
        "--eth",
        action="store_true",
        help="also send the worker key's ETH, less the network fee",
    )
    withdraw.set_defaults(handler=run_withdraw)


def run_withdraw(args: argparse.Namespace) -> int:
    from deskgrid.chain.connection import connect
    from deskgrid.chain.contracts import HubContract, RLCToken
    from deskgrid.errors import DeskGridError
    from deskgrid.paths import sub_dir
    from deskgrid.worker.identity import has_worker_key, last_payout, worker_account
    from deskgrid.worker.sweep import execute_sweep, plan_sweep

    folder: Path | None = None
    if args.key_file is not None:
        from deskgrid.chain.keyfile import load_key_file

        account = load_key_file(args.key_file)
    else:
        folder = args.folder or sub_dir("worker")
        if not has_worker_key(folder):
            raise DeskGridError(
                f"There is no worker key in {folder}: name the worker's folder with --folder "
                "(the desktop app's worker is in the data folder's volunteer folder) or its "
                "keystore with --key-file."
            )
        account = worker_account(folder)
    to = args.to or (last_payout(folder) if folder is not None else None)
    if to is None:
        raise DeskGridError(
            "Where to? This worker never signed in with a payout address: give your wallet's "
            "address with --to ADDRESS."
        )
    chain = connect(args.chain)
    try:
        hub = HubContract(chain, args.hub)
        rlc = RLCToken(chain, hub.token())
        plan = plan_sweep(hub, rlc, account, to, include_eth=args.eth)
        print(plan.describe(), flush=True)
        done = execute_sweep(plan)
        print(done.describe(plan.to), flush=True)
    finally:
        chain.close()
    return 0


DEFAULT_GIVE_UP_S = 300.0
UNREACHABLE = "Cannot reach the grid"


class ReachWatch:
    """How long the grid has been unreachable without a break, from the worker's statuses:
    the clock starts at the first "Cannot reach the grid" error and stops at any sign that
    the grid answered (an other error, a job, an idle state other than connecting)."""

    def __init__(self) -> None:
        self.since: float | None = None

    def see(self, status: WorkerStatus) -> None:
        if status.state == "error" and (status.last_error or "").startswith(UNREACHABLE):
            if self.since is None:
                self.since = time.monotonic()
        elif status.state != "idle" or not status.reason.startswith("Connecting to the grid"):
            self.since = None

    def unreachable_for(self) -> float:
        return 0.0 if self.since is None else time.monotonic() - self.since


class StatusesPrinted(logging.Filter):
    """The worker's status changes, printed on standard output already, go to the log file
    only: standard error keeps what the statuses do not say."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("worker %s: "):
            record.file_only = True
        return True


def _printer(quiet: bool) -> Callable[[WorkerStatus], None]:
    last: list[tuple[str, str]] = []

    def show(status: WorkerStatus) -> None:
        line = (status.state, status.reason)
        if quiet or (last and last[-1] == line):
            return
        last[:] = [line]
        print(f"[{status.state}] {status.reason}", flush=True)

    return show


def run_worker(args: argparse.Namespace) -> int:
    from deskgrid.errors import DeskGridError
    from deskgrid.worker.worker import Worker, WorkerConfig

    if args.grid is None:
        raise DeskGridError("Name the grid server with --grid URL (deskgrid worker --grid URL).")
    payout = args.payout  # checked and checksummed by its argparse type
    account = None
    if args.key_file is not None:
        from deskgrid.chain.keyfile import load_key_file

        account = load_key_file(args.key_file)
    config = WorkerConfig(
        grid_url=args.grid,
        cores=args.cores,
        cpu_limit=args.cpu_limit,
        state_dir=args.state_dir,
        payout=payout,
    )
    if args.max_input_mb is not None:
        config.max_input_mb = args.max_input_mb
    if args.min_free_disk_mb is not None:
        config.min_free_disk_mb = args.min_free_disk_mb
    if args.image_cache_mb is not None:
        config.image_cache_mb = args.image_cache_mb
    worker = Worker(config, account)
    if args.docker_apps:
        from deskgrid.worker.docker_runner import NO_DOCKER_FOR_APPS, docker_available

        worker.preferences = worker.preferences.model_copy(update={"run_docker_apps": True})
        if not docker_available():
            print(NO_DOCKER_FOR_APPS, file=sys.stderr, flush=True)
    from deskgrid.worker.identity import remember_payout

    remember_payout(worker.state_dir, payout)  # where `deskgrid worker withdraw` sends
    watch = ReachWatch()
    show = _printer(args.quiet)

    def on_status(status: WorkerStatus) -> None:
        watch.see(status)
        show(status)

    worker.on_status = on_status
    if not args.quiet:
        logging.getLogger("deskgrid.worker.worker").addFilter(StatusesPrinted())
    if not args.quiet:
        paid = f", paying {payout}" if payout else ""
        print(f"Worker {worker.account.address} on {args.grid}{paid}; Ctrl-C stops.", flush=True)
    gave_up = asyncio.run(_serve(worker, watch, args.give_up_after))
    if gave_up:
        raise DeskGridError(
            f"No grid answered at {args.grid} for {gave_up:.0f} s; check the URL and that the "
            "grid server runs, then start the worker again."
        )
    return 0


async def _give_up_when_unreachable(watch: ReachWatch, limit: float, stop: asyncio.Event) -> float:
    """Sets `stop` once the grid has been unreachable for `limit` seconds (0: never);
    returns how long it was, or 0 if the worker stopped for another reason."""
    while not stop.is_set():
        if limit and watch.unreachable_for() >= limit:
            stop.set()
            return watch.unreachable_for()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    return 0.0


async def _serve(worker: Worker, watch: ReachWatch, give_up_after: float) -> float:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))
    watchdog = asyncio.create_task(_give_up_when_unreachable(watch, give_up_after, stop))
    try:
        await worker.run(stop)
    finally:
        stop.set()
        gave_up = await watchdog
    if not gave_up:
        print("Worker stopped.", file=sys.stderr, flush=True)
    return gave_up

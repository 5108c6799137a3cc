"""The local node in a child process: `python -m deskgrid.node.process [--workers N]`.

The desktop app keeps CPU work out of its own process: this process runs the `LocalNode`
(chain, grid server, oracle, workers), serves an embedded chain over JSON-RPC on loopback,
and prints one JSON line per boot step and then one `ready` line with a `NodeInfo` (see
`deskgrid.node.info`). It stops cleanly on SIGTERM or SIGINT, and when its standard input
reaches end of file: its parent closed it or died, so it never outlives the app.

It logs to `node.log` in the data folder's `logs/` (`-v` and `-vv` as for `deskgrid`); its
standard error is for what escapes logging (a crash before logging is set up), and the app
sends it to `node-stderr.log` there (see `deskgrid.desktop.node_backend`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from deskgrid import logs
from deskgrid.errors import DeskGridError
from deskgrid.node.info import NodeInfo, NodeLine

if TYPE_CHECKING:
    from deskgrid.node.local import LocalNode

log = logging.getLogger(__name__)

LOG_NAME = "node"  # <data>/logs/node.log


def _emit(line: NodeLine) -> None:
    try:
        sys.stdout.write(line.dumps() + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):  # the parent is gone: nobody is listening
        pass


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """A daemon thread: stdin's end of file (the parent closed it or died) stops the node."""

    def read() -> None:
        # os.read on the descriptor, not sys.stdin: a thread blocked inside a buffered
        # reader would hold its lock while the interpreter shuts down.
        with contextlib.suppress(OSError):
            while os.read(0, 4096):
                pass
        with contextlib.suppress(RuntimeError):  # the loop already closed
            loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=read, name="parent-watch", daemon=True).start()


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)


async def serve(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    _stop_on_signals(stop)
    if args.watch_stdin:
        _watch_stdin(asyncio.get_running_loop(), stop)

    from deskgrid.node.local import DEMO_USER_INDEX, LocalNode, NodeConfig

    config = NodeConfig(chain=args.chain, workers=args.workers, port=args.port, oracle=args.oracle)
    node = LocalNode(config)
    rpc = None
    try:
        boot = asyncio.ensure_future(
            node.start(lambda message: _emit(NodeLine("progress", message)))
        )
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({boot, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not boot.done():  # asked to stop while booting
            boot.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await boot
            return 0
        stopped.cancel()
        boot.result()
        assert node.chain is not None and node.deployment is not None
        rpc_url = node.chain.url
        if node.chain.kind == "embedded":
            from deskgrid.chain.rpc_server import ChainRpcServer

            rpc = ChainRpcServer(node.chain)
            rpc_url = await asyncio.to_thread(rpc.start)
        assert rpc_url is not None
        demo_key, gifts = "", []
        if args.fund_demo:
            demo_key, gifts = await asyncio.to_thread(_fund_demo_wallet, node)
        info = NodeInfo(
            rpc_url=rpc_url,
            grid_url=node.grid_url,
            grid_token=node.grid_server.submitter_token if node.grid_server else "",
            chain_kind=node.chain.kind,
            deployment=node.deployment.to_json(),
            dev_keys=[a.key.to_0x_hex() for a in node.chain.dev_accounts],
            demo_user_index=DEMO_USER_INDEX,
            workers=len(node.workers),
            pid=os.getpid(),
            demo_key=demo_key,
            demo_gifts=gifts,
        )
        _emit(NodeLine("ready", node=info))
        await stop.wait()
        return 0
    except DeskGridError as exc:
        _emit(NodeLine("error", str(exc)))
        return 1
    except Exception as exc:
        log.exception("the local node failed")
        _emit(
            NodeLine(
                "error",
                f"The local node could not start ({type(exc).__name__}: {exc}); see its log, "
                f"{logs.log_file(LOG_NAME)}, then try again.",
            )
        )
        return 1
    finally:
        if rpc is not None:
            rpc.stop()
        await node.stop()
        _emit(NodeLine("stopped"))


def _fund_demo_wallet(node: LocalNode) -> tuple[str, list[dict[str, object]]]:
    """A fresh demo wallet, funded from the faucet here (next to the chain) so the app has
    nothing to send while it starts."""
    from eth_account import Account

    from deskgrid.chain.faucet import DemoFaucet

    chain, deployment = node.chain, node.deployment
    assert chain is not None and deployment is not None
    account = Account.create()
    logs.redact(account.key)
    faucet = DemoFaucet(chain, deployment.rlc, deployment.faucet)
    gifts = [
        {
            "asset": gift.asset,
            "amount": gift.amount,
            "tx_hash": gift.result.tx_hash,
            "block_number": gift.result.block_number,
            "source": gift.source,
        }
        for gift in faucet.fund(account.address)
    ]
    return account.key.to_0x_hex(), gifts


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m deskgrid.node.process", description=__doc__)
    p.add_argument("--chain", choices=("embedded", "anvil"), default="embedded")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--port", type=int, default=0, help="grid port (default: a free one)")
    p.add_argument(
        "--no-oracle",
        dest="oracle",
        action="store_false",
        help="nobody settles tasks: their refunds must be claimed after the deadline",
    )
    p.add_argument(
        "--fund-demo",
        action="store_true",
        help="create a demo wallet, fund it from the faucet and hand its key over",
    )
    p.add_argument(
        "--no-watch-stdin",
        dest="watch_stdin",
        action="store_false",
        help="do not stop at the end of standard input",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="-v INFO, -vv DEBUG")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Its own file; standard error too only on a terminal (the app keeps it in a file).
    logs.setup_logging(LOG_NAME, verbose=args.verbose, console=sys.stderr.isatty())
    log.info("the local node starts (%s chain, %d workers)", args.chain, args.workers)
    code = asyncio.run(serve(args))
    log.info("the local node stopped (exit code %d)", code)
    return code


if __name__ == "__main__":
    sys.exit(main())

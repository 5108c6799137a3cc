"""Paying for an order from the command line and following its task to its end, with the
sentences that say, when the command stops, that a paid task is safe in the journal and how to
take it up again (`deskgrid tasks combine|download ID`)."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from deskgrid.errors import DeskGridError
from deskgrid.money import format_rlc

if TYPE_CHECKING:
    from deskgrid.chain.connection import Chain
    from deskgrid.node.requester import Order, VanityOutcome, VanityRun


def add_retry_option(parser: argparse.ArgumentParser) -> None:
    """`--retry-for S`: how long a paid run keeps trying when the chain stops answering."""
    from deskgrid import argtypes
    from deskgrid.node.requester import DEFAULT_RETRY_FOR

    parser.add_argument(
        "--retry-for",
        type=argtypes.seconds("a number of seconds (0: no retry)", high=86400.0, zero=True),
        default=DEFAULT_RETRY_FOR,
        metavar="S",
        help="when the chain stops answering after the payment, retry with backoff for this "
        "long before stopping (the task is safe in the journal either way)",
    )


async def pay_and_follow(
    args: argparse.Namespace,
    chain: Chain,
    run: VanityRun,
    order: Order,
    say: Callable[[str], None],
    action: str = "combine",
) -> VanityOutcome | None:
    """Pay for `order` (journaled first) and follow its task to its end: the outcome, or None
    when the command stopped with the task safe in the journal (and said how to resume it
    with `deskgrid tasks ACTION`)."""
    from deskgrid.node.requester import ChainRetry, ChainUnreachable, is_connection_trouble

    paying = asyncio.ensure_future(asyncio.to_thread(run.pay, order))
    try:
        task_id = await asyncio.shield(paying)
        say(f"paid {format_rlc(run.price)}: task 0x{task_id.hex()}")
        retry = ChainRetry(
            chain.url or "(in this process)",
            args.retry_for,
            lambda line: print(f"deskgrid: {line}", file=sys.stderr, flush=True),
        )
        async for event in run.follow(retry=retry):
            say(f"  {event.sentence()}")
        return await retry.call(lambda: asyncio.to_thread(run.outcome, order))
    except ChainUnreachable as exc:
        _say_task_is_safe(args, run, lost=str(exc), action=action)
        return None
    except Exception as exc:  # the chain failed while paying: safe once signed
        if not paying.done():
            await asyncio.wait([paying])
        signed = run.entry is not None and run.entry.tx_hash is not None
        if not (signed and is_connection_trouble(exc)):
            raise
        lost = str(exc) if isinstance(exc, DeskGridError) else (
            f"The chain at {chain.url} stopped answering ({type(exc).__name__})."
        )  # fmt: skip
        _say_task_is_safe(args, run, lost=lost, action=action)
        return None
    except (KeyboardInterrupt, asyncio.CancelledError):
        if not paying.done():  # the payment goes on in its thread: let it end first
            await asyncio.wait([paying])
        _say_task_is_safe(args, run, action=action)
        raise


def resume_command(args: argparse.Namespace, order_id: str, action: str = "combine") -> str:
    """The command that follows a paid order to its key (`combine`) or its result
    (`download`) from another terminal or later."""
    grid = ["--grid", args.grid] if action == "download" and getattr(args, "grid", None) else []
    return shlex.join(
        [
            "deskgrid", "tasks", action, order_id, "--chain", args.chain, "--hub", args.hub,
            "--key-file", str(Path(args.key_file).absolute()), *grid,
        ]
    )  # fmt: skip


def _say_task_is_safe(
    args: argparse.Namespace, run: object, lost: str | None = None, action: str = "combine"
) -> None:
    """Why the command stops and, once paid, that the task is safe and how to resume it."""
    entry = getattr(run, "entry", None)
    if entry is None or entry.tx_hash is None:  # never signed: nothing can reach the chain
        print("deskgrid: stopped before paying: nothing was paid.", file=sys.stderr, flush=True)
        return
    kept = "and its key are kept (encrypted)" if entry.secret is not None else "is kept"
    if getattr(args, "demo", False) or not args.chain:
        print(
            f"deskgrid: stopped; order {entry.order_id} {kept.removesuffix(' (encrypted)')} in "
            "the journal, but the throw-away demo chain ends with this command: run against "
            "`deskgrid demo --headless` to keep tasks across restarts.",
            file=sys.stderr,
            flush=True,
        )
        return
    why = f"{lost} Stopped" if lost else "Stopped"
    if action == "combine":
        then = "Once the chain answers, get its key with" if lost else "Resume it with"
    else:
        then = "Once it completed, get its result with"
    print(
        f"deskgrid: {why}; the task is safe: order {entry.order_id} {kept} in the journal, "
        "and it goes on without this command. "
        f"{then}: {resume_command(args, entry.order_id, action)}",
        file=sys.stderr,
        flush=True,
    )

"""`deskgrid tasks [list | show ID | combine ID | claim ID | download ID]`: the requester
journal from a terminal. Every command first resumes the wallet's unfinished orders from the
chain (never paying again), so a task paid by a `run` that was stopped, killed or lost its
network is followed, combined or refunded here; `download` fetches a published app's result
(from the journal, or any task this wallet paid) from the grid, checked and decrypted."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from deskgrid.argtypes import argument_type, existing_file, new_or_existing_file, url
from deskgrid.chain.arguments import address
from deskgrid.errors import DeskGridError
from deskgrid.money import format_rlc
from deskgrid.node.journal import APP_ORDER

ACTIONS = ("list", "show", "combine", "claim", "download")


def _order_check(text: str) -> str:
    ident = text.strip().lower().removeprefix("0x")
    if len(ident) < 4 or any(c not in "0123456789abcdef" for c in ident):
        raise DeskGridError(
            f"'{text}' is not an order or task id: give at least 4 hex digits of one."
        )
    return ident


_order = argument_type(_order_check, "order id")
_address = address("hub contract address")


def register(subparsers: argparse._SubParsersAction) -> None:
    tasks = subparsers.add_parser(
        "tasks",
        help="your paid tasks: list, show, combine a key, claim a refund, download a result "
        "(resumes them)",
        description="The tasks this wallet paid on a network, from the journal in the data "
        "folder. Each command first resumes unfinished tasks from the chain: a task is "
        "never paid twice.",
    )
    tasks.add_argument("action", nargs="?", choices=ACTIONS, default="list", help="default: list")
    tasks.add_argument("id", nargs="?", type=_order, help="an order id or task id (a prefix)")
    tasks.add_argument("--chain", required=True, type=url("RPC URL"), help="JSON-RPC URL")
    tasks.add_argument("--hub", required=True, type=_address, help="Hub address")
    tasks.add_argument(
        "--key-file",
        required=True,
        type=existing_file("key file"),
        help="the keystore that paid (password from $DESKGRID_KEY_PASSWORD or a prompt)",
    )
    tasks.add_argument(
        "--grid", type=url("grid URL"), help="the grid that ran the task (with download)"
    )
    tasks.add_argument(
        "--to",
        type=new_or_existing_file("result file"),
        metavar="PATH",
        help="where download writes the result (default: ./<task id>.<extension of its type>)",
    )
    tasks.add_argument("--json", action="store_true", help="print JSON")
    tasks.set_defaults(handler=_tasks)


class _Context:
    def __init__(self, args: argparse.Namespace) -> None:
        from deskgrid.chain.arguments import open_hub
        from deskgrid.chain.connection import connect
        from deskgrid.chain.keyfile import load_key_file
        from deskgrid.node.journal import RequestJournal

        self.account = load_key_file(args.key_file)
        self.chain = connect(args.chain)
        self.hub = open_hub(self.chain, args.hub)
        self.journal = RequestJournal.open(
            self.chain.chain_id, self.chain.genesis_hash, args.hub, self.account
        )


def _describe(ctx: _Context, entry: Any, *, with_key: bool) -> dict[str, Any]:
    doc = entry.public()
    result = ctx.journal.result(entry) if entry.result is not None else None
    if result is not None:
        doc["address"] = result[0]
        if with_key:
            doc["wif"] = result[1]
    return doc


def _line(doc: dict[str, Any]) -> str:
    task = (doc["task_id"] or doc["expected_task_id"])[:12] + "…"
    pattern = (
        ",".join(doc["params"].get("patterns", [])) if doc["kind"] != APP_ORDER else doc["app"]
    )
    note = doc.get("address") or doc.get("reason") or ""
    return (
        f"{doc['order_id']}  {doc['state']:10} {task:14} {pattern:10} "
        f"{format_rlc(doc['price']):>10}  {note}"
    )


async def _follow(ctx: _Context, entry: Any, interval: float = 1.0) -> Any:
    from deskgrid.node.resume import settle

    while True:
        entry = await asyncio.to_thread(settle, ctx.journal, ctx.chain, ctx.hub, entry)
        if entry.state not in ("prepared", "sent", "active"):
            return entry
        await asyncio.sleep(interval)


async def _main(args: argparse.Namespace) -> int:
    from deskgrid.node.resume import claim, resume

    if args.action != "list" and not args.id:
        raise DeskGridError(f"Give the order id: deskgrid tasks {args.action} ID …")
    ctx = await asyncio.to_thread(_Context, args)
    entries = await asyncio.to_thread(resume, ctx.journal, ctx.chain, ctx.hub)
    if args.action == "list":
        docs = [_describe(ctx, e, with_key=False) for e in entries]
        if args.json:
            print(json.dumps(docs))
        elif not docs:
            print("No tasks paid from this wallet on this network and hub.")
        else:
            for doc in docs:
                print(_line(doc))
        return 0
    if args.action == "download":
        return await _download(ctx, args)
    entry = ctx.journal.find(args.id)
    if args.action == "combine":
        if not args.json:
            print(f"following order {entry.order_id} (Ctrl-C stops; it stays safe)", flush=True)
        entry = await _follow(ctx, entry)
    elif args.action == "claim":
        from deskgrid.chain.transactions import TxSender

        entry = await asyncio.to_thread(
            claim, ctx.journal, ctx.chain, ctx.hub, TxSender(ctx.chain, ctx.account), entry
        )
    doc = _describe(ctx, entry, with_key=True)
    if args.json:
        print(json.dumps(doc))
        return 0
    print(_line(doc))
    if "wif" in doc:
        print(f"address  {doc['address']}\nwif      {doc['wif']}")
    if args.action == "combine" and entry.state != "completed":
        print(f"deskgrid: order {entry.order_id} is {entry.state}: {entry.reason}", file=sys.stderr)
        return 1
    return 0


async def _download(ctx: _Context, args: argparse.Namespace) -> int:
    from deskgrid.crypto.ecies import encryption_context
    from deskgrid.node.app_commands import result_path
    from deskgrid.node.requester_data import download_result, result_key_of
    from deskgrid.node.task_results import find_task, task_result

    if not args.grid:
        raise DeskGridError(
            "Give the grid that ran the task: deskgrid tasks download ID --grid URL"
        )
    task_id, entry = find_task(ctx.journal, args.id)
    found = await asyncio.to_thread(
        task_result, ctx.hub, task_id, ctx.account.address, result_key_of(ctx.account), entry
    )
    to = result_path(args.to, found.task_id, found.media_type)
    written = await download_result(
        args.grid,
        ctx.account,
        found.digest,
        to,
        encrypted=found.encrypted,
        context=encryption_context(found.task_id, ""),
    )
    if entry is not None:
        await asyncio.to_thread(ctx.journal.update, entry, result_path=str(written.absolute()))
    if args.json:
        print(json.dumps({"task_id": found.task_id, "result_path": str(written)}))
    else:
        print(f"result   {written}")
    return 0


def _tasks(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        print("deskgrid: stopped; the tasks stay safe in the journal.", file=sys.stderr)
        return 130

"""`deskgrid run app ID`: pay for a task of a published app and fetch its result.

The app's manifest is read from the chain; the params given are checked against its schema
(a sentence per field) and its input files against its inputs, before anything is sent. The
input files go to the grid's data store (signed in with the wallet as a requester), the task
document (params, input digests, the wallet's public key its result is encrypted to) is paid
for in one transaction, journaled first, and the task followed to its end; its result is
then downloaded, checked against the digest on chain, decrypted and written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from deskgrid.argtypes import (
    argument_type,
    existing_file,
    new_or_existing_file,
    url,
    whole_number,
)
from deskgrid.chain.arguments import address
from deskgrid.chain.trust import MAX_TRUST, describe_levels
from deskgrid.errors import DeskGridError
from deskgrid.market.manifest import Manifest
from deskgrid.market.params_form import ParamsForm
from deskgrid.money import format_fee, format_rlc
from deskgrid.node.paying import add_retry_option
from deskgrid.node.requester import UNVERIFIED_TRUST

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
PLACEHOLDER_DIGEST = "0" * 64  # stands for an input's digest while the request is checked
YES = frozenset({"true", "yes", "y", "1", "on"})
NO = frozenset({"false", "no", "n", "0", "off"})


def _pair_check(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise DeskGridError(f"'{text}' is not NAME=VALUE; write it like top=10 or text=book.txt.")
    return name.strip(), value


_pair = argument_type(_pair_check, "NAME=VALUE")
_address = address("hub contract address")
_app_id = whole_number(1, 2**32 - 1, "an app id (a whole number, see `deskgrid app list`)")


def register(apps: argparse._SubParsersAction) -> None:
    """`run app` under `deskgrid run`."""
    app = apps.add_parser(
        "app",
        help="a published app: send its input files, pay, and fetch its result",
        description="Pay for a task of a published app (see `deskgrid app list`): its params "
        "are checked against the app's schema, its input files are stored on the grid "
        "(signed in with your wallet), the task is paid and followed to its end, and its "
        "result (encrypted to your wallet unless --no-encrypt) is downloaded and decrypted.",
    )
    app.add_argument("app_id", type=_app_id, metavar="ID", help="the app's id on the hub")
    app.add_argument(
        "--param",
        action="append",
        type=_pair,
        default=[],
        metavar="KEY=VALUE",
        help="a param of the app (repeat for each; lists separated by commas)",
    )
    app.add_argument(
        "--input",
        action="append",
        type=_pair,
        default=[],
        metavar="NAME=PATH",
        help="an input file of the app, by the input's name (repeat for each)",
    )
    app.add_argument("--grid", required=True, type=url("grid URL"), help="the grid's URL")
    app.add_argument("--chain", required=True, type=url("RPC URL"), help="JSON-RPC URL")
    app.add_argument("--hub", required=True, type=_address, help="Hub address")
    app.add_argument(
        "--key-file",
        required=True,
        type=existing_file("key file"),
        help="your keystore (password from $DESKGRID_KEY_PASSWORD or a prompt)",
    )
    app.add_argument(
        "--trust",
        type=whole_number(UNVERIFIED_TRUST, MAX_TRUST, "a trust level of 2 or more"),
        default=UNVERIFIED_TRUST,
        metavar=f"{{{UNVERIFIED_TRUST}..{MAX_TRUST}}}",
        help=f"trust level paid for ({describe_levels()}); a published app has no verifier, "
        "so 2 or more (default %(default)s)",
    )
    app.add_argument(
        "--no-encrypt",
        action="store_true",
        help="let the result be stored in clear (default: encrypted to your wallet's key)",
    )
    app.add_argument(
        "--to",
        type=new_or_existing_file("result file"),
        metavar="PATH",
        help="where to write the result (default: ./<task id>.<extension of its type>)",
    )
    add_retry_option(app)
    app.add_argument("--yes", action="store_true", help="pay without asking")
    app.add_argument("--json", action="store_true", help="print the outcome as JSON")
    app.set_defaults(handler=_run_app)


# -- checking the request -----------------------------------------------------------------


def typed_values(form: ParamsForm, given: list[tuple[str, str]]) -> dict[str, Any]:
    """The params as typed on the command line, each converted to its field's kind (numbers and
    lists are parsed by the form's check; booleans and choices here). Unknown names are left
    for the schema check to name."""
    values: dict[str, Any] = {}
    names = {spec.name: spec for spec in form.fields}
    for name, text in given:
        if name in values:
            raise DeskGridError(f"The param {name!r} is given twice; give it once.")
        spec = names.get(name)
        value: Any = text
        if spec is not None and spec.kind == "boolean":
            lowered = text.strip().lower()
            value = True if lowered in YES else False if lowered in NO else text
        elif spec is not None and spec.kind == "enum":
            value = next((c for c in spec.choices if str(c) == text.strip()), text)
        values[name] = value
    return values


def input_files(manifest: Manifest, given: list[tuple[str, str]]) -> dict[str, Path]:
    """The input files by name, each one of the app's inputs and given once."""
    declared = [item.name for item in manifest.inputs]
    files: dict[str, Path] = {}
    for name, path in given:
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise DeskGridError(
                f"{manifest.name} has no input called {name!r} (its inputs: {known}); "
                "write --input NAME=PATH with one of them."
            )
        if name in files:
            raise DeskGridError(f"The input {name!r} is given twice; give it once.")
        files[name] = Path(path)
    return files


def result_path(to: Path | None, task_id: str, media_type: str) -> Path:
    """Where the result goes: `to`, or ./<task id>.<extension of its media type>."""
    from deskgrid.node.requester_data import result_file_name

    return to.expanduser() if to is not None else Path(result_file_name(task_id, media_type))


def _confirm(args: argparse.Namespace) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise DeskGridError("Nothing was paid: add --yes to pay without being asked.")
    answer = input("Pay for this task? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise DeskGridError("Nothing was paid.")


# -- the command --------------------------------------------------------------------------


async def _app_main(args: argparse.Namespace) -> int:
    from deskgrid.chain.arguments import open_hub
    from deskgrid.chain.connection import connect
    from deskgrid.chain.contracts import RLCToken
    from deskgrid.chain.keyfile import load_key_file
    from deskgrid.chain.transactions import TxSender
    from deskgrid.crypto.ecies import encryption_context
    from deskgrid.grid.client import GridClient
    from deskgrid.market.app_spec import published_app_name
    from deskgrid.market.params_form import build_form
    from deskgrid.market.published import read_app
    from deskgrid.market.task_document import TaskDocument, parse_task_document
    from deskgrid.node.journal import RequestJournal
    from deskgrid.node.paying import pay_and_follow
    from deskgrid.node.requester import AppOrder, VanityRun
    from deskgrid.node.requester_data import (
        download_result,
        readable_inputs,
        result_key_of,
        upload_inputs,
    )

    say = (lambda _m: None) if args.json else (lambda m: print(m, flush=True))
    account = load_key_file(args.key_file)
    chain = await asyncio.to_thread(connect, args.chain)
    hub = await asyncio.to_thread(open_hub, chain, args.hub)
    listed = await asyncio.to_thread(read_app, hub, args.app_id)
    manifest = listed.manifest
    if listed.kind != "docker" or manifest is None:
        raise DeskGridError(
            f"App {args.app_id} ({listed.info.name}) is not a published app; "
            "`deskgrid app list` shows them."
        )
    if not listed.consistent:
        raise DeskGridError(f"App {args.app_id} cannot be run: {listed.problem}.")
    if listed.info.retired:
        raise DeskGridError(f"App {args.app_id} ({manifest.name}) was retired by its developer.")
    form = build_form(manifest.params_schema)
    files = readable_inputs(input_files(manifest, args.input))
    key = None if args.no_encrypt else result_key_of(account)
    order = AppOrder(
        published_app_name(args.app_id, manifest),
        manifest.params_schema,
        typed_values(form, args.param),
        trust=args.trust,
        result_key=key,
    )
    placeholder = TaskDocument(order.params(), dict.fromkeys(files, PLACEHOLDER_DIGEST), key)
    parse_task_document(placeholder.to_chain(), manifest)  # the oracle's own check, before paying
    if files:
        say(f"storing {len(files)} input file(s) on {args.grid}…")
        order.inputs = await upload_inputs(args.grid, account, files)
    journal = await asyncio.to_thread(
        lambda: RequestJournal.open(chain.chain_id, chain.genesis_hash, args.hub, account)
    )
    run = VanityRun(
        chain,
        hub,
        RLCToken(chain, hub.token()),
        TxSender(chain, account),
        app_id=args.app_id,
        pool_id=1,
        callback=ZERO_ADDRESS,
        grid=GridClient(args.grid),
        journal=journal,
    )
    quote = await asyncio.to_thread(run.quote, order)  # a sentence when the wallet is short
    print(
        f"{manifest.name} (app {args.app_id}): price {format_rlc(quote.price)} "
        f"({quote.breakdown()}); network fee up to {format_fee(quote.fee.max_cost_wei)}; "
        f"result {'encrypted to your wallet' if key else 'stored in clear on the grid'}",
        file=sys.stderr if args.json else sys.stdout,
        flush=True,
    )
    _confirm(args)
    outcome = await pay_and_follow(args, chain, run, order, say, action="download")
    if outcome is None:
        return 1
    doc: dict[str, Any] = outcome.to_json() | {"app": order.app}
    for unused in ("address", "wif"):
        doc.pop(unused, None)
    if outcome.status != "COMPLETED" or not outcome.result_digest:
        if args.json:
            print(json.dumps(doc))
        print(f"deskgrid: the task failed and was refunded: {outcome.reason}", file=sys.stderr)
        return 1
    to = result_path(args.to, outcome.task_id, manifest.result.media_type)
    written = await download_result(
        args.grid,
        account,
        outcome.result_digest,
        to,
        encrypted=key is not None,
        context=encryption_context(outcome.task_id, ""),
    )
    if run.entry is not None:
        await asyncio.to_thread(journal.update, run.entry, result_path=str(written.absolute()))
    doc["result_path"] = str(written)
    if args.json:
        print(json.dumps(doc))
    else:
        print(f"result   {written}")
        print(f"cost     {format_rlc(outcome.cost_nrlc)} in {outcome.seconds:.1f} s")
    return 0


def _run_app(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_app_main(args))
    except KeyboardInterrupt:
        return 130

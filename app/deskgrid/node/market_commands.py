"""`deskgrid app publish | list | show | set-price | retire`: third-party apps on a hub.

`publish` registers a Docker app with its manifest (`publishApp`: the manifest goes in the
hub's `AppManifest` event, not in its storage); `list` and `show` read the hub's apps and check
each published one against its manifest; `set-price` and `retire` are for the app's owner. The
signing key comes from a keystore file (`--key-file`, its password from $DESKGRID_KEY_PASSWORD
or a prompt), as for `deskgrid tasks` and `deskgrid run`."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from deskgrid.argtypes import argument_type, existing_file, url, whole_number
from deskgrid.chain.arguments import address
from deskgrid.errors import DeskGridError
from deskgrid.market.price import parse_price
from deskgrid.money import format_fee, format_rlc

if TYPE_CHECKING:
    from deskgrid.chain.connection import Chain
    from deskgrid.chain.contracts import HubContract
    from deskgrid.chain.transactions import FeeQuote, TxResult, TxSender
    from deskgrid.market.docker_image import SavedImage
    from deskgrid.market.published import ListedApp

# A Docker image: a reference (repo[:tag][@digest], lower-case) or an id (sha256:… or hex).
IMAGE_NAME = re.compile(
    r"^(?:sha256:[0-9a-f]{64}|[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?"
    r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@sha256:[0-9a-f]{64})?)$"
)


def _image_check(text: str) -> str:
    value = text.strip()
    if len(value) > 255 or not IMAGE_NAME.match(value):
        raise DeskGridError(
            f"'{text}' is not a Docker image: give its tag (deskgrid-example/wordfreq:1) or "
            "its id (sha256:…)."
        )
    return value


_price = argument_type(parse_price, "price")
_image = argument_type(_image_check, "image")
_app_id = whole_number(1, 2**32 - 1, "an app id")


def register(subparsers: argparse._SubParsersAction) -> None:
    app = subparsers.add_parser(
        "app",
        help="publish a Docker app on a hub, list its apps, change a price, retire an app",
        description=__doc__.split("\n\n")[1],
    )
    sub = app.add_subparsers(dest="app_command", metavar="ACTION", required=True)

    publish = sub.add_parser(
        "publish", help="register a Docker app and its manifest on the hub, at a price"
    )
    publish.add_argument(
        "--manifest",
        required=True,
        type=existing_file("manifest file"),
        help="the app's manifest (JSON; see docs/developer.md, Publishing)",
    )
    publish.add_argument(
        "--price",
        required=True,
        type=_price,
        metavar="RLC",
        help="what the app's owner is paid per task, in RLC (0: free)",
    )
    publish.add_argument(
        "--image",
        type=_image,
        help="fill in the manifest's image id from this image in the local Docker daemon "
        "(a tag or an id); without it, the manifest's own id is published",
    )
    publish.add_argument(
        "--upload-to",
        type=url("grid URL"),
        metavar="GRID_URL",
        help="also save the image (docker save) and upload the archive to this grid's data "
        "store, signed in with --key-file, so that volunteers who cannot reach a registry "
        "fetch it there; the manifest then names the archive's sha256",
    )
    _add_signer(publish)
    publish.set_defaults(handler=_publish)

    listing = sub.add_parser("list", help="the hub's apps: id, name, version, owner, price")
    listing.add_argument("--all", action="store_true", help="retired apps too")
    _add_network(listing)
    _add_json(listing)
    listing.set_defaults(handler=_list)

    show = sub.add_parser("show", help="one app, its manifest included")
    show.add_argument("app_id", metavar="ID", type=_app_id, help="the app's id")
    _add_network(show)
    _add_json(show)
    show.set_defaults(handler=_show)

    price = sub.add_parser("set-price", help="change your app's price (owner only)")
    price.add_argument("app_id", metavar="ID", type=_app_id, help="the app's id")
    price.add_argument("price", metavar="RLC", type=_price, help="the new price in RLC")
    _add_signer(price)
    price.set_defaults(handler=_set_price)

    retire = sub.add_parser("retire", help="stop your app taking requests, for good (owner only)")
    retire.add_argument("app_id", metavar="ID", type=_app_id, help="the app's id")
    _add_signer(retire)
    retire.set_defaults(handler=_retire)


def _add_network(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chain", required=True, type=url("RPC URL"), help="JSON-RPC URL")
    parser.add_argument(
        "--hub", required=True, type=address("hub contract address"), help="Hub address"
    )


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _add_signer(parser: argparse.ArgumentParser) -> None:
    """The network, the key that signs, --yes and --json."""
    _add_network(parser)
    parser.add_argument(
        "--key-file",
        required=True,
        type=existing_file("key file"),
        help="the keystore that signs (password from $DESKGRID_KEY_PASSWORD or a prompt)",
    )
    parser.add_argument("--yes", action="store_true", help="do not ask before sending")
    _add_json(parser)


class _Hub:
    """The chain and hub of the command line (closed on exit)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from deskgrid.chain.arguments import open_hub
        from deskgrid.chain.connection import connect

        self.chain: Chain = connect(args.chain)
        try:
            self.hub: HubContract = open_hub(self.chain, args.hub)
        except Exception:
            self.chain.close()
            raise

    def sender(self, args: argparse.Namespace) -> TxSender:
        from deskgrid.chain.keyfile import load_key_file
        from deskgrid.chain.transactions import TxSender

        return TxSender(self.chain, load_key_file(args.key_file))

    def __enter__(self) -> _Hub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.chain.close()


def _confirm(args: argparse.Namespace, what: str, max_fee_wei: int, verb: str) -> bool:
    """True when `args.yes`, or when the person at the terminal says yes."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise DeskGridError(f"Add --yes to {verb.lower()} without a terminal to confirm in.")
    print(f"{what}; network fee up to {format_fee(max_fee_wei)}.")
    if input(f"{verb}? [y/N] ").strip().lower() in ("y", "yes"):
        return True
    print("Nothing was sent.")
    return False


def _owned(hub: HubContract, sender: TxSender, app_id: int) -> None:
    """A sentence unless `sender` owns app `app_id`."""
    owner = hub.app(app_id).owner
    if owner.lower() != sender.address.lower():
        raise DeskGridError(
            f"App #{app_id} belongs to {owner}, not to {sender.address}: only its owner can "
            "change its price or retire it; sign with the owner's --key-file."
        )


def _publish(args: argparse.Namespace) -> int:
    from deskgrid.market.docker_image import save_image
    from deskgrid.market.manifest import (
        canonical_json,
        load_document,
        manifest_from,
        read_manifest_file,
        with_image_id,
    )
    from deskgrid.market.published import publish, quote_publish

    where = f"The manifest {args.manifest}"
    doc = load_document(read_manifest_file(args.manifest), where=where)
    if args.image:
        from deskgrid.market.docker_image import local_image_id

        doc = with_image_id(doc, local_image_id(args.image))
    manifest = manifest_from(doc, where=where)
    with contextlib.ExitStack() as stack:
        saved = None
        if args.upload_to:  # the archive's sha256 goes into the manifest
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="deskgrid-")))
            saved = save_image(manifest.image.id, folder / "image.tar")
            doc = with_image_id(doc, manifest.image.id, saved.sha256)
            manifest = manifest_from(doc, where=where)
        size = len(canonical_json(manifest))
        ctx = stack.enter_context(_Hub(args))
        sender = ctx.sender(args)
        what = (
            f"Publish app '{manifest.name}' {manifest.version} ({manifest.uri}, manifest "
            f"{size:,} bytes) at {format_rlc(args.price)} per task, owned by {sender.address}"
        )
        if saved is not None:
            what += f", its image archive ({saved.size:,} bytes) uploaded to {args.upload_to}"
        quote = quote_publish(ctx.hub, sender, manifest, args.price)
        if not _confirm(args, what, quote.max_cost_wei, "Publish"):
            return 1
        if saved is not None:
            _upload_archive(args.upload_to, sender, saved)
        published = publish(ctx.hub, sender, manifest, args.price)
    report = {
        "app_id": published.app_id,
        "tx": published.tx.tx_hash,
        "gas": published.tx.gas_used,
        "uri": manifest.uri,
        "params_schema_hash": "0x" + manifest.params_schema_hash.hex(),
        "archive_sha256": manifest.image.archive_sha256,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"published app #{published.app_id} '{manifest.name}' {manifest.version} at "
            f"{format_rlc(args.price)} per task (transaction {published.tx.tx_hash}, "
            f"{published.tx.gas_used:,} gas)"
        )
    return 0


def _upload_archive(grid_url: str, sender: TxSender, saved: SavedImage) -> None:
    """Upload the image archive `saved` to the grid's data store, signed in as `sender`."""
    import asyncio

    from deskgrid.node.requester_data import upload_inputs

    stored = asyncio.run(upload_inputs(grid_url, sender.account, {"image.tar": saved.path}))
    if stored.get("image.tar") != saved.sha256:
        raise DeskGridError(
            f"The grid at {grid_url} stored the image archive under another digest; check "
            "the grid's address."
        )


def _list(args: argparse.Namespace) -> int:
    from deskgrid.market.published import read_apps

    with _Hub(args) as ctx:
        apps = read_apps(ctx.hub, include_retired=args.all)
    if args.json:
        print(json.dumps([app.to_json() for app in apps]))
        return 0
    if not apps:
        print("No apps on this hub yet." if args.all else "No active apps on this hub.")
    for app in apps:
        print(_line(app))
    return 0


def _line(app: ListedApp) -> str:
    doc = app.to_json()
    state = "retired" if doc["retired"] else "active"
    check = "" if app.consistent else f"  INCONSISTENT: {app.problem}"
    return (
        f"#{doc['id']:<4} {doc['name']:20} {doc['version'] or '-':8} {doc['kind']:7} "
        f"{format_rlc(doc['price_nrlc']):>12}  {state:7} owner {doc['owner']}  "
        f"{doc['uri']}{check}"
    )


def _show(args: argparse.Namespace) -> int:
    from deskgrid.market.published import read_app

    with _Hub(args) as ctx:
        app = read_app(ctx.hub, args.app_id)
    doc = app.to_json(with_manifest=True)
    if args.json:
        print(json.dumps(doc))
        return 0
    print(_line(app))
    print(f"  params schema hash {doc['params_schema_hash']}")
    print(f"  registered in block {doc['registered_block']}")
    if doc["manifest"] is not None:
        print("  manifest:")
        print("    " + json.dumps(doc["manifest"], indent=2).replace("\n", "\n    "))
    return 0


def _owner_action(
    args: argparse.Namespace,
    verb: str,
    what: str,
    quote: Callable[[HubContract, TxSender], FeeQuote],
    send: Callable[[HubContract, TxSender], TxResult],
) -> int:
    """`set-price` or `retire`: check the owner, ask (unless --yes), send."""
    with _Hub(args) as ctx:
        sender = ctx.sender(args)
        _owned(ctx.hub, sender, args.app_id)
        if not _confirm(args, what, quote(ctx.hub, sender).max_cost_wei, verb):
            return 1
        result = send(ctx.hub, sender)
    if args.json:
        print(json.dumps({"app_id": args.app_id, "tx": result.tx_hash, "gas": result.gas_used}))
    else:
        print(f"{what}: transaction {result.tx_hash} ({result.gas_used:,} gas)")
    return 0


def _set_price(args: argparse.Namespace) -> int:
    what = f"Set the price of app #{args.app_id} to {format_rlc(args.price)} per task"
    return _owner_action(
        args,
        "Change",
        what,
        lambda hub, sender: hub.quote_set_app_price(sender, args.app_id, args.price),
        lambda hub, sender: hub.set_app_price(sender, args.app_id, args.price),
    )


def _retire(args: argparse.Namespace) -> int:
    what = f"Retire app #{args.app_id} (it takes no more requests, for good)"
    return _owner_action(
        args,
        "Retire",
        what,
        lambda hub, sender: hub.quote_retire_app(sender, args.app_id),
        lambda hub, sender: hub.retire_app(sender, args.app_id),
    )

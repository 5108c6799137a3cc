"""`deskgrid chain …` subcommands."""

from __future__ import annotations

import argparse
import json

from deskgrid import argtypes
from deskgrid.chain.connection import connect
from deskgrid.chain.deployment import Roles, ensure_deployment
from deskgrid.errors import DeskGridError


def register(subparsers: argparse._SubParsersAction) -> None:
    chain = subparsers.add_parser("chain", help="deploy and inspect the marketplace contracts")
    sub = chain.add_subparsers(dest="chain_command", metavar="ACTION", required=True)
    deploy = sub.add_parser(
        "deploy",
        help="deploy RLC + Hub + VanityRequester, register the built-in apps and a workerpool",
    )
    deploy.add_argument(
        "--chain",
        default="embedded",
        type=argtypes.argument_type(_chain_check, "chain"),
        help="embedded (in-process EVM, default), anvil (a new local node), or a JSON-RPC URL",
    )
    deploy.add_argument(
        "--key-file",
        type=argtypes.existing_file("key file"),
        help="keystore of the deployer (needed on a chain without dev accounts)",
    )
    deploy.add_argument(
        "--with-test-apps",
        action="store_true",
        help="also register the apps of DESKGRID_APP_MODULES (DeskGrid's tests use it)",
    )
    deploy.add_argument("--json", action="store_true", help="print the result as JSON")
    deploy.set_defaults(handler=_deploy)


def _chain_check(text: str) -> str:
    from deskgrid.urls import check_url

    value = text.strip()
    if value in ("embedded", "anvil"):
        return value
    try:
        return check_url(value, "chain")
    except DeskGridError:
        raise DeskGridError(
            f"'{text}' is not a chain: give embedded, anvil, or a JSON-RPC URL such as "
            "http://127.0.0.1:8545."
        ) from None


def _deploy(args: argparse.Namespace) -> int:
    chain = connect(args.chain)
    try:
        if args.key_file:
            from deskgrid.chain.keyfile import load_key_file

            roles = Roles.single(load_key_file(args.key_file))
        else:
            roles = Roles.dev(chain)
        deployment, created = ensure_deployment(chain, roles, with_test_apps=args.with_test_apps)
    finally:
        chain.close()
    report = {
        "chain_id": deployment.chain_id,
        "rlc": deployment.rlc,
        "hub": deployment.hub,
        "vanity_requester": deployment.vanity_requester,
        "pool_id": deployment.pool_id,
        "apps": deployment.apps,
        "block": deployment.block,
        "created": created,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{'deployed' if created else 'already deployed'} on chain {report['chain_id']}")
        for key in ("rlc", "hub", "vanity_requester", "pool_id", "block"):
            print(f"  {key:17} {report[key]}")
        for name, app_id in deployment.apps.items():
            print(f"  app {name:13} #{app_id}")
    return 0

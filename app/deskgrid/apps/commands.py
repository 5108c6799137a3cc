"""`deskgrid vanity` (find a vanity address locally) and `deskgrid vanity-combine`."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

from deskgrid import argtypes, logs
from deskgrid.apps.vanity.app import REFERENCE_KEYS_PER_SECOND, result_document
from deskgrid.apps.vanity.keys import InvalidKeyError, parse_public_key, wif_decode
from deskgrid.apps.vanity.parallel import search
from deskgrid.apps.vanity.pattern import compile_patterns, format_duration, found_probability
from deskgrid.apps.vanity.splitkey import combine
from deskgrid.argtypes import argument_type
from deskgrid.errors import DeskGridError


def register(subparsers: argparse._SubParsersAction) -> None:
    vanity = subparsers.add_parser(
        "vanity",
        help="find a Bitcoin address that starts with a pattern, on this computer",
        description="Find a Bitcoin P2PKH address that starts with one of the patterns "
        "(e.g. 1LoVE). With --split-key, only a partial key is found: combine it with your "
        "own secret using `deskgrid vanity-combine`.",
    )
    vanity.add_argument(
        "patterns", nargs="+", metavar="PATTERN", type=argtypes.text("an address prefix")
    )
    vanity.add_argument("-i", "--case-insensitive", action="store_true")
    vanity.add_argument(
        "--split-key",
        metavar="PUBKEY",
        type=argument_type(_public_key_check, "public key"),
        help="your public key (hex): find a partial key only",
    )
    vanity.add_argument("--uncompressed", action="store_true", help="uncompressed public key")
    vanity.add_argument(
        "--cores",
        type=argtypes.cores(),
        default=os.cpu_count() or 1,
        help="processes (default: all cores)",
    )
    vanity.add_argument("--json", action="store_true", help="print the result as JSON")
    vanity.set_defaults(handler=run_vanity)

    comb = subparsers.add_parser(
        "vanity-combine",
        help="turn a split-key result into your final private key",
        description="Add your secret (a WIF private key, read from standard input or asked "
        "for) to the partial key of a split-key vanity result; prints the final WIF key.",
    )
    comb.add_argument("address", type=argtypes.text("the vanity address", max_length=64))
    comb.add_argument(
        "partial_private_key",
        metavar="PARTIAL_KEY",
        type=argument_type(_partial_key_check, "partial key"),
    )
    comb.add_argument("--json", action="store_true")
    comb.set_defaults(handler=run_combine)


def _partial_key_check(text: str) -> str:
    digits = text.strip().removeprefix("0x")
    if not 1 <= len(digits) <= 64 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise DeskGridError("The partial key must be hexadecimal (64 digits).")
    return digits


def _public_key_check(text: str) -> str:
    try:
        parse_public_key(text.strip())
    except (InvalidKeyError, ValueError) as exc:
        raise DeskGridError(
            f"The --split-key public key is not usable: {exc}; give it in hex "
            "(66 digits, compressed, or 130)."
        ) from None
    return text.strip()


def _eprint(text: str, end: str = "\n") -> None:
    print(text, file=sys.stderr, end=end, flush=True)


def run_vanity(args: argparse.Namespace) -> int:
    patterns = compile_patterns(args.patterns, args.case_insensitive)
    requester = None
    if args.split_key:
        try:
            requester = parse_public_key(args.split_key)
        except InvalidKeyError as exc:
            raise DeskGridError(f"The --split-key public key is not usable: {exc}.") from None
    speed = REFERENCE_KEYS_PER_SECOND * args.cores
    show = not args.json or sys.stderr.isatty()
    if show:
        _eprint(
            f"Difficulty: {patterns.difficulty:,} keys on average "
            f"(about {format_duration(patterns.difficulty / speed)} on {args.cores} core(s))."
        )
    live = sys.stderr.isatty()

    def progress(tried: int, rate: float) -> None:
        if live:
            chance = found_probability(tried, patterns.difficulty)
            _eprint(f"\r{tried:,} keys, {rate:,.0f} keys/s, {chance:.0%} chance so far ", end="")

    result = search(
        patterns,
        cores=args.cores,
        compressed=not args.uncompressed,
        base=requester,
        on_progress=progress,
    )
    if live:
        _eprint("")
    doc = result_document(result, requester.format().hex() if requester else None)
    if "wif" in doc:  # the whole key was found here (no split key)
        logs.redact(doc["wif"])
        logs.redact(result.match.scalar.to_bytes(32, "big"))  # type: ignore[union-attr]
    if args.json:
        doc.pop("public_key", None)
        doc.pop("compressed", None)
        print(json.dumps(doc))
        return 0
    print(f"Address: {doc['address']}")
    if "wif" in doc:
        print(f"Private key (WIF): {doc['wif']}")
    else:
        print(f"Partial private key: {doc['partial_private_key']}")
        print("Combine it with your secret: deskgrid vanity-combine ADDRESS PARTIAL_KEY")
    print(f"Keys tried: {doc['keys_tried']:,} in {doc['seconds']:.1f} s")
    return 0


def run_combine(args: argparse.Namespace) -> int:
    try:
        partial = int(args.partial_private_key.strip().removeprefix("0x"), 16)
    except ValueError:
        raise DeskGridError("The partial key must be hexadecimal (64 digits).") from None
    if sys.stdin.isatty():
        secret_text = getpass.getpass("Your secret (WIF private key): ")
    else:
        secret_text = sys.stdin.readline()
    logs.redact(secret_text.strip())
    try:
        secret, compressed = wif_decode(secret_text)
    except InvalidKeyError as exc:
        raise DeskGridError(f"Your secret is not usable: {exc}.") from None
    logs.redact(secret.to_bytes(32, "big"))
    final, wif = combine(secret, partial, args.address, compressed)
    logs.redact(final.to_bytes(32, "big"))
    logs.redact(wif)
    if args.json:
        print(json.dumps({"address": args.address, "wif": wif}))
    else:
        print(f"Address: {args.address}\nPrivate key (WIF): {wif}")
    return 0

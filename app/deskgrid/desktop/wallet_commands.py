"""`deskgrid wallet create | import | show | send | stake | unstake`: the desktop app's wallets
from a terminal.

The wallets are the app's own: a wallet made here is listed in the app (the settings file)
and its key is kept where the app keeps new keys (the OS keyring, else an encrypted keystore
file, v3 scrypt, in `<data>/keystores`, the same file format the app reads), and the other way
round. Secrets never come from the command line, where other users could read them in the
process list: passwords from $DESKGRID_KEY_PASSWORD or a prompt, private keys and recovery
phrases from a file or a prompt.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskgrid.argtypes import argument_type, existing_file, text, url
from deskgrid.chain.addresses import check_address
from deskgrid.chain.keyfile import PASSWORD_ENV
from deskgrid.desktop.settings import SettingsStore
from deskgrid.errors import DeskGridError
from deskgrid.money import format_eth, format_fee, format_rlc, parse_eth, parse_rlc
from deskgrid.wallet.accounts import (
    account_from_keystore_json,
    account_from_mnemonic,
    account_from_private_key,
    create_account,
)
from deskgrid.wallet.entries import WalletEntry
from deskgrid.wallet.keystores import FileKeyStore, KeyStore, default_key_store
from deskgrid.wallet.manager import WalletManager

if TYPE_CHECKING:
    from deskgrid.wallet.service import Quote, WalletService


def register(subparsers: argparse._SubParsersAction) -> None:
    wallet = subparsers.add_parser(
        "wallet",
        help="create, import, show, send from and stake with the app's wallets",
        description=__doc__.split("\n\n")[0],
    )
    sub = wallet.add_subparsers(dest="wallet_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="a new wallet with a 12-word recovery phrase")
    _add_name(create, "Main")
    _add_storage(create)
    _add_json(create)
    create.set_defaults(handler=_create)

    imported = sub.add_parser(
        "import", help="a wallet from a private key, a recovery phrase or a keystore file"
    )
    _add_name(imported, "Imported")
    source = imported.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--private-key-file", type=existing_file("key file"), help="a file holding the hex key"
    )
    source.add_argument(
        "--mnemonic-file", type=existing_file("phrase file"), help="a file holding the phrase"
    )
    source.add_argument(
        "--keystore", type=existing_file("keystore file"), help="a keystore JSON file (v3)"
    )
    source.add_argument(
        "--prompt", choices=("private-key", "mnemonic"), help="type the secret at a prompt"
    )
    _add_storage(imported)
    _add_json(imported)
    imported.set_defaults(handler=_import)

    show = sub.add_parser("show", help="the wallets, and with --chain their balances")
    show.add_argument(
        "wallet",
        nargs="?",
        type=text("a wallet's name or address", max_length=100),
        help="a wallet's name or address (default: all)",
    )
    _add_network(show, required=False)
    _add_json(show)
    show.add_argument(
        "--field",
        choices=("address", "key-file"),
        help="print only this of the wallet named, for scripts: its address, or its keystore "
        "file (for the --key-file of other commands)",
    )
    show.set_defaults(handler=_show)

    send = sub.add_parser("send", help="send RLC or ETH, after showing the fee")
    _add_sender(send, "the wallet's name or address")
    send.add_argument("--to", required=True, type=_address, help="the recipient's address")
    send.add_argument(
        "--amount",
        required=True,
        type=argument_type(_amount_check, "amount"),
        help="how much, e.g. 12.5 or 1,000",
    )
    send.add_argument("--asset", choices=("RLC", "ETH"), default="RLC", help="default: RLC")
    send.add_argument("--yes", action="store_true", help="do not ask before sending")
    _add_network(send, required=True)
    _add_json(send)
    send.set_defaults(handler=_send)

    _add_stake_command(
        sub,
        "stake",
        "stake free escrow RLC on the hub (volunteers' workers need stake for jobs of apps "
        "without a verifier), after showing the fee",
        _amount_check,
        "RLC from the wallet's free hub escrow, e.g. 2 or 12.5",
    ).set_defaults(handler=_stake)
    _add_stake_command(
        sub,
        "unstake",
        "take stake no task holds locked back into the escrow, after showing the fee",
        _amount_or_all,
        "RLC of the wallet's free stake, e.g. 2, or 'all' for all of it",
    ).set_defaults(handler=_unstake)


# -- options --------------------------------------------------------------------------------


_address = argument_type(check_address, "address")


def _amount_check(value: str) -> str:
    """A positive amount (the asset's own parser checks its decimals when sending)."""
    from decimal import Decimal, InvalidOperation

    stripped = value.strip()
    try:
        amount = Decimal(stripped.replace(",", ""))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount > Decimal(10) ** 12:
        raise DeskGridError(
            f"'{value}' is not an amount to send: give a number more than 0, such as 12.5."
        )
    return stripped


def _amount_or_all(value: str) -> str:
    """A positive amount, or "all"."""
    return "all" if value.strip().lower() == "all" else _amount_check(value)


def _add_stake_command(
    sub: argparse._SubParsersAction,
    name: str,
    what: str,
    amount_check: Callable[[str], str],
    amount_help: str,
) -> argparse.ArgumentParser:
    """`stake` or `unstake`: AMOUNT, the wallet whose stake it is, the network, --yes, --json."""
    parser = sub.add_parser(name, help=what)
    parser.add_argument(
        "amount", metavar="AMOUNT", type=argument_type(amount_check, "amount"), help=amount_help
    )
    _add_sender(parser, "the wallet whose stake it is (the volunteer's payout wallet)")
    parser.add_argument("--yes", action="store_true", help="do not ask before sending")
    _add_network(parser, required=True)
    _add_json(parser)
    return parser


def _add_sender(parser: argparse.ArgumentParser, what: str) -> None:
    """--from: the app's wallet that signs, by name or address."""
    parser.add_argument(
        "--from",
        dest="sender",
        required=True,
        type=text("the wallet's name or address", max_length=100),
        help=what,
    )


def _add_name(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--name",
        default=default,
        type=text("the wallet's name", max_length=100),
        help="the wallet's name",
    )


def _add_storage(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keystore-file",
        action="store_true",
        help="keep the key in an encrypted keystore file even when a system keyring works",
    )


def _add_network(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--chain", type=url("RPC URL"), required=required, help="the JSON-RPC URL")
    parser.add_argument(
        "--hub", type=_address, required=required, help="the hub contract's address"
    )


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


# -- secrets --------------------------------------------------------------------------------


def _password(*, new: bool) -> str:
    """From $DESKGRID_KEY_PASSWORD, else a prompt (twice for a new one)."""
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    if not sys.stdin.isatty():
        raise DeskGridError(
            f"Set {PASSWORD_ENV} or run this in a terminal to type the wallet's password."
        )
    password = getpass.getpass("Password of the wallet: ")
    if new and getpass.getpass("The same password again: ") != password:
        raise DeskGridError("The two passwords differ; type the same password twice.")
    return password


def _read_secret_file(path: Path, what: str) -> str:
    try:
        return path.expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise DeskGridError(f"Cannot read the {what} file {path} ({exc.strerror}).") from None


def _manager(args: argparse.Namespace) -> WalletManager:
    store: KeyStore = FileKeyStore() if args.keystore_file else default_key_store()
    return WalletManager(SettingsStore(), new_store=store)


# -- actions --------------------------------------------------------------------------------


def _create(args: argparse.Namespace) -> int:
    manager = _manager(args)
    manager.check_name(args.name)
    password = _password(new=True) if manager.new_wallet_needs_password else None
    new = create_account()
    entry = manager.add(args.name, new.account, password)
    report = {**_entry_json(entry), "recovery_phrase": new.mnemonic}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"created wallet '{entry.name}' {entry.address} (key in {_where(entry)})")
        print("Write these 12 words down, in order, and keep them offline; they are the only")
        print("way to restore the wallet, and anyone who has them controls its funds:")
        print(f"  {new.mnemonic}")
    return 0


def _import(args: argparse.Namespace) -> int:
    manager = _manager(args)
    manager.check_name(args.name)
    if args.keystore is not None:
        text = _read_secret_file(args.keystore, "keystore")
        account = account_from_keystore_json(text, _password(new=False))
    elif args.private_key_file is not None:
        account = account_from_private_key(_read_secret_file(args.private_key_file, "key"))
    elif args.mnemonic_file is not None:
        account = account_from_mnemonic(_read_secret_file(args.mnemonic_file, "phrase"))
    elif args.prompt == "private-key":
        account = account_from_private_key(getpass.getpass("Private key (hex): "))
    else:
        account = account_from_mnemonic(getpass.getpass("Recovery phrase: "))
    password = _password(new=True) if manager.new_wallet_needs_password else None
    entry = manager.add(args.name, account, password)
    if args.json:
        print(json.dumps(_entry_json(entry)))
    else:
        print(f"imported wallet '{entry.name}' {entry.address} (key in {_where(entry)})")
    return 0


def _find(manager: WalletManager, wanted: str) -> WalletEntry:
    for entry in manager.entries():
        if wanted.lower() in (entry.name.lower(), entry.address.lower()):
            return entry
    names = ", ".join(f"'{e.name}'" for e in manager.entries()) or "none yet"
    raise DeskGridError(
        f"No wallet is called or has the address '{wanted}' (wallets: {names}); "
        "see `deskgrid wallet show`."
    )


def _show(args: argparse.Namespace) -> int:
    manager = WalletManager(SettingsStore(), new_store=FileKeyStore())
    if args.field:
        return _show_field(manager, args)
    entries = [_find(manager, args.wallet)] if args.wallet else manager.entries()
    if bool(args.chain) != bool(args.hub):
        raise DeskGridError("Give both --chain and --hub to see balances, or neither.")
    rows: list[dict[str, Any]] = [_entry_json(e) for e in entries]
    if args.chain:
        chain, market = _open(args.chain, args.hub)
        try:
            from deskgrid.wallet.service import WalletReader

            for row in rows:
                reader = WalletReader(chain, market, row["address"])
                b = reader.balances()
                stake = reader.hub.stake_info(row["address"])
                row.update(
                    eth_wei=b.eth, rlc_nrlc=b.rlc, escrow_nrlc=b.escrow, locked_nrlc=b.locked,
                    stake_nrlc=stake.amount, stake_locked_nrlc=stake.locked,
                    wins=stake.wins, losses=stake.losses,
                )  # fmt: skip
        finally:
            chain.close()
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print("No wallet yet: `deskgrid wallet create` or `deskgrid wallet import`.")
    for row in rows:
        print(f"{row['name']:20} {row['address']}  key in {row['storage']}")
        if "eth_wei" in row:
            print(
                f"{'':20} {format_rlc(row['rlc_nrlc'])}, {format_eth(row['eth_wei'])}; escrow "
                f"{format_rlc(row['escrow_nrlc'])} free, {format_rlc(row['locked_nrlc'])} locked"
            )
            print(
                f"{'':20} stake {format_rlc(row['stake_nrlc'])}, "
                f"{format_rlc(row['stake_locked_nrlc'])} locked by tasks; reputation "
                f"{row['wins']:,} won / {row['losses']:,} out-voted"
            )
    return 0


def _show_field(manager: WalletManager, args: argparse.Namespace) -> int:
    if not args.wallet or args.chain or args.hub or args.json:
        raise DeskGridError(
            "--field prints one thing of one wallet: name it, without --chain, --hub or --json."
        )
    entry = _find(manager, args.wallet)
    if args.field == "address":
        print(entry.address)
        return 0
    if entry.storage != "keystore":
        raise DeskGridError(
            f"Wallet '{entry.name}' keeps its key in the system keyring, not in a file; "
            "create or import a wallet with --keystore-file to use it with --key-file."
        )
    print(_key_file(entry))
    return 0


def _send(args: argparse.Namespace) -> int:
    amount = parse_rlc(args.amount) if args.asset == "RLC" else parse_eth(args.amount)
    return _transact(args, lambda service: service.quote_send(args.asset, args.to, amount))


def _stake(args: argparse.Namespace) -> int:
    amount = parse_rlc(args.amount)
    return _transact(args, lambda service: service.quote_stake(amount), verb="Stake")


def _unstake(args: argparse.Namespace) -> int:
    def quote(service: WalletService) -> Quote:
        if args.amount != "all":
            return service.quote_unstake(parse_rlc(args.amount))
        stake = service.hub.stake_info(service.address)
        if stake.amount and not stake.free:
            return service.quote_unstake(stake.amount)  # the sentence about locked stake
        if not stake.amount:
            raise DeskGridError(f"Wallet {service.address} has no stake: nothing to unstake.")
        return service.quote_unstake(stake.free)

    return _transact(args, quote, verb="Unstake")


def _transact(
    args: argparse.Namespace,
    quote_of: Callable[[WalletService], Quote],
    *,
    verb: str = "Send",
) -> int:
    """Unlock `args.sender`, quote, ask (unless --yes), send and print the outcome."""
    from deskgrid.wallet.service import WalletService

    manager = WalletManager(SettingsStore(), new_store=FileKeyStore())
    entry = _find(manager, args.sender)
    password = _password(new=False) if manager.needs_password(entry.address) else None
    account = manager.unlock(entry.address, password)
    chain, market = _open(args.chain, args.hub)
    try:
        service = WalletService(chain, market, account)
        quote = quote_of(service)
        if not args.yes:
            if not sys.stdin.isatty():
                raise DeskGridError(
                    f"Add --yes to {verb.lower()} without a terminal to confirm in."
                )
            print(f"{quote.describe()}; network fee up to {format_fee(quote.max_fee_wei)}.")
            if input(f"{verb}? [y/N] ").strip().lower() not in ("y", "yes"):
                print("Nothing was sent.")
                return 1
        record = service.execute(quote)
    finally:
        chain.close()
    if args.json:
        print(json.dumps({"tx_hash": record.tx_hash, "status": record.status}))
    else:
        print(f"{quote.describe()}: transaction {record.tx_hash} {record.status}")
    return 0 if record.status != "failed" else 1


def _open(rpc_url: str, hub: str) -> tuple[Any, Any]:
    from deskgrid.desktop.network import open_market

    return open_market(rpc_url, hub)


def _entry_json(entry: WalletEntry) -> dict[str, Any]:
    return {"name": entry.name, "address": entry.address, "storage": entry.storage}


def _key_file(entry: WalletEntry) -> Path:
    return FileKeyStore().folder / f"{entry.address}.json"


def _where(entry: WalletEntry) -> str:
    if entry.storage == "keyring":
        return "the system keyring"
    return str(_key_file(entry))

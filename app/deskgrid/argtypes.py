"""argparse types for DeskGrid's commands: each refuses a bad value with a sentence (argparse
prints it with the option's name and the usage) before anything starts or is paid.

Every option of every `deskgrid` subcommand that takes a value has one of these types (or
argparse `choices`, or `deskgrid.chain.arguments.address` for an Ethereum address, which
needs the chain layer); `tests/unit/test_cli_options.py` walks the whole command tree and feeds
each option hostile values, so an option added without a type fails it.

Paths: a file that must exist (a keystore, a token file) is checked to exist; a file that
may be created (a database, a token file made on first start) is an existing file, or a new
one in an existing folder whose name ends in the expected suffix (.sqlite, .sqlite3 or .db
for a database; .token or .txt for a token file), so that a slip such as `--db garbage` is
refused instead of leaving a file named `garbage` in the current folder. A data folder may be
new, inside an existing folder.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from deskgrid.errors import DeskGridError

T = TypeVar("T")

DATABASE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
MAX_TEXT = 200


def argument_type(check: Callable[[str], T], name: str = "value") -> Callable[[str], T]:
    """An argparse type from a check that raises DeskGridError with a sentence."""

    def convert(text: str) -> T:
        try:
            return check(text)
        except DeskGridError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name  # argparse names the type in some messages
    return convert


def whole_number(low: int, high: int, what: str) -> Callable[[str], int]:
    """A whole number from `low` to `high`."""

    def check(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise DeskGridError(f"'{text}' is not {what}: give a whole number.") from None
        if not low <= value <= high:
            raise DeskGridError(f"Give {what} from {low} to {high}, not {value}.")
        return value

    return argument_type(check, what)


def port(*, allow_zero: bool = False) -> Callable[[str], int]:
    """A TCP port, 1-65535 (0 too when it means "a free one")."""
    if allow_zero:
        return whole_number(0, 65535, "a port (0 for any free one)")
    return whole_number(1, 65535, "a port")


def cores() -> Callable[[str], int]:
    """A number of cores: 1 to this computer's."""
    return whole_number(1, os.cpu_count() or 1, "a number of cores (this computer's at most)")


def decimal_number(
    low: float, high: float, what: str, *, above_low: bool = False
) -> Callable[[str], float]:
    """A finite number from `low` (excluded with `above_low`) to `high`."""

    def check(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise DeskGridError(f"'{text}' is not {what}: give a number.") from None
        if not math.isfinite(value):
            raise DeskGridError(f"Give {what} as a finite number, not {text.strip()}.")
        if value < low or (above_low and value == low) or value > high:
            if above_low:
                span = f"more than {_shown(low)} and at most {_shown(high)}"
            else:
                span = f"from {_shown(low)} to {_shown(high)}"
            raise DeskGridError(f"Give {what} {span}, not {text.strip()}.")
        return value

    return argument_type(check, what)


def _shown(number: float) -> str:
    return f"{number:,.0f}" if number == int(number) else f"{number:g}"


def seconds(
    what: str, *, high: float = 365 * 86400.0, zero: bool = False
) -> Callable[[str], float]:
    """A duration in seconds, more than 0 (or 0 too), at most a year unless told."""
    return decimal_number(0.0, high, what, above_low=not zero)


def url(what: str, schemes: Iterable[str] = ("http", "https")) -> Callable[[str], str]:
    """A URL of one of `schemes` with a host and a valid port (`what` names it)."""
    from deskgrid.urls import check_url

    allowed = tuple(schemes)
    return argument_type(lambda text: check_url(text, what, allowed), what)


def text(what: str, *, max_length: int = MAX_TEXT) -> Callable[[str], str]:
    """A non-empty printable text of at most `max_length` characters, stripped."""

    def check(value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise DeskGridError(f"Give {what}: it cannot be empty.")
        if len(stripped) > max_length or not stripped.isprintable():
            raise DeskGridError(
                f"Give {what} as printable text of at most {max_length} characters."
            )
        return stripped

    return argument_type(check, what)


def existing_file(what: str) -> Callable[[str], Path]:
    """A file that exists."""

    def check(value: str) -> Path:
        if not value.strip():
            raise DeskGridError(f"Give the {what}: the path cannot be empty.")
        path = Path(value).expanduser()
        if not path.is_file():
            where = "is a folder" if path.is_dir() else "does not exist"
            raise DeskGridError(f"The {what} {value} {where}; give the path of an existing file.")
        return path

    return argument_type(check, what)


def new_or_existing_file(what: str, suffixes: Iterable[str] = ()) -> Callable[[str], Path]:
    """A file that exists or can be created: its folder exists; with `suffixes`, its name ends
    in one of them (so that a mistyped value does not become a stray file)."""
    endings = tuple(suffixes)

    def check(value: str) -> Path:
        if not value.strip():
            raise DeskGridError(f"Give the {what}: the path cannot be empty.")
        path = Path(value).expanduser()
        if path.is_dir():
            raise DeskGridError(f"The {what} {value} is a folder; give a file's path.")
        if path.is_file():
            return path
        if endings and path.suffix.lower() not in endings:
            raise DeskGridError(
                f"The {what} must be an existing file or a new one ending in "
                f"{' or '.join(endings)}, not {value}."
            )
        if not path.parent.is_dir():
            raise DeskGridError(
                f"The folder of the {what} ({path.parent}) does not exist; create it first."
            )
        return path

    return argument_type(check, what)


def folder(what: str) -> Callable[[str], Path]:
    """A folder that exists, or a new one inside an existing folder."""

    def check(value: str) -> Path:
        if not value.strip():
            raise DeskGridError(f"Give the {what}: the path cannot be empty.")
        path = Path(value).expanduser()
        if path.exists() and not path.is_dir():
            raise DeskGridError(f"The {what} {value} is a file; give a folder.")
        if not path.exists() and not path.absolute().parent.is_dir():
            raise DeskGridError(
                f"Neither the {what} {value} nor its parent folder exists; create it first."
            )
        return path

    return argument_type(check, what)


def existing_folder(what: str) -> Callable[[str], Path]:
    """A folder that exists (one to read from)."""

    def check(value: str) -> Path:
        if not value.strip():
            raise DeskGridError(f"Give the {what}: the path cannot be empty.")
        path = Path(value).expanduser()
        if not path.is_dir():
            where = "is a file" if path.exists() else "does not exist"
            raise DeskGridError(f"The {what} {value} {where}; give an existing folder.")
        return path

    return argument_type(check, what)


_HOST_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")


def host() -> Callable[[str], str]:
    """An address to listen on: an IP address or a host name (not a URL, not a bare number)."""

    def check(value: str) -> str:
        stripped = value.strip()
        try:
            ipaddress.ip_address(stripped)
            return stripped
        except ValueError:
            pass
        if not _HOST_NAME.fullmatch(stripped) or stripped.replace(".", "").isdigit():
            raise DeskGridError(
                f"'{value}' is not an address to listen on: give an IP address such as "
                "127.0.0.1 or 0.0.0.0, or a host name."
            )
        return stripped

    return argument_type(check, "host")


def network(what: str) -> Callable[[str], str]:
    """An IP address or a network in CIDR notation (192.0.2.0/24)."""

    def check(value: str) -> str:
        try:
            return str(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise DeskGridError(
                f"'{value}' is not {what}: give an IP address or a network such as 192.0.2.0/24."
            ) from None

    return argument_type(check, what)

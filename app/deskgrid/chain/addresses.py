"""Ethereum addresses typed by people: checked (EIP-55) with a sentence for every mistake."""

from __future__ import annotations

import re

from eth_utils import is_checksum_address, to_checksum_address

from deskgrid.errors import DeskGridError

_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
ZERO_ADDRESS = "0x" + "0" * 40


def short_address(address: str) -> str:
    """0x1234…abcd, for labels and messages."""
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address


def check_address(text: str, *, what: str = "address") -> str:
    """The checksummed form of `text`, or a DeskGridError that says what is wrong.

    All-lowercase (or all-uppercase) addresses carry no checksum and are accepted; a mixed-case
    address must match its EIP-55 checksum, because a wrong mix usually means a typo.
    """
    value = (text or "").strip()
    if not value:
        raise DeskGridError(
            f"Enter the {what}: 0x followed by 40 hexadecimal characters (0-9, a-f)."
        )
    if not value.startswith("0x") and re.fullmatch(r"[0-9a-fA-F]{40}", value):
        value = "0x" + value
    if not _HEX_ADDRESS.match(value):
        shown = value if len(value) <= 50 else value[:47] + "…"
        raise DeskGridError(
            f"'{shown}' is not an Ethereum {what}: it should be 0x followed by 40 hexadecimal "
            "characters (0-9, a-f); copy it again from its source."
        )
    body = value[2:]
    mixed = body != body.lower() and body != body.upper()
    if mixed and not is_checksum_address(value):
        raise DeskGridError(
            f"The {what} {short_address(value)} has a wrong mix of capital letters (its EIP-55 "
            "checksum does not match), which usually means a typo; copy the address again."
        )
    checksummed = to_checksum_address(value)
    if checksummed == ZERO_ADDRESS:
        raise DeskGridError(
            f"The {what} is the zero address: anything sent there is lost; enter a real address."
        )
    return checksummed

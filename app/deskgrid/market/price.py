"""An app's price as a person writes it (RLC per task), checked against what the hub keeps."""

from __future__ import annotations

from deskgrid.errors import DeskGridError
from deskgrid.money import format_rlc, parse_rlc

MAX_PRICE = 2**96 - 1  # nRLC: the hub keeps prices in 96 bits


def parse_price(text: str) -> int:
    """nRLC from `text` such as '0.5' or '1,000' (0: a free app), else a sentence."""
    try:
        price = parse_rlc(text.strip().replace(",", ""))
    except (DeskGridError, ValueError, ArithmeticError):
        price = -1
    if not 0 <= price <= MAX_PRICE:
        raise DeskGridError(
            f"'{text}' is not a price: give RLC paid to the app's owner per task, such as 0.5 "
            f"(0 for a free app, at most {format_rlc(MAX_PRICE)})."
        )
    return price

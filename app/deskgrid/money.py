"""Exact RLC amounts: integers of nRLC (1 RLC = 10**9 nRLC); never floats."""

from __future__ import annotations

import re

from deskgrid.errors import DeskGridError

RLC_DECIMALS = 9
NRLC_PER_RLC = 10**RLC_DECIMALS
ETH_DECIMALS = 18

_AMOUNT = re.compile(r"^\s*(\d+)(?:\.(\d*))?\s*$|^\s*\.(\d+)\s*$")


def parse_units(text: str, decimals: int, unit: str) -> int:
    """Parse a decimal amount exactly into base units, e.g. '1.5' RLC -> 1_500_000_000."""
    match = _AMOUNT.match(text or "")
    if not match:
        raise DeskGridError(
            f"'{text}' is not an amount of {unit}: write a number such as 12 or 0.5 "
            "(digits and one dot, no sign, no exponent)."
        )
    whole = match.group(1) or "0"
    frac = match.group(2) if match.group(1) is not None else match.group(3)
    frac = frac or ""
    if len(frac) > decimals:
        raise DeskGridError(
            f"'{text}' has more than {decimals} decimal places; {unit} cannot be split finer."
        )
    return int(whole) * 10**decimals + int(frac.ljust(decimals, "0") or "0")


def format_units(amount: int, decimals: int, unit: str = "", *, trim: bool = True) -> str:
    """Format base units as a decimal string, e.g. 1_500_000_000 -> '1.5 RLC'."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**decimals)
    frac_text = str(frac).rjust(decimals, "0")
    if trim:
        frac_text = frac_text.rstrip("0")
    text = f"{sign}{whole}" + (f".{frac_text}" if frac_text else "")
    return f"{text} {unit}".rstrip()


def parse_rlc(text: str) -> int:
    """'2.5' -> 2_500_000_000 nRLC."""
    return parse_units(text, RLC_DECIMALS, "RLC")


def format_rlc(nrlc: int) -> str:
    """2_500_000_000 -> '2.5 RLC'."""
    return format_units(nrlc, RLC_DECIMALS, "RLC")


def parse_eth(text: str) -> int:
    """'0.01' -> 10**16 wei."""
    return parse_units(text, ETH_DECIMALS, "ETH")


def format_eth(wei: int) -> str:
    return format_units(wei, ETH_DECIMALS, "ETH")

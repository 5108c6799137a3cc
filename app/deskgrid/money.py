"""Exact RLC amounts: integers of nRLC (1 RLC = 10**9 nRLC); never floats.

Amounts are shown with their thousands grouped by commas ("1,000,000 RLC") and read back the
same way; a comma that does not group three digits ("1,5") is refused, since it may mean a
decimal comma. Network fees, whose last digits say nothing, are shown to a few significant
digits, rounded up, so a maximum is never understated."""

from __future__ import annotations

import re

from deskgrid.errors import DeskGridError

RLC_DECIMALS = 9
NRLC_PER_RLC = 10**RLC_DECIMALS
ETH_DECIMALS = 18

_AMOUNT = re.compile(r"^\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d*))?\s*$|^\s*\.(\d+)\s*$")


def parse_units(text: str, decimals: int, unit: str) -> int:
    """Parse a decimal amount exactly into base units, e.g. '1.5' RLC -> 1_500_000_000."""
    match = _AMOUNT.match(text or "")
    if not match:
        raise DeskGridError(
            f"'{text}' is not an amount of {unit}: write a number such as 12, 0.5 or 1,000 "
            "(digits, one dot, commas only between groups of three digits; no sign, no "
            "exponent)."
        )
    whole = (match.group(1) or "0").replace(",", "")
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
    text = f"{sign}{whole:,}" + (f".{frac_text}" if frac_text else "")
    return f"{text} {unit}".rstrip()


def format_units_approx(amount: int, decimals: int, unit: str = "", significant: int = 3) -> str:
    """`amount` to `significant` digits, rounded up (away from zero): 123456789012345 wei ->
    '0.000124 ETH'. It never rounds to coarser than one whole unit."""
    magnitude = abs(amount)
    step = 10 ** max(0, len(str(magnitude)) - significant)
    step = min(step, 10**decimals)  # never round the whole part
    rounded = -(-magnitude // step) * step
    return format_units(rounded if amount >= 0 else -rounded, decimals, unit)


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


def format_fee(wei: int) -> str:
    """A network fee in ETH to three significant digits, rounded up: '0.000124 ETH'."""
    return format_units_approx(wei, ETH_DECIMALS, "ETH")

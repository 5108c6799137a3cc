"""Vanity patterns: validation, numeric ranges and difficulty.

A P2PKH address is Base58 of the 25-byte value V = 0x00 ‖ hash160 ‖ checksum, read as an
integer below 2**192. Each leading zero byte of V is a leading '1' and the rest is V in base
58, so "the address starts with this prefix" is "V lies in a union of intervals". The search
compares hash160 digests (bytes, in order) against those intervals divided by 2**32 — no Base58
in the hot loop — and confirms the rare hits on the full address.

Difficulty is computed as vanitygen does: 2**192 divided by the measure of the intervals
(`1LoVE` → 4,476,342 keys on average).
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from dataclasses import dataclass

from deskgrid.apps.sdk import AppParamsError
from deskgrid.apps.vanity.base58 import ALPHABET, INDEX

SPACE = 1 << 192  # all 25-byte values that start with the version byte 0x00
MAX_CASE_VARIANTS = 1 << 14
HASH_TOP = b"\xff" * 21  # compares above every 20-byte digest: the bound 2**160


class PatternError(AppParamsError):
    """A pattern that cannot be searched; the message says why and what to do."""


def _zero_prefix(prefix: str) -> int:
    return len(prefix) - len(prefix.lstrip("1"))


def _check_characters(prefix: str, case_insensitive: bool) -> None:
    if not prefix:
        raise PatternError("The pattern is empty: give a prefix such as 1LoVE.")
    for char in prefix:
        options = {char, char.lower(), char.upper()} if case_insensitive else {char}
        if not options & INDEX.keys():
            raise PatternError(
                f"Pattern '{prefix}' has the invalid character '{char}': Bitcoin addresses use "
                "Base58, which has no 0 (zero), O (capital o), I (capital i) or l (lower-case L)."
            )
    if prefix[0] != "1":
        raise PatternError(
            f"Pattern '{prefix}' cannot occur: Bitcoin P2PKH addresses always start with '1'."
        )


def _check_length(prefix: str) -> None:
    """vanitygen's rule: the prefix may not reach into the 4-byte checksum's digits."""
    zeros = _zero_prefix(prefix)
    if zeros > 19:
        raise PatternError(f"Pattern '{prefix}' is too long: it has more than 19 leading 1s.")
    if zeros == len(prefix):
        return
    ceiling = (1 << (200 - 8 * zeros)) - 1
    digits = 0
    while ceiling > 58:
        ceiling //= 58
        digits += 1
    rest = len(prefix) - zeros
    if digits - rest < 6:
        raise PatternError(
            f"Pattern '{prefix}' is too long: at most {digits - 6} characters may follow the "
            f"leading {'1' * zeros}."
        )


def value_ranges(prefix: str) -> list[tuple[int, int]]:
    """The half-open intervals of V (0 <= V < 2**192) whose address starts with `prefix`.

    The prefix must already have valid characters; an empty list means it cannot occur.
    """
    zeros = _zero_prefix(prefix)
    rest = prefix[zeros:]
    top = 1 << (200 - 8 * zeros)  # fewer than `zeros` leading zero bytes above this
    if not rest:
        return [(0, min(top, SPACE))]
    floor = 1 << (192 - 8 * zeros)  # more leading zero bytes below this
    value = 0
    for char in rest:
        value = value * 58 + INDEX[char]
    out = []
    scale = 1
    while value * scale < top:
        low, high = max(value * scale, floor), min((value + 1) * scale, top, SPACE)
        if low < high:
            out.append((low, high))
        scale *= 58
    return out


def merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if out and low <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out


def case_variants(prefix: str) -> list[str]:
    """Every spelling of the prefix with letters in either case, Base58 characters only."""
    choices = []
    for char in prefix:
        options = sorted({char.upper(), char.lower()} & INDEX.keys(), key=ALPHABET.index)
        choices.append(options)
    count = math.prod(len(c) for c in choices)
    if count > MAX_CASE_VARIANTS:
        raise PatternError(
            f"Pattern '{prefix}' has too many case variants ({count}) for a case-insensitive "
            "search: shorten it or search case-sensitively."
        )
    return ["".join(p) for p in itertools.product(*choices)]


def _to_hash_bound(value: int) -> bytes:
    return HASH_TOP if value >= 1 << 160 else value.to_bytes(20, "big")


@dataclass(frozen=True)
class PatternSet:
    """One or several prefixes, validated, with their ranges and difficulty."""

    patterns: tuple[str, ...]
    case_insensitive: bool
    ranges: tuple[tuple[int, int], ...]  # merged half-open intervals of V
    hash_lows: tuple[bytes, ...]  # merged hash160 intervals, as 20-byte bounds
    hash_highs: tuple[bytes, ...]

    @property
    def measure(self) -> int:
        return sum(high - low for low, high in self.ranges)

    @property
    def difficulty(self) -> int:
        """Keys to try on average for one match (vanitygen's figure)."""
        return SPACE // self.measure

    @property
    def probability(self) -> float:
        """Chance that one random key matches."""
        return self.measure / SPACE

    def hash_may_match(self, digest: bytes) -> bool:
        """True when the hash160 lies in a candidate interval (confirm with `matches`)."""
        i = bisect_right(self.hash_lows, digest)
        return i > 0 and digest < self.hash_highs[i - 1]

    def matches(self, address: str) -> bool:
        if self.case_insensitive:
            low = address.lower()
            return any(low.startswith(p.lower()) for p in self.patterns)
        return any(address.startswith(p) for p in self.patterns)


def compile_patterns(patterns: list[str] | tuple[str, ...], case_insensitive: bool = False):
    """Validate the prefixes and compute their search ranges; raises PatternError."""
    if not patterns:
        raise PatternError("Give at least one pattern, such as 1LoVE.")
    cleaned = []
    ranges: list[tuple[int, int]] = []
    for raw in patterns:
        prefix = raw.strip()
        _check_characters(prefix, case_insensitive)
        _check_length(prefix)
        variants = case_variants(prefix) if case_insensitive else [prefix]
        found = [r for v in variants for r in value_ranges(v)]
        if not found:
            raise PatternError(
                f"Pattern '{prefix}' cannot occur: no P2PKH address starts with it (after the "
                "leading 1, these characters would need a value larger than any address has)."
            )
        cleaned.append(prefix)
        ranges.extend(found)
    merged = merge(ranges)
    hash_ranges = merge([(low >> 32, ((high - 1) >> 32) + 1) for low, high in merged])
    return PatternSet(
        patterns=tuple(cleaned),
        case_insensitive=case_insensitive,
        ranges=tuple(merged),
        hash_lows=tuple(_to_hash_bound(low) for low, _ in hash_ranges),
        hash_highs=tuple(_to_hash_bound(high) for _, high in hash_ranges),
    )


def expected_seconds(difficulty: int, keys_per_second: float) -> float:
    """Mean time to a match at the given speed."""
    return difficulty / keys_per_second


def seconds_for_probability(difficulty: int, keys_per_second: float, probability: float) -> float:
    """Time after which a match has been found with the given probability (e.g. 0.5)."""
    return -math.log1p(-probability) * difficulty / keys_per_second


def found_probability(keys_tried: int, difficulty: int) -> float:
    """Chance of having found a match after trying this many keys (the progress figure)."""
    return -math.expm1(-keys_tried / difficulty)


def format_duration(seconds: float) -> str:
    """A duration for people: '0.4 s', '12 s', '3 min', '5.2 h', '41 days', '3.1 years'."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    if seconds < 2 * 31557600:
        return f"{seconds / 86400:.0f} days"
    return f"{seconds / 31557600:,.1f} years"

"""Pattern validation, ranges and difficulty."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskgrid.apps.vanity.base58 import b58encode
from deskgrid.apps.vanity.keys import address_from_hash160
from deskgrid.apps.vanity.pattern import (
    PatternError,
    case_variants,
    compile_patterns,
    expected_seconds,
    format_duration,
    found_probability,
    seconds_for_probability,
    value_ranges,
)


def test_difficulty_of_1love_is_vanitygens() -> None:
    assert compile_patterns(["1LoVE"]).difficulty == 4_476_342


def test_difficulty_figures() -> None:
    assert compile_patterns(["1"]).difficulty == 1
    assert compile_patterns(["11"]).difficulty == 256
    # case-insensitive 1love: L and o have one Base58 spelling each, v and e two
    assert compile_patterns(["1love"], case_insensitive=True).difficulty == 4_476_342 // 4


def test_several_patterns_add_up() -> None:
    one = compile_patterns(["1Ab"]).probability
    two = compile_patterns(["1Ab", "1Cd"]).probability
    assert two == pytest.approx(2 * one, rel=0.01)
    assert compile_patterns(["1Ab", "1Ab"]).difficulty == compile_patterns(["1Ab"]).difficulty


def test_expected_time() -> None:
    assert expected_seconds(1000, 100.0) == 10.0
    assert seconds_for_probability(1000, 100.0, 0.5) == pytest.approx(6.931, rel=1e-3)
    assert found_probability(0, 1000) == 0.0
    assert found_probability(1000, 1000) == pytest.approx(0.632, rel=1e-3)
    assert [format_duration(s) for s in (0.42, 12, 600, 36000, 864000, 1e9)] == [
        "0.4 s",
        "12 s",
        "10 min",
        "10.0 h",
        "10 days",
        "31.7 years",
    ]


@pytest.mark.parametrize("char", ["0", "O", "I", "l"])
def test_characters_outside_base58(char: str) -> None:
    with pytest.raises(PatternError, match=f"invalid character '{char}'.*no 0 \\(zero\\)"):
        compile_patterns([f"1Ab{char}"])


def test_case_insensitive_accepts_letters_with_a_base58_case() -> None:
    assert compile_patterns(["1LOVE"], case_insensitive=True).patterns == ("1LOVE",)
    with pytest.raises(PatternError, match="invalid character '0'"):
        compile_patterns(["1L0VE"], case_insensitive=True)


@pytest.mark.parametrize("prefix", ["2abc", "3J98", "A1", "z"])
def test_prefixes_that_cannot_occur(prefix: str) -> None:
    with pytest.raises(PatternError, match="cannot occur.*always start with '1'"):
        compile_patterns([prefix])


def test_too_long() -> None:
    with pytest.raises(PatternError, match="too long: at most 26 characters may follow"):
        compile_patterns(["1" + "a" * 27])
    with pytest.raises(PatternError, match="more than 19 leading 1s"):
        compile_patterns(["1" * 20 + "a"])
    compile_patterns(["1" + "a" * 26])  # the longest accepted


def test_empty_and_missing() -> None:
    with pytest.raises(PatternError, match="empty"):
        compile_patterns([""])
    with pytest.raises(PatternError, match="at least one pattern"):
        compile_patterns([])


def test_too_many_case_variants() -> None:
    with pytest.raises(PatternError, match="too many case variants"):
        compile_patterns(["1abcdefghjkmnpqrs"], case_insensitive=True)


def test_case_variants() -> None:
    assert case_variants("1love") == ["1LoVE", "1LoVe", "1LovE", "1Love"]


def test_every_first_character_after_1_is_possible() -> None:
    # The window of 25-byte values behind one leading '1' spans more than a factor of 58, so
    # every Base58 character can follow it.
    for char in "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz":
        assert value_ranges("1" + char)


def _address_of_value(value: int) -> str:
    return b58encode(value.to_bytes(25, "big"))


@settings(max_examples=60)
@given(st.binary(min_size=20, max_size=20), st.integers(min_value=1, max_value=8))
def test_ranges_agree_with_base58(h160: bytes, length: int) -> None:
    address = address_from_hash160(h160)
    prefix = address[:length]
    patterns = compile_patterns([prefix])
    assert patterns.matches(address)
    assert patterns.hash_may_match(h160)
    ranges = value_ranges(prefix)
    for low, high in ranges:
        assert _address_of_value(low).startswith(prefix)
        assert _address_of_value(high - 1).startswith(prefix)
        if low > 0:
            assert not _address_of_value(low - 1).startswith(prefix)
        if high < 1 << 192:
            assert not _address_of_value(high).startswith(prefix)


@settings(max_examples=200)
@given(
    st.integers(min_value=0, max_value=(1 << 192) - 1),
    st.sampled_from(["1A", "1Ab", "1z", "1LoVE", "11", "112", "1111z", "1R", "12"]),
)
def test_membership_agrees_with_base58(value: int, prefix: str) -> None:
    inside = any(low <= value < high for low, high in value_ranges(prefix))
    assert inside == _address_of_value(value).startswith(prefix)

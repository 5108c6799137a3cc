import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskgrid.errors import DeskGridError
from deskgrid.money import format_eth, format_fee, format_rlc, parse_eth, parse_rlc


@pytest.mark.parametrize(
    "text, nrlc",
    [
        ("1", 10**9),
        ("2.5", 2_500_000_000),
        ("0.000000001", 1),
        (".5", 500_000_000),
        (" 3. ", 3 * 10**9),
        ("0", 0),
    ],
)
def test_parse_rlc(text, nrlc):
    assert parse_rlc(text) == nrlc


@pytest.mark.parametrize("text", ["", "-1", "1e3", "1,5", "abc", "1.2.3", "0.0000000001"])
def test_parse_rlc_refuses_with_a_sentence(text):
    with pytest.raises(DeskGridError) as err:
        parse_rlc(text)
    assert "RLC" in str(err.value)


def test_thousands_are_grouped_and_read_back():
    assert format_rlc(1_000_000 * 10**9) == "1,000,000 RLC"
    assert format_rlc(1_234_567_890_123) == "1,234.567890123 RLC"
    assert format_eth(-(10**21)) == "-1,000 ETH"
    assert parse_rlc("1,000,000.5") == 1_000_000_500_000_000
    assert parse_rlc("999") == 999 * 10**9


@pytest.mark.parametrize("text", ["1,5", "1,00", ",100", "1,0000", "12,34,567", "1,000,"])
def test_a_comma_that_does_not_group_thousands_is_refused(text):
    with pytest.raises(DeskGridError, match="groups of three"):
        parse_rlc(text)


@pytest.mark.parametrize(
    ("wei", "shown"),
    [
        (123_456_789_012_345, "0.000124 ETH"),  # rounded up: a maximum is never understated
        (21_000 * 10**9, "0.000021 ETH"),
        (1, "0.000000000000000001 ETH"),
        (0, "0 ETH"),
        (1_234_567 * 10**18 + 1, "1,234,568 ETH"),
    ],
)
def test_fees_show_three_significant_digits_rounded_up(wei, shown):
    assert format_fee(wei) == shown


def test_format():
    assert format_rlc(2_500_000_000) == "2.5 RLC"
    assert format_rlc(1) == "0.000000001 RLC"
    assert format_rlc(0) == "0 RLC"
    assert format_eth(10**18) == "1 ETH"
    assert parse_eth("0.01") == 10**16


@given(st.integers(min_value=0, max_value=10**30))
def test_round_trip(nrlc):
    assert parse_rlc(format_rlc(nrlc).removesuffix(" RLC")) == nrlc

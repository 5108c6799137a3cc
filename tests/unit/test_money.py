import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskgrid.errors import DeskGridError
from deskgrid.money import format_eth, format_rlc, parse_eth, parse_rlc


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


def test_format():
    assert format_rlc(2_500_000_000) == "2.5 RLC"
    assert format_rlc(1) == "0.000000001 RLC"
    assert format_rlc(0) == "0 RLC"
    assert format_eth(10**18) == "1 ETH"
    assert parse_eth("0.01") == 10**16


@given(st.integers(min_value=0, max_value=10**30))
def test_round_trip(nrlc):
    assert parse_rlc(format_rlc(nrlc).removesuffix(" RLC")) == nrlc

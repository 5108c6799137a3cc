"""An app's price as written: RLC with up to 9 decimals and thousands commas, 0 for a free
app, at most what the hub keeps in 96 bits; anything else is a sentence."""

from __future__ import annotations

import pytest

from deskgrid.errors import DeskGridError
from deskgrid.market.price import MAX_PRICE, parse_price
from deskgrid.money import format_units


@pytest.mark.parametrize(
    ("text", "nrlc"),
    [("0", 0), ("0.5", 500_000_000), (" 1,000 ", 1_000 * 10**9), ("0.000000001", 1)],
)
def test_prices_in_rlc(text, nrlc):
    assert parse_price(text) == nrlc


def test_the_largest_price_the_hub_keeps():
    assert parse_price(format_units(MAX_PRICE, 9)) == MAX_PRICE


@pytest.mark.parametrize(
    "text", ["-1", "abc", "", "0.0000000001", format_units(MAX_PRICE + 1, 9), "1e3"]
)
def test_what_is_not_a_price_is_a_sentence(text):
    with pytest.raises(DeskGridError) as err:
        parse_price(text)
    assert str(err.value).startswith(f"'{text}' is not a price: give RLC paid to the app's owner")

import pytest

from deskgrid.chain.addresses import check_address, short_address
from deskgrid.errors import DeskGridError

GOOD = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # an EIP-55 test vector


def test_checksummed_address_is_accepted():
    assert check_address(GOOD) == GOOD


def test_lowercase_and_bare_hex_are_checksummed():
    assert check_address(GOOD.lower()) == GOOD
    assert check_address("  " + GOOD[2:].lower() + " ") == GOOD


def test_wrong_capitals_are_refused_with_a_sentence():
    miscased = GOOD.replace("aAeb", "aaeb")
    with pytest.raises(DeskGridError, match="wrong mix of capital letters"):
        check_address(miscased)


@pytest.mark.parametrize("text", ["", "0x123", "hello", "0x" + "g" * 40, GOOD + "00"])
def test_malformed_addresses_are_refused(text):
    with pytest.raises(DeskGridError) as err:
        check_address(text, what="recipient address")
    assert "recipient address" in str(err.value)


def test_zero_address_is_refused():
    with pytest.raises(DeskGridError, match="zero address"):
        check_address("0x" + "0" * 40)


def test_short_address():
    assert short_address(GOOD) == "0x5aAe…eAed"

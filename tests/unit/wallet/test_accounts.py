import json
import random

import pytest
from eth_account import Account

from deskgrid.chain.keyfile import encrypt_keystore
from deskgrid.errors import DeskGridError
from deskgrid.wallet.accounts import (
    account_from_keystore_json,
    account_from_mnemonic,
    account_from_private_key,
    check_confirmation,
    confirmation_positions,
    create_account,
)

# The standard development mnemonic: its first account is well known.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def test_create_gives_twelve_words_that_restore_the_same_account():
    new = create_account()
    assert len(new.words) == 12
    assert account_from_mnemonic(new.mnemonic).address == new.account.address


def test_mnemonic_uses_the_standard_path():
    assert account_from_mnemonic(DEV_MNEMONIC).address == DEV_ADDRESS
    assert account_from_mnemonic("  TEST test\ttest test test test test test test test test junk ")


@pytest.mark.parametrize(
    "phrase, words",
    [
        ("test test test", "has 3"),
        ("test test test test test test test test test test test tset", "'tset'"),
        ("test test test test test test test test test test test test", "checksum"),
    ],
)
def test_bad_mnemonics_say_why(phrase, words):
    with pytest.raises(DeskGridError, match=words):
        account_from_mnemonic(phrase)


def test_private_key_with_or_without_prefix():
    assert account_from_private_key(DEV_KEY).address == DEV_ADDRESS
    assert account_from_private_key(DEV_KEY[2:].upper()).address == DEV_ADDRESS


@pytest.mark.parametrize("key", ["", "0x1234", "zz" * 32, "0x" + "0" * 64])
def test_bad_private_keys_are_refused(key):
    with pytest.raises(DeskGridError):
        account_from_private_key(key)


def test_keystore_json_round_trip_and_wrong_password():
    account = Account.from_key(DEV_KEY)
    text = json.dumps(encrypt_keystore(account, "correct horse", scrypt_n=2**10))
    assert account_from_keystore_json(text, "correct horse").address == DEV_ADDRESS
    with pytest.raises(DeskGridError, match="password does not open"):
        account_from_keystore_json(text, "wrong")
    with pytest.raises(DeskGridError, match="not a keystore"):
        account_from_keystore_json("{nope", "x")
    with pytest.raises(DeskGridError, match="not a valid keystore"):
        account_from_keystore_json('{"version": 3}', "x")


def test_confirmation_of_three_words():
    positions = confirmation_positions(rng=random.Random(7))
    assert len(positions) == 3 and positions == sorted(set(positions))
    words = DEV_MNEMONIC.split()
    check_confirmation(DEV_MNEMONIC, {p: words[p].upper() + " " for p in positions})
    with pytest.raises(DeskGridError, match=f"Word {positions[1] + 1}"):
        check_confirmation(DEV_MNEMONIC, {positions[0]: words[positions[0]], positions[1]: "wrong"})

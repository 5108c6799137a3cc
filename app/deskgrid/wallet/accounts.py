"""Creating and importing accounts: BIP-39 mnemonics (m/44'/60'/0'/0/0), private keys and
keystore JSON. The mnemonic of a new wallet is handed out once for display; it is never
stored."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from mnemonic import Mnemonic

from deskgrid import logs
from deskgrid.chain.keyfile import decrypt_keystore
from deskgrid.errors import DeskGridError

DERIVATION_PATH = "m/44'/60'/0'/0/0"
MNEMONIC_WORDS = 12
CONFIRM_WORDS = 3

Account.enable_unaudited_hdwallet_features()
_WORDLIST = Mnemonic("english")


@dataclass(frozen=True)
class NewWallet:
    """A freshly created account and its recovery phrase (show once, then drop)."""

    account: LocalAccount
    mnemonic: str

    @property
    def words(self) -> list[str]:
        return self.mnemonic.split()


def create_account() -> NewWallet:
    """A new account from a new 12-word BIP-39 phrase."""
    account, phrase = Account.create_with_mnemonic(
        num_words=MNEMONIC_WORDS, account_path=DERIVATION_PATH
    )
    logs.redact(phrase)
    logs.redact(account.key)
    return NewWallet(account, phrase)


def normalize_mnemonic(text: str) -> str:
    return " ".join(re.split(r"\s+", (text or "").strip().lower()))


def account_from_mnemonic(text: str) -> LocalAccount:
    """The first account (m/44'/60'/0'/0/0) of a BIP-39 phrase."""
    phrase = normalize_mnemonic(text)
    logs.redact(phrase)
    words = phrase.split() if phrase else []
    if len(words) not in (12, 15, 18, 21, 24):
        raise DeskGridError(
            f"A recovery phrase has 12 or 24 words (sometimes 15, 18 or 21); this one has "
            f"{len(words)}. Type every word, separated by spaces."
        )
    unknown = [w for w in words if w not in _WORDLIST.wordlist]
    if unknown:
        raise DeskGridError(
            f"'{unknown[0]}' is not a word of the BIP-39 English list; check its spelling."
        )
    if not _WORDLIST.check(phrase):
        raise DeskGridError(
            "These words do not form a valid recovery phrase (the checksum word does not "
            "match); check their order and spelling."
        )
    account = Account.from_mnemonic(phrase, account_path=DERIVATION_PATH)
    logs.redact(account.key)
    return account


def account_from_private_key(text: str) -> LocalAccount:
    """An account from a 64-hex-digit private key (with or without 0x)."""
    value = (text or "").strip()
    body = value[2:] if value.lower().startswith("0x") else value
    logs.redact(body)
    if not re.fullmatch(r"[0-9a-fA-F]{64}", body):
        raise DeskGridError(
            "A private key is 64 hexadecimal characters (0-9, a-f), optionally after 0x; "
            "check that you copied all of it."
        )
    try:
        return Account.from_key(bytes.fromhex(body))
    except (ValueError, TypeError):
        raise DeskGridError(
            "This private key is outside the valid range for Ethereum keys; check it."
        ) from None


def account_from_keystore_json(text: str, password: str) -> LocalAccount:
    """An account from the text of an encrypted keystore file (v3) and its password."""
    try:
        keystore = json.loads(text)
    except ValueError:
        raise DeskGridError(
            "This is not a keystore file: choose the JSON file your wallet exported "
            "(Web3 Secret Storage, v3)."
        ) from None
    if not isinstance(keystore, dict):
        raise DeskGridError("This is not a keystore file (v3): choose another JSON file.")
    return decrypt_keystore(keystore, password)


def confirmation_positions(
    count: int = CONFIRM_WORDS, words: int = MNEMONIC_WORDS, rng: random.Random | None = None
) -> list[int]:
    """Which words (0-based, ascending) the person re-types to show they wrote the phrase."""
    chooser = rng or random.SystemRandom()
    return sorted(chooser.sample(range(words), count))


def check_confirmation(mnemonic: str, answers: dict[int, str]) -> None:
    """Raise a sentence naming the first word that does not match (positions are 0-based)."""
    words = mnemonic.split()
    for position in sorted(answers):
        typed = answers[position].strip().lower()
        if typed != words[position]:
            raise DeskGridError(
                f"Word {position + 1} does not match what was shown; look at your written "
                "copy (or go back and write the phrase down again)."
            )

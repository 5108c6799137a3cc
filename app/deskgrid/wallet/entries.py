"""The wallets the app knows, as kept in a wallet book: a name, an address and where the key
lives (never the key itself). The desktop's settings file is the book the app uses."""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel

KeyStorage = Literal["keyring", "keystore"]


class WalletEntry(BaseModel):
    """A wallet the app knows: a name and an address; its key lives in `storage`."""

    name: str
    address: str
    storage: KeyStorage


class WalletBook(Protocol):
    """Where the list of wallets and the selected one are kept."""

    def wallet_entries(self) -> list[WalletEntry]:
        """The wallets, in the order they were added."""
        ...

    def selected_wallet(self) -> str:
        """The selected wallet's address, or ''."""
        ...

    def save_wallets(self, wallets: list[WalletEntry], selected: str) -> None:
        """Keep this list and selection (written at once)."""
        ...

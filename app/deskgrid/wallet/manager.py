"""The wallets the app knows (names and addresses in a wallet book: the settings file) and which
of them are unlocked (their accounts held in memory only, dropped on lock)."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from deskgrid import logs
from deskgrid.chain.addresses import short_address
from deskgrid.errors import DeskGridError
from deskgrid.wallet.entries import KeyStorage, WalletBook, WalletEntry
from deskgrid.wallet.keystores import FileKeyStore, KeyringStore, KeyStore, default_key_store

MAX_NAME = 40


class WalletManager:
    def __init__(
        self,
        book: WalletBook,
        *,
        new_store: KeyStore | None = None,
        stores: dict[KeyStorage, KeyStore] | None = None,
    ) -> None:
        """`new_store` keeps new wallets (default: keyring if usable, else keystore files);
        `stores` opens existing ones by the storage their entry names."""
        self.book = book
        self.new_store = new_store or default_key_store()
        self.stores: dict[KeyStorage, KeyStore] = stores or {}
        self.stores.setdefault(self.new_store.kind, self.new_store)
        self._unlocked: dict[str, LocalAccount] = {}

    def _store(self, entry: WalletEntry) -> KeyStore:
        if entry.storage not in self.stores:
            self.stores[entry.storage] = (
                KeyringStore() if entry.storage == "keyring" else FileKeyStore()
            )
        return self.stores[entry.storage]

    # -- listing ------------------------------------------------------------------------

    def entries(self) -> list[WalletEntry]:
        return self.book.wallet_entries()

    def entry(self, address: str) -> WalletEntry:
        found = next((w for w in self.entries() if w.address == address), None)
        if found is None:
            raise DeskGridError(f"No wallet {short_address(address)} here; add it first.")
        return found

    @property
    def new_wallet_needs_password(self) -> bool:
        return self.new_store.needs_password

    def needs_password(self, address: str) -> bool:
        return self._store(self.entry(address)).needs_password

    # -- adding and removing ------------------------------------------------------------

    def check_name(self, name: str) -> str:
        name = (name or "").strip()
        if not name:
            raise DeskGridError("Give the wallet a name, such as 'Main' or 'Savings'.")
        if len(name) > MAX_NAME:
            raise DeskGridError(f"Keep the wallet name under {MAX_NAME} characters.")
        if any(w.name.lower() == name.lower() for w in self.entries()):
            raise DeskGridError(f"A wallet is already called '{name}'; choose another name.")
        return name

    def add(self, name: str, account: LocalAccount, password: str | None = None) -> WalletEntry:
        """Store the key and list the wallet; the account stays unlocked."""
        name = self.check_name(name)
        existing = next((w for w in self.entries() if w.address == account.address), None)
        if existing is not None:
            raise DeskGridError(
                f"This wallet is already here as '{existing.name}' "
                f"({short_address(account.address)})."
            )
        logs.redact(account.key)
        logs.redact(password)
        self.new_store.save(account, password)
        entry = WalletEntry(name=name, address=account.address, storage=self.new_store.kind)
        self.book.save_wallets([*self.entries(), entry], account.address)
        self._unlocked[account.address] = account
        return entry

    def remove(self, address: str) -> None:
        """Forget a wallet and delete its stored key (the funds stay on the chain)."""
        entry = self.entry(address)
        self._store(entry).delete(address)
        self._unlocked.pop(address, None)
        rest = [w for w in self.entries() if w.address != address]
        selected = self.book.selected_wallet()
        self.book.save_wallets(rest, "" if selected == address else selected)

    def select(self, address: str) -> None:
        self.entry(address)
        self.book.save_wallets(self.entries(), address)

    # -- lock / unlock ------------------------------------------------------------------

    def unlock(self, address: str, password: str | None = None) -> LocalAccount:
        if address in self._unlocked:
            return self._unlocked[address]
        logs.redact(password)
        account = self._store(self.entry(address)).load(address, password)
        logs.redact(account.key)
        self._unlocked[address] = account
        return account

    def lock(self, address: str | None = None) -> None:
        """Drop one unlocked account from memory (all of them without an address)."""
        if address is None:
            self._unlocked.clear()
        else:
            self._unlocked.pop(address, None)

    def account(self, address: str) -> LocalAccount | None:
        """The unlocked account, or None while locked."""
        return self._unlocked.get(address)

    def is_unlocked(self, address: str) -> bool:
        return address in self._unlocked

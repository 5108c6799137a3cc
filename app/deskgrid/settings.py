"""The one settings file (`paths.settings_file()`): network, wallets (addresses only, never
keys), first-run state. Saved atomically."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, Field, ValidationError

from deskgrid import paths
from deskgrid.errors import DeskGridError
from deskgrid.wallet.addresses import check_address
from deskgrid.wallet.jsonfile import read_json, write_json_atomic

log = logging.getLogger(__name__)

NetworkMode = Literal["demo", "network"]
KeyStorage = Literal["keyring", "keystore"]


class WalletEntry(BaseModel):
    """A wallet the app knows: a name and an address; its key lives in `storage`."""

    name: str
    address: str
    storage: KeyStorage


class Settings(BaseModel):
    network_mode: NetworkMode = "demo"
    rpc_url: str = ""
    hub_address: str = ""
    grid_url: str = ""
    confirmations: int = Field(default=1, ge=0, le=64)
    theme_follows_system: bool = True
    notify_job_ends: bool = True  # a notification when a task of the open wallet ends
    wallets: list[WalletEntry] = Field(default_factory=list)
    selected_wallet: str = ""
    first_run_done: bool = False

    @property
    def data_folder(self) -> Path:
        """Where everything is kept. The settings file lives inside it, so it is not itself a
        setting: DESKGRID_HOME moves it."""
        return paths.data_dir()

    def wallet(self, address: str) -> WalletEntry | None:
        return next((w for w in self.wallets if w.address == address), None)


def check_url(text: str, what: str) -> str:
    """An http(s) URL with a host, or a sentence."""
    value = (text or "").strip()
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise DeskGridError(
            f"The {what} must be an http:// or https:// address with a host, such as "
            "http://127.0.0.1:8545."
        )
    return value.rstrip("/")


def check_network(rpc_url: str, hub_address: str, grid_url: str) -> tuple[str, str, str]:
    """Validated network settings (each error is a sentence naming the field)."""
    return (
        check_url(rpc_url, "RPC URL"),
        check_address(hub_address, what="hub contract address"),
        check_url(grid_url, "grid URL"),
    )


class SettingsStore:
    """Loads and saves the settings file; `settings` is the current model."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.settings_file()
        self.settings = self._load()

    def _load(self) -> Settings:
        try:
            data = read_json(self.path)
        except (OSError, ValueError):
            data = "unreadable"
        if data is None:
            return Settings()
        try:
            return Settings.model_validate(data)
        except ValidationError:
            backup = self.path.with_suffix(".json.bad")
            self.path.replace(backup)
            log.warning("Unreadable settings file kept as %s; starting afresh.", backup)
            return Settings()

    def save(self) -> None:
        write_json_atomic(self.path, self.settings.model_dump(mode="json"))

    def update(self, **changes: object) -> Settings:
        """Apply changes (validated) and save."""
        data = self.settings.model_dump()
        data.update(changes)
        try:
            self.settings = Settings.model_validate(data)
        except ValidationError as exc:
            field = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise DeskGridError(f"The setting '{field}' has an invalid value; check it.") from None
        self.save()
        return self.settings

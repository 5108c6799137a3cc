"""The one settings file (`paths.settings_file()`) and its only owner: network, wallets
(addresses only, never keys), first-run state and the volunteer's preferences.

Every change reads the file afresh, applies only the fields it changes and writes the whole
file atomically, so two stores (the app and its tray, or two panes) never erase each other's
settings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from deskgrid import paths
from deskgrid.chain.addresses import check_address
from deskgrid.errors import DeskGridError
from deskgrid.jsonfile import read_json, write_json_atomic
from deskgrid.urls import check_url
from deskgrid.wallet.entries import WalletEntry
from deskgrid.worker.policy import Preferences

log = logging.getLogger(__name__)

NetworkMode = Literal["demo", "network"]


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
    volunteer: Preferences = Field(default_factory=Preferences)
    # where the volunteer's rewards go (a wallet's or any address); "": the open wallet's
    volunteer_payout: str = ""

    @field_validator("volunteer", mode="before")
    @classmethod
    def _readable_preferences(cls, value: Any) -> Any:
        """An unreadable `volunteer` entry gives the default preferences and keeps the rest of
        the file: the worker must start anyway."""
        try:
            return Preferences.model_validate(value)
        except ValidationError:
            log.warning(
                "The volunteer preferences in the settings file were invalid; using the defaults."
            )
            return Preferences()

    @field_validator("volunteer_payout", mode="before")
    @classmethod
    def _readable_payout(cls, value: Any) -> Any:
        """An invalid payout address is forgotten (the open wallet is paid) and the rest of the
        file kept."""
        if value in (None, ""):
            return ""
        try:
            return check_address(str(value), what="payout address")
        except DeskGridError:
            log.warning("The payout address in the settings file was invalid; it is forgotten.")
            return ""

    @property
    def data_folder(self) -> Path:
        """Where everything is kept. The settings file lives inside it, so it is not itself a
        setting: DESKGRID_HOME moves it."""
        return paths.data_dir()

    def wallet(self, address: str) -> WalletEntry | None:
        return next((w for w in self.wallets if w.address == address), None)


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
        """Apply changes (validated) to the file as it is now, and save."""
        data = self._load().model_dump()
        data.update(changes)
        try:
            self.settings = Settings.model_validate(data)
        except ValidationError as exc:
            field = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise DeskGridError(f"The setting '{field}' has an invalid value; check it.") from None
        self.save()
        return self.settings

    # -- the wallet book (wallet.entries.WalletBook) --------------------------------------

    def wallet_entries(self) -> list[WalletEntry]:
        return list(self.settings.wallets)

    def selected_wallet(self) -> str:
        return self.settings.selected_wallet

    def save_wallets(self, wallets: list[WalletEntry], selected: str) -> None:
        self.update(wallets=wallets, selected_wallet=selected)

    # -- the volunteer's preferences ------------------------------------------------------

    def preferences(self) -> Preferences:
        return self.settings.volunteer

    def save_preferences(self, prefs: Preferences) -> None:
        self.update(volunteer=prefs)

    def payout(self) -> str | None:
        """The payout address the volunteer chose, None when none (the open wallet's)."""
        return self.settings.volunteer_payout or None

    def save_payout(self, address: str | None) -> str | None:
        """Choose the payout address (checked and checksummed; None: the open wallet's)."""
        checked = check_address(address, what="payout address") if address else ""
        self.update(volunteer_payout=checked)
        return checked or None

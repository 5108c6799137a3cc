"""What the default deployment registers on-chain: the built-in apps and their prices."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from deskgrid.money import NRLC_PER_RLC

# Prices in nRLC paid to the app owner per task.
APP_PRICES: dict[str, int] = {
    "vanity": 4 * NRLC_PER_RLC,
    "echo": NRLC_PER_RLC // 10,
    "sleep": NRLC_PER_RLC // 10,
    "fail": NRLC_PER_RLC // 10,
    "misbehave": NRLC_PER_RLC // 10,
}
POOL_DESCRIPTION = "DeskGrid volunteer pool"
POOL_FEE = 1 * NRLC_PER_RLC
POOL_WORKER_SHARE_BPS = 7_000  # 70 % of the pool fee goes to the workers
FAUCET_AMOUNT = 1_000_000 * NRLC_PER_RLC


@dataclass(frozen=True)
class AppListing:
    name: str
    uri: str
    params_schema_hash: bytes
    price: int


def schema_hash(schema: dict[str, Any]) -> bytes:
    """keccak256 of the canonical JSON of a parameter schema (what the hub records)."""
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return keccak(text=canonical)


def default_listings() -> list[AppListing]:
    """The built-in apps that have a price, in a stable order."""
    from deskgrid.apps.registry import builtin_apps

    apps = builtin_apps()
    return [
        AppListing(name, apps[name].uri, schema_hash(apps[name].params_schema), price)
        for name, price in APP_PRICES.items()
        if name in apps
    ]

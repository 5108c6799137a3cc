"""What a deployment registers on-chain: DeskGrid's apps and their prices, and on request the
apps of `DESKGRID_APP_MODULES` (the test apps) at a small price."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from deskgrid.errors import DeskGridError
from deskgrid.money import NRLC_PER_RLC

# Prices in nRLC paid to the app owner per task.
APP_PRICES: dict[str, int] = {"vanity": 4 * NRLC_PER_RLC}
TEST_APP_PRICE = NRLC_PER_RLC // 10
POOL_DESCRIPTION = "DeskGrid volunteer pool"
POOL_FEE = 1 * NRLC_PER_RLC
POOL_WORKER_SHARE_BPS = 7_000  # 70 % of the pool fee goes to the workers
FAUCET_AMOUNT = 1_000_000 * NRLC_PER_RLC
# Stake the deployment gives the pool owner (the hub's minimum is 10 RLC; each paid task locks
# 30 % of its price of it) and, on a development chain, each development account (payout
# identities for replicated work: each contribution the scheduler locks takes 30 % of the
# task's price; verified work pays any worker without stake).
POOL_STAKE = 100 * NRLC_PER_RLC
DEV_WORKER_STAKE = 20 * NRLC_PER_RLC


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


def default_listings(*, with_test_apps: bool = False) -> list[AppListing]:
    """DeskGrid's apps that have a price, in a stable order; with `with_test_apps`, also the
    apps of `DESKGRID_APP_MODULES` (a DeskGridError when it names none)."""
    from deskgrid.apps.registry import APP_MODULES_ENV, builtin_apps, extra_app_names

    apps = builtin_apps()
    prices = {name: price for name, price in APP_PRICES.items() if name in apps}
    if with_test_apps:
        extra = extra_app_names()
        if not extra:
            raise DeskGridError(
                f"There are no test apps to register: set {APP_MODULES_ENV}=tests.testapps "
                "(with the repository on PYTHONPATH), or leave out --with-test-apps."
            )
        prices.update(dict.fromkeys(extra, TEST_APP_PRICE))
    return [
        AppListing(name, apps[name].uri, schema_hash(apps[name].params_schema), price)
        for name, price in prices.items()
    ]

"""Wallet fixtures: a keyring per test (never the real one) and an embedded chain with the
marketplace deployed once per session, reverted to the same snapshot for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account

from deskgrid.chain.connection import connect
from deskgrid.chain.deployment import Roles, deploy
from deskgrid.wallet.service import WalletService
from tests.memory_keyring import MemoryKeyring, memory_keyring_in_use

FAST_SCRYPT_N = 2**10


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    with memory_keyring_in_use() as backend:
        yield backend


@pytest.fixture(scope="session")
def _deployed():
    chain = connect("embedded")
    deployment = deploy(chain, Roles.dev(chain))
    snapshot = chain.snapshot()
    yield chain, deployment, snapshot
    chain.close()


@pytest.fixture
def market(_deployed):
    """(chain, deployment) at the state right after deployment."""
    chain, deployment, snapshot = _deployed
    chain.revert(snapshot)
    return chain, deployment


@pytest.fixture
def wallet(market) -> WalletService:
    """A new wallet on the market, given ETH and RLC by the faucet."""
    chain, deployment = market
    service = WalletService(chain, deployment, Account.create())
    service.faucet()
    return service

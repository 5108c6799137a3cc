"""The payout address a worker signs in with is where the chain pays its reward: the worker
key (which a grid sees signing) holds nothing, the volunteer's wallet gets the RLC.

An embedded chain with the default deployment, a real grid server on loopback, the oracle,
and a volunteer signing in with a fresh worker key and a payout address."""

from __future__ import annotations

import pytest
from eth_account import Account

from deskgrid.money import NRLC_PER_RLC as RLC
from tests.integration.oracle.conftest import (  # noqa: F401 - fixtures
    complete_task,
    grid_catalog,
    grid_options,
    setup,
)

pytestmark = pytest.mark.integration


async def test_the_reward_lands_on_the_payout_address(setup) -> None:  # noqa: F811
    worker_key = Account.create()  # the worker's identity only
    wallet = setup.chain.dev_accounts[7].address  # the volunteer's wallet
    before = setup.hub.balance_of(wallet)
    task_id = await complete_task(setup, worker_key, wallet, "paid to the wallet")
    assert setup.hub.balance_of(wallet) - before == RLC * 7 // 10
    assert setup.hub.balance_of(worker_key.address) == 0
    found = await setup.grid.find_job("0x" + task_id.hex())
    assert found is not None
    job = await setup.grid.get_job(found.id)
    [lease] = [lease for lease in job.leases or [] if lease.state == "VALID"]
    assert (lease.worker, lease.payout) == (worker_key.address, wallet)
    [shown] = [w for w in await setup.grid.workers() if w.address == worker_key.address]
    assert shown.payout == wallet

"""A `deskgrid grid serve` process reading stakes from a hub on anvil: a staked job goes only
to the worker whose payout address holds that much free stake."""

from __future__ import annotations

import pytest
from eth_account import Account

from deskgrid.chain.anvil import AnvilNode, find_anvil
from deskgrid.chain.connection import connect
from deskgrid.chain.contracts import HubContract, RLCToken
from deskgrid.chain.deployment import Roles, deploy
from deskgrid.chain.transactions import TxSender
from deskgrid.grid.client import GridClient
from deskgrid.grid.models import Capabilities, ReplicationPolicy
from deskgrid.grid.stakes import HubStakes
from tests.conftest import require

from .processes import TOKEN, start_server

pytestmark = pytest.mark.integration
STAKE = 10**9  # 1 RLC in nRLC


@pytest.fixture
def hub_on_anvil():
    """(RPC URL, hub contract) of a fresh deployment on its own anvil."""
    require(find_anvil() is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    node = AnvilNode().start()
    chain = connect(node.url)
    try:
        roles = Roles.dev(chain)
        deployment = deploy(chain, roles)
        yield node.url, HubContract(chain, deployment.hub), RLCToken(chain, deployment.rlc), roles
    finally:
        chain.close()
        node.stop()


async def test_only_the_staked_payout_gets_the_staked_job(hub_on_anvil, tmp_path) -> None:
    rpc_url, hub, rlc, roles = hub_on_anvil
    staked, unstaked = Account.create().address, Account.create().address
    sponsor = TxSender(hub.chain, roles.faucet)
    rlc.approve_and_call(sponsor, hub.address, 2 * STAKE, b"")  # into the sponsor's escrow
    hub.stake_for(sponsor, staked, 2 * STAKE)
    assert hub.stake_info(staked).free == 2 * STAKE and hub.stake_info(unstaked).free == 0

    db = f"sqlite:///{tmp_path / 'grid.db'}"
    server, url = start_server(
        db, tmp_path / "grid", 0, "--chain-rpc", rpc_url, "--hub", hub.address
    )
    caps = Capabilities(apps=["echo"], cores=1, memory_mb=512)
    try:
        async with (
            GridClient(url, token=TOKEN) as submitter,
            GridClient(url) as poor,
            GridClient(url) as rich,
        ):
            await poor.authenticate(Account.create(), capabilities=caps, payout=unstaked)
            await rich.authenticate(Account.create(), capabilities=caps, payout=staked)
            job = await submitter.submit(
                "echo", {"message": "staked"}, policy=ReplicationPolicy(stake=STAKE)
            )
            assert (await poor.request_work(4, caps)).leases == []
            (lease,) = (await rich.request_work(4, caps)).leases
            assert lease.job_id == job.id
            (view,) = (await submitter.get_job(job.id)).leases or []
            assert view.owner == view.payout == staked
            free = await submitter.submit("echo", {"message": "free"})
            assert [got.job_id for got in (await poor.request_work(4, caps)).leases] == [free.id]
    finally:
        server.stop()


def test_hub_stakes_are_read_again_after_their_cache_time(hub_on_anvil, caplog) -> None:
    _, hub, rlc, roles = hub_on_anvil
    clock = [0.0]
    stakes = HubStakes(hub, ttl_s=5.0, monotonic=lambda: clock[0])
    payout = Account.create().address
    assert stakes.free_stake(payout) == 0
    sponsor = TxSender(hub.chain, roles.faucet)
    rlc.approve_and_call(sponsor, hub.address, STAKE, b"")
    hub.stake_for(sponsor, payout, STAKE)
    clock[0] = 4.9
    assert stakes.free_stake(payout) == 0  # as read 4.9 s ago
    clock[0] = 5.0
    assert stakes.free_stake(payout) == STAKE
    # a read that fails (here: no hub at that address) is no stake, and says so
    nowhere = HubStakes(HubContract(hub.chain, "0x" + "12" * 20))
    assert nowhere.free_stake(payout) == 0
    assert f"cannot read the stake of {payout}" in caplog.text


def test_the_stake_cache_keeps_the_most_recently_used_stakeholders(hub_on_anvil) -> None:
    _, hub, rlc, roles = hub_on_anvil
    clock = [0.0]
    stakes = HubStakes(hub, ttl_s=5.0, monotonic=lambda: clock[0], max_entries=2)
    first, second, third = (Account.create().address for _ in range(3))
    assert not stakes.fresh(first)
    stakes.free_stake(first)
    stakes.free_stake(second)
    assert stakes.fresh(first) and stakes.fresh(second)
    stakes.free_stake(first)  # used again: the second is now the least recently used
    stakes.free_stake(third)  # one too many: only the least recently used goes
    assert stakes.fresh(first) and stakes.fresh(third) and not stakes.fresh(second)
    sponsor = TxSender(hub.chain, roles.faucet)
    rlc.approve_and_call(sponsor, hub.address, STAKE, b"")
    hub.stake_for(sponsor, first, STAKE)
    assert stakes.free_stake(first) == 0  # cached
    clock[0] = 5.0
    assert not stakes.fresh(first)  # out of date: the next work request reads it first
    assert stakes.free_stake(first) == STAKE

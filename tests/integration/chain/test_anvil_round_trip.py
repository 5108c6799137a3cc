"""Deploy on a real anvil process and run a request → finalize round trip over JSON-RPC."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from deskgrid.chain.anvil import find_anvil
from deskgrid.chain.connection import connect
from deskgrid.chain.contracts import HubContract, RLCToken, TaskRequest, TaskStatus, result_digest
from deskgrid.chain.deployment import Roles, ensure_deployment, load_deployment
from deskgrid.chain.reverts import ContractRevert
from deskgrid.chain.transactions import TxSender
from deskgrid.money import NRLC_PER_RLC as RLC
from tests.conftest import require
from tests.unit.chain.conftest import TEST_LISTINGS

pytestmark = pytest.mark.integration


def test_deploy_and_round_trip_on_anvil(anvil):
    chain = connect(anvil.url)
    assert chain.kind == "anvil"
    roles = Roles.dev(chain)
    deployment, created = ensure_deployment(chain, roles, listings=TEST_LISTINGS)
    assert created
    again, created_again = ensure_deployment(chain, roles, listings=TEST_LISTINGS)
    assert again == deployment and not created_again
    assert load_deployment(chain) == deployment

    rlc, hub = RLCToken(chain, deployment.rlc), HubContract(chain, deployment.hub)
    user = TxSender(chain, chain.dev_accounts[4])
    rlc.transfer(TxSender(chain, roles.faucet), user.address, 10 * RLC)
    price = 5 * RLC
    request = TaskRequest(
        deployment.apps["vanity"], deployment.pool_id, "{}", price, 0, deployment.vanity_requester
    )
    task_id = hub.pay_and_request(user, rlc, request)
    assert hub.task_status(task_id) is TaskStatus.ACTIVE
    [event] = hub.logs("TaskRequested", deployment.block)
    assert bytes(event["args"]["taskId"]) == task_id

    scheduler = TxSender(chain, roles.scheduler)
    worker = chain.dev_accounts[6].address
    with pytest.raises(ContractRevert) as err:
        hub.finalize(user, task_id, result_digest(b"x"), b"x", [worker], [1])
    assert err.value.name == "NotScheduler"
    result = hub.finalize(
        scheduler, task_id, result_digest(b'{"address":"1Ab"}'), b'{"address":"1Ab"}', [worker], [1]
    )
    assert result.effective_gas_price > 0  # EIP-1559 fees on anvil
    assert hub.task_status(task_id) is TaskStatus.COMPLETED
    assert hub.balance_of(worker) == RLC * 7 // 10
    from deskgrid.chain.contracts import VanityRequesterContract

    assert VanityRequesterContract(chain, deployment.vanity_requester).result_of(task_id) == (
        b'{"address":"1Ab"}'
    )
    chain.close()


def test_claim_on_anvil_after_the_deadline(anvil):
    chain = connect(anvil.url)
    roles = Roles.dev(chain)
    deployment, _ = ensure_deployment(chain, roles, listings=TEST_LISTINGS)
    rlc, hub = RLCToken(chain, deployment.rlc), HubContract(chain, deployment.hub)
    user = TxSender(chain, chain.dev_accounts[4])
    rlc.transfer(TxSender(chain, roles.faucet), user.address, 5 * RLC)
    task_id = hub.pay_and_request(
        user, rlc, TaskRequest(deployment.apps["vanity"], deployment.pool_id, "{}", 5 * RLC)
    )
    chain.advance_time(601)
    hub.claim(TxSender(chain, chain.dev_accounts[7]), task_id)
    # The price, and the pool owner's stake the task locked (30 % of it): not done in time.
    assert hub.balance_of(user.address) == 5 * RLC + 5 * RLC * 3 // 10
    assert hub.locked_stake_of(roles.scheduler.address) == 0


@pytest.mark.parametrize("spec", ["embedded", "anvil"])
def test_cli_deploy_prints_the_addresses(spec, tmp_path):
    if spec == "anvil":
        require(find_anvil() is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    env = dict(os.environ, DESKGRID_HOME=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "deskgrid.cli", "chain", "deploy", "--chain", spec, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    for key in ("chain_id", "rlc", "hub", "vanity_requester"):
        assert report[key]
    assert report["hub"].startswith("0x") and len(report["hub"]) == 42
    assert "vanity" in report["apps"]


def test_cli_refuses_an_unknown_chain(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "deskgrid.cli", "chain", "deploy", "--chain", "bogus"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "'bogus' is not a chain" in out.stderr
    assert "Traceback" not in out.stderr


def test_stake_slashing_and_scheduler_rotation_on_anvil(anvil):
    """Over JSON-RPC: the owner rotates the scheduler key (the old one can no longer finalize),
    a locked contribution cannot be unstaked, an out-voted one is slashed to the honest one."""
    chain = connect(anvil.url)
    roles = Roles.dev(chain)
    deployment, _ = ensure_deployment(chain, roles, listings=TEST_LISTINGS)
    rlc, hub = RLCToken(chain, deployment.rlc), HubContract(chain, deployment.hub)
    owner, rotated = TxSender(chain, roles.scheduler), TxSender(chain, chain.dev_accounts[9])
    hub.set_pool_scheduler(owner, deployment.pool_id, rotated.address)
    user = TxSender(chain, chain.dev_accounts[4])
    rlc.transfer(TxSender(chain, roles.faucet), user.address, 5 * RLC)
    request = TaskRequest(deployment.apps["vanity"], deployment.pool_id, "{}", 5 * RLC)
    task_id = hub.pay_and_request(user, rlc, request)
    honest, cheat = chain.dev_accounts[6], chain.dev_accounts[7]
    lock = hub.contribution_stake(task_id)
    hub.lock_stake(rotated, task_id, [honest.address, cheat.address])
    stake = hub.stake_of(cheat.address)
    with pytest.raises(ContractRevert) as err:
        hub.unstake(TxSender(chain, cheat), stake)
    assert err.value.name == "InsufficientStake"
    results = b'{"address":"1Ab"}'
    digest = result_digest(results)
    with pytest.raises(ContractRevert) as err:
        hub.finalize(owner, task_id, digest, results, [honest.address], [1], [cheat.address])
    assert err.value.name == "NotScheduler"
    sent = hub.finalize(rotated, task_id, digest, results, [honest.address], [1], [cheat.address])
    [slashed] = hub.events("Slashed", sent.receipt)
    assert (slashed["args"]["account"], slashed["args"]["amount"]) == (cheat.address, lock)
    assert hub.stake_of(cheat.address) == stake - lock
    assert hub.balance_of(honest.address) == RLC * 7 // 10 + lock
    assert hub.reputation_of(honest.address) == (1, 0)
    assert hub.reputation_of(cheat.address) == (0, 1)
    assert hub.task(task_id).results == results
    chain.close()

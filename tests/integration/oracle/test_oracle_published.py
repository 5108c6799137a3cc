"""Tasks of published (Docker) apps through the oracle, on the embedded chain with a real grid
server on loopback that follows the hub's published apps: the oracle reads the app's manifest
from the hub, submits the task document's params, input files and result key with the trust
policy of an app without a verifier, and a Docker worker's lease carries them; a task the grid
refuses (its policy does not serve the app), a bad task document and an app whose manifest
disagrees with the hub are failed on chain, and their requesters refunded."""

from __future__ import annotations

import asyncio

import pytest
from eth_account import Account

from deskgrid.apps.registry import builtin_apps
from deskgrid.chain.contracts import TaskStatus
from deskgrid.chain.transactions import TxSender
from deskgrid.grid.catalog import LiveCatalog
from deskgrid.grid.chain_catalog import ChainCatalog
from deskgrid.grid.client import GridClient
from deskgrid.grid.models import Capabilities
from deskgrid.market.manifest import canonical_json
from deskgrid.market.task_document import TaskDocument
from deskgrid.oracle.store import OracleTaskState
from tests.published_apps import example_manifest, image_id, publish_example

pytestmark = pytest.mark.integration
KEY = "03" + "4d" * 32
REQUESTER = 3


@pytest.fixture
def grid_catalog() -> LiveCatalog:
    return LiveCatalog(builtin_apps())


def follow_hub(setup, tmp_path, policy: str) -> ChainCatalog:
    """The setup's grid serving the hub's published apps that `policy` allows."""
    path = tmp_path / "app-policy.json"
    path.write_text(policy)
    follower = ChainCatalog(setup.server.catalog, setup.hub, path)
    follower.load()
    return follower


def publish_wordfreq(setup) -> int:
    developer = TxSender(setup.chain, setup.chain.dev_accounts[5])
    app_id, _ = publish_example(setup.hub, developer, "wordfreq", image_id(7))
    return app_id


async def step_until(oracle, task_id: bytes, *states: OracleTaskState) -> None:
    hex_id = "0x" + task_id.hex()
    async with asyncio.timeout(60):
        while True:
            await oracle.step()
            task = oracle.store.task(hex_id)
            if task is not None and task.state in states:
                return
            await asyncio.sleep(0.05)


def failure_reason(setup, task_id: bytes) -> str:
    assert setup.hub.task_status(task_id) is TaskStatus.FAILED
    [event] = setup.hub.logs("TaskFailed", setup.deployment.block, taskId=task_id)
    return event["args"]["reason"]


def refunded(setup, task_id: bytes) -> bool:
    user = setup.chain.dev_accounts[REQUESTER].address
    return setup.hub.balance_of(user) == setup.hub.task(task_id).price


async def test_a_published_apps_task_is_submitted_with_its_inputs_and_result_key(
    setup, tmp_path
) -> None:
    app_id = publish_wordfreq(setup)
    follow_hub(setup, tmp_path, f'{{"docker_apps": "allow-list", "apps": [{app_id}]}}')
    text = await setup.grid.upload_data(b"the grid counts the words of the text")
    document = TaskDocument({"input": "text", "top": 5}, {"text": text.sha256}, KEY)
    task_id = setup.pay(app_id, document.to_chain(), trust=2)
    oracle = setup.oracle()
    await step_until(oracle, task_id, OracleTaskState.SUBMITTED, OracleTaskState.FAILING)
    hex_id = "0x" + task_id.hex()
    task = oracle.store.task(hex_id)
    assert task.state is OracleTaskState.SUBMITTED and task.app_name == f"wordfreq.{app_id}"
    job = await setup.grid.get_job(task.job_id)
    assert job.app == f"wordfreq.{app_id}" and job.external_id == hex_id
    assert job.params == {"input": "text", "top": 5}
    assert [(i.name, i.sha256) for i in job.inputs] == [("text", text.sha256)]
    assert job.policy.trust == 2 and job.policy.min_agree == 2
    assert job.policy.stake == setup.hub.contribution_stake(task_id) > 0
    assert not job.verifiable
    assert oracle._staked(task)  # its replicas lock stake, like any unverified app's

    docker = Capabilities(apps=[], docker=True)
    async with GridClient(setup.server.url) as plain, GridClient(setup.server.url) as poor:
        staked_plain = setup.chain.dev_accounts[7]  # staked, without Docker
        await plain.authenticate(staked_plain, capabilities=Capabilities(apps=["echo"]))
        assert (await plain.request_work(2)).leases == []
        await poor.authenticate(Account.create(), capabilities=docker)  # Docker, no stake
        assert (await poor.request_work(2)).leases == []
    async with GridClient(setup.server.url) as worker:
        await worker.authenticate(setup.chain.dev_accounts[6], capabilities=docker)
        (lease,) = (await worker.request_work(2)).leases
    assert lease.job_id == job.id and lease.result_key == KEY and lease.external_id == hex_id
    assert lease.docker is not None and lease.docker.image_id == image_id(7)

    restarted = setup.oracle()  # a restart knows the published app of a task taken before
    await restarted.step()
    assert restarted._staked(restarted.store.task(hex_id))


async def test_a_task_the_grid_does_not_serve_is_failed_and_refunded(setup, tmp_path) -> None:
    app_id = publish_wordfreq(setup)
    follow_hub(setup, tmp_path, '{"docker_apps": "none"}')
    document = TaskDocument({"top": 5})
    task_id = setup.pay(app_id, document.to_chain(), trust=2)
    oracle = setup.oracle(refusal_grace_s=0.0)
    await step_until(oracle, task_id, OracleTaskState.FAILED, OracleTaskState.SUBMITTED)
    reason = failure_reason(setup, task_id)
    assert reason.startswith("refused by the grid: This grid has no app named")
    assert f"wordfreq.{app_id}" in reason and refunded(setup, task_id)


async def test_a_task_whose_input_is_not_on_the_grid_is_failed_and_refunded(
    setup, tmp_path
) -> None:
    app_id = publish_wordfreq(setup)
    follow_hub(setup, tmp_path, '{"docker_apps": "all"}')
    document = TaskDocument({"input": "text"}, {"text": "ee" * 32}, KEY)
    task_id = setup.pay(app_id, document.to_chain(), trust=2)
    oracle = setup.oracle(refusal_grace_s=0.0)
    await step_until(oracle, task_id, OracleTaskState.FAILED, OracleTaskState.SUBMITTED)
    reason = failure_reason(setup, task_id)
    assert "refused by the grid" in reason and "is not stored on this grid; upload it" in reason
    assert refunded(setup, task_id)


async def test_a_task_that_comes_before_the_grid_reads_its_app_is_submitted_once_it_does(
    setup, tmp_path
) -> None:
    app_id = publish_wordfreq(setup)
    follower = follow_hub(setup, tmp_path, '{"docker_apps": "none"}')
    task_id = setup.pay(app_id, TaskDocument({"top": 5}).to_chain(), trust=2)
    oracle = setup.oracle(refusal_grace_s=600.0)
    for _ in range(3):  # refused: asked again, not failed
        await oracle.step()
    assert oracle.store.task("0x" + task_id.hex()).state is OracleTaskState.NEW
    assert "0x" + task_id.hex() in oracle._refused_at  # it was submitted, and refused
    (tmp_path / "app-policy.json").write_text('{"docker_apps": "all"}')
    assert follower.refresh()
    await step_until(oracle, task_id, OracleTaskState.SUBMITTED, OracleTaskState.FAILED)
    assert oracle.store.task("0x" + task_id.hex()).state is OracleTaskState.SUBMITTED


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ('{"top": 5}', 'invalid request: the request must be a JSON object {"params"'),
        ('{"params": {"top": 0}}', "invalid request: invalid params"),
        ('{"params": {"input": "text"}}', "names the input 'text', which the request does"),
    ],
)
async def test_a_bad_task_document_is_failed_and_refunded(setup, tmp_path, params, why) -> None:
    app_id = publish_wordfreq(setup)
    follow_hub(setup, tmp_path, '{"docker_apps": "all"}')
    task_id = setup.pay(app_id, params, trust=2)
    await step_until(setup.oracle(), task_id, OracleTaskState.FAILED, OracleTaskState.SUBMITTED)
    assert why in failure_reason(setup, task_id) and refunded(setup, task_id)
    assert (await setup.grid.list_jobs()).total == 0


async def test_an_app_whose_manifest_disagrees_with_the_hub_is_failed_and_refunded(
    setup,
) -> None:
    manifest = example_manifest("wordfreq", image_id(8))
    developer = TxSender(setup.chain, setup.chain.dev_accounts[5])
    app_id = setup.hub.publish_app(
        developer, "wordfreq", manifest.uri, b"\2" * 32, 10**8, canonical_json(manifest)
    ).app_id
    task_id = setup.pay(app_id, TaskDocument({"top": 5}).to_chain(), trust=2)
    await step_until(setup.oracle(), task_id, OracleTaskState.FAILED, OracleTaskState.SUBMITTED)
    reason = failure_reason(setup, task_id)
    assert reason.startswith(f"invalid request: app #{app_id} cannot be run: its manifest's")
    assert refunded(setup, task_id)

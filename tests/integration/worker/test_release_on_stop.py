"""Turning donating off hands the running job's lease back to a real grid at once: the job
goes to the next worker now, not when the lease would have expired; only the lease's own
worker may release it, and releasing twice is fine."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from eth_account import Account

from deskgrid.grid.client import GridClient, LeaseGone, NotAuthorized
from deskgrid.grid.models import Capabilities
from deskgrid.worker.donation import Donation
from deskgrid.worker.policy import Preferences
from deskgrid.worker.proctree import JobRecords
from deskgrid.worker.worker import Worker, WorkerConfig
from tests.live_grid import DEADLINE, until

pytestmark = pytest.mark.integration

ALWAYS = Preferences(
    max_ncpus_pct=100, run_if_user_active=True, suspend_cpu_usage=0, run_on_batteries=True
)
LONG_DELAY = 3600.0  # a lease that is not released would hold its job for an hour


async def _lease_of(submitter: GridClient, job_id: str, worker: str | None, state: str):
    view = await submitter.get_job(job_id)
    for lease in view.leases or []:
        if lease.state == state and (worker is None or lease.worker.lower() == worker.lower()):
            return lease
    return None


async def test_stopping_donation_releases_the_lease_and_the_next_worker_gets_the_job(
    grid, tmp_path: Path
) -> None:
    server, submitter = grid
    donation = Donation(state_dir=tmp_path / "a", preferences=ALWAYS, poll_interval=0.1)
    await donation.start(server.url)
    job = await submitter.submit("sleep", {"seconds": 600}, policy={"delay_bound": LONG_DELAY})
    await until(lambda: donation.status.state == "computing", "the first worker to compute")
    first = donation.address
    assert first is not None
    await until(
        lambda: _lease_of(submitter, job.id, first, "IN_PROGRESS"), "the first worker's lease"
    )

    await donation.stop()

    released = await _lease_of(submitter, job.id, first, "RELEASED")
    assert released is not None
    view = await submitter.get_job(job.id)
    assert (view.state, view.n_errors, view.n_total) == ("PENDING", 0, 0)
    (record,) = await submitter.workers()
    assert (record.n_errors, record.n_expired) == (0, 0)
    assert not donation.running

    second = Worker(WorkerConfig(grid_url=server.url, state_dir=tmp_path / "b", poll_interval=0.1))
    stop = asyncio.Event()
    task = asyncio.create_task(second.run(stop))
    try:
        await until(
            lambda: _lease_of(submitter, job.id, second.account.address, "IN_PROGRESS"),
            "the second worker to get the job",
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, DEADLINE)
    # the second one released it too when it stopped
    assert await _lease_of(submitter, job.id, second.account.address, "RELEASED")
    assert (await submitter.get_job(job.id)).state == "PENDING"


async def _signed_in(url: str) -> GridClient:
    client = GridClient(url)
    await client.authenticate(Account.create(), capabilities=Capabilities(apps=["sleep"]))
    return client


async def test_only_the_leases_worker_may_release_it_and_twice_is_fine(grid) -> None:
    server, submitter = grid
    job = await submitter.submit("sleep", {"seconds": 600}, policy={"delay_bound": LONG_DELAY})
    owner, other = await _signed_in(server.url), await _signed_in(server.url)
    try:
        (lease,) = (await owner.request_work(1)).leases
        with pytest.raises(NotAuthorized) as refused:
            await other.release_lease(lease.lease_id)
        assert refused.value.status == 403
        assert (await submitter.get_job(job.id)).state == "RUNNING"

        first = await owner.release_lease(lease.lease_id)
        again = await owner.release_lease(lease.lease_id)
        assert (first.lease_state, first.job_state) == ("RELEASED", "PENDING")
        assert (again.lease_state, again.job_state) == ("RELEASED", "PENDING")

        (taken,) = (await other.request_work(1)).leases  # at once, no expiry awaited
        assert taken.job_id == job.id
        await other.report_error(taken.lease_id, "ended by the test")
        with pytest.raises(LeaseGone):  # a lease that ended otherwise is not released
            await other.release_lease(taken.lease_id)
        view = await submitter.get_job(job.id)
        assert view.n_errors == 1  # the error only; the release counted none
    finally:
        await owner.aclose()
        await other.aclose()


async def test_a_stopping_worker_whose_grid_is_gone_just_stops(grid, tmp_path: Path) -> None:
    server, submitter = grid
    worker = Worker(WorkerConfig(grid_url=server.url, state_dir=tmp_path / "w", poll_interval=0.1))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await submitter.submit("sleep", {"seconds": 600}, policy={"delay_bound": LONG_DELAY})
    await until(lambda: worker.status.state == "computing", "the worker to compute")
    records = JobRecords(tmp_path / "w" / "running")
    await until(lambda: bool(records.records()), "the job's process to be recorded")

    await server.stop()  # the grid goes away: the release cannot reach it
    stop.set()
    await asyncio.wait_for(task, DEADLINE)

    assert worker.status.state == "stopped"
    assert records.records() == []  # the job was killed all the same


async def test_signing_out_hands_back_every_lease_in_progress(grid) -> None:
    """A worker that signs out computes nothing more: a lease it never read (granted as it
    gave up a held work request) goes back to the queue at once, without an error; a lease
    whose result waits on the worker's disk is kept, and a plain logout releases nothing."""
    server, submitter = grid
    job = await submitter.submit("sleep", {"seconds": 600}, policy={"delay_bound": LONG_DELAY})
    leaver, other = await _signed_in(server.url), await _signed_in(server.url)
    try:
        (lease,) = (await leaver.request_work(1)).leases  # as if its reply had been lost
        assert (await submitter.get_job(job.id)).state == "RUNNING"
        await leaver.logout(release_leases=True)
        released = await _lease_of(submitter, job.id, None, "RELEASED")
        assert released is not None and released.id == lease.lease_id
        view = await submitter.get_job(job.id)
        assert (view.state, view.n_errors) == ("PENDING", 0)
        (taken,) = (await other.request_work(1)).leases  # at once, no expiry awaited
        assert taken.job_id == job.id

        kept = await submitter.submit("sleep", {"seconds": 600}, policy={"delay_bound": 3600})
        plain = await submitter.submit("sleep", {"seconds": 600}, policy={"delay_bound": 3600})
        third = await _signed_in(server.url)
        (keep_lease,) = (await third.request_work(1)).leases
        await third.logout(release_leases=True, keep=[keep_lease.lease_id])
        assert (await submitter.get_job(keep_lease.job_id)).state == "RUNNING"
        fourth = await _signed_in(server.url)
        (plain_lease,) = (await fourth.request_work(1)).leases
        await fourth.logout()
        assert (await submitter.get_job(plain_lease.job_id)).state == "RUNNING"
        assert {keep_lease.job_id, plain_lease.job_id} == {kept.id, plain.id}
    finally:
        await leaver.aclose()
        await other.aclose()

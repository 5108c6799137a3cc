"""A worker hands a lease back (it stops): the job is leasable again at once, and nothing
counts against the job or the worker."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from deskgrid.grid.errors import Conflict, Forbidden, NotFound
from deskgrid.grid.schema import jobs, workers
from deskgrid.grid.states import JobState, LeaseState
from tests.unit.grid.conftest import Harness, make_harness


def _worker_row(grid: Harness, address: str) -> dict:
    with grid.scheduler.db.read() as conn:
        row = conn.execute(select(workers).where(workers.c.address == address)).mappings().one()
    return dict(row)


def test_a_released_lease_frees_its_job_at_once_without_an_error(grid: Harness) -> None:
    first, second = grid.worker(1), grid.worker(2)
    job_id = grid.submit(policy={"max_total_results": 1, "max_error_results": 1})
    (lease,) = grid.lease(first)
    used_before = _worker_row(grid, first)["quota_used"]

    assert grid.scheduler.release_lease(first, lease.lease_id) == ("RELEASED", "PENDING")

    job = grid.job(job_id)
    assert (job.state, job.n_errors, job.n_total, job.n_in_progress) == ("PENDING", 0, 0, 0)
    row = _worker_row(grid, first)
    assert (row["n_errors"], row["n_expired"]) == (0, 0)
    assert row["quota_used"] == used_before - 1
    # no time passes: the job is leased again right away, although it may only ever have
    # one replica (the released one was not spent)
    (again,) = grid.lease(second)
    assert again.job_id == job_id
    states = sorted(lease.state for lease in grid.job(job_id).leases or [])
    assert states == [LeaseState.IN_PROGRESS.value, LeaseState.RELEASED.value]
    kinds = [event.kind for event in grid.scheduler.events.read(0, job_id=job_id)]
    assert "lease_released" in kinds and "lease_error" not in kinds


def test_releasing_twice_answers_the_same(grid: Harness) -> None:
    worker = grid.worker(1)
    grid.submit()
    (lease,) = grid.lease(worker)
    assert grid.scheduler.release_lease(worker, lease.lease_id)[0] == "RELEASED"
    assert grid.scheduler.release_lease(worker, lease.lease_id) == ("RELEASED", "PENDING")
    assert grid.job(lease.job_id).n_total == 0


def test_another_worker_cannot_release_a_lease(grid: Harness) -> None:
    owner, other = grid.worker(1), grid.worker(2)
    grid.submit()
    (lease,) = grid.lease(owner)
    with pytest.raises(Forbidden):
        grid.scheduler.release_lease(other, lease.lease_id)
    with pytest.raises(NotFound):
        grid.scheduler.release_lease(other, "0" * 32)
    assert grid.job(lease.job_id).state == JobState.RUNNING.value


def test_a_lease_that_ended_otherwise_cannot_be_released(grid: Harness) -> None:
    worker = grid.worker(1)
    grid.submit()
    (lease,) = grid.lease(worker)
    grid.upload(worker, lease.lease_id, b"whatever")
    with pytest.raises(Conflict):
        grid.scheduler.release_lease(worker, lease.lease_id)


def test_a_lease_past_its_expiry_expires_instead(grid: Harness) -> None:
    worker = grid.worker(1)
    job_id = grid.submit()
    (lease,) = grid.lease(worker)
    grid.clock.advance(lease.delay_bound + 1)
    with pytest.raises(Conflict):
        grid.scheduler.release_lease(worker, lease.lease_id)
    assert grid.job(job_id).n_errors == 1  # as the reaper would have counted it
    assert _worker_row(grid, worker)["n_expired"] == 1


def test_a_released_unreplicated_lease_restores_the_jobs_replication(tmp_path) -> None:
    grid = make_harness(tmp_path, trust_threshold=0, spot_check_rate=0.0)
    worker = grid.worker(1)
    job_id = grid.submit(policy={"target_nresults": 2, "min_quorum": 2})
    (lease,) = grid.lease(worker)
    assert grid.job(job_id).n_in_progress == 1  # the one replica of a trusted worker
    grid.scheduler.release_lease(worker, lease.lease_id)
    with grid.scheduler.db.read() as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().one()
    assert (row["eff_target"], row["eff_quorum"], row["n_wanted"], row["n_total"]) == (2, 2, 2, 0)

"""Lease limits: the cap on leases in progress per worker, the daily quota that starts small
for a new identity and follows its results, and the hard deadline no heartbeat passes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from deskgrid.grid.errors import Conflict
from deskgrid.grid.models import Heartbeat
from deskgrid.grid.quota import DAY
from deskgrid.grid.schema import blobs, leases, workers
from tests.grid_fixtures import catalog, echo_result

from .conftest import Harness, make_harness


def _queue(grid: Harness, n: int) -> list[str]:
    ids = []
    for k in range(n):
        grid.clock.advance(0.001)  # queue order = submission order
        ids.append(grid.submit(params={"message": f"job {k}"}))
    return ids


def _worker_row(grid: Harness, address: str):
    with grid.scheduler.db.read() as conn:
        return conn.execute(select(workers).where(workers.c.address == address)).mappings().one()


def _finish(grid: Harness, worker: str, granted) -> None:
    for lease in granted:
        grid.upload(worker, lease.lease_id, echo_result(lease.params))


def test_leases_in_progress_are_capped_per_declared_core(grid: Harness) -> None:
    _queue(grid, 10)
    small = grid.worker(1, cores=1)
    granted = grid.lease(small, 10)
    assert len(granted) == 2  # 2 per core
    reply = grid.scheduler.request_work(small, 5)
    assert reply.leases == [] and "already holds 2 leases" in (reply.reason or "")
    _finish(grid, small, granted[:1])
    assert len(grid.lease(small, 5)) == 1  # room again once one is done
    big = grid.worker(2, cores=4096)  # declaring more cores never lifts the absolute cap
    assert len(grid.lease(big, 100)) <= grid.scheduler.config.max_active_leases_per_worker


def test_a_new_identity_gets_its_daily_quota_and_no_more(tmp_path) -> None:
    grid = make_harness(tmp_path, worker_quota_start=4)
    _queue(grid, 20)
    fresh = grid.worker(1, cores=16)
    first = grid.lease(fresh, 32)
    assert len(first) == 4
    for lease in first:  # it gives them up: every error costs it one
        grid.scheduler.report_error(fresh, lease.lease_id, "gave up")
    reply = grid.scheduler.request_work(fresh, 32)
    assert reply.leases == [] and "daily quota of 1 leases" in (reply.reason or "")
    assert DAY - 1 <= reply.retry_after <= DAY  # until its window of a day closes
    honest = grid.worker(2, cores=16)  # an established worker still gets work meanwhile
    assert len(grid.lease(honest, 4)) == 4
    grid.clock.advance(DAY)
    assert len(grid.lease(fresh, 32)) == 1  # a new day, but the quota stays what it earned


def test_valid_results_double_the_quota_errors_lower_it(tmp_path) -> None:
    grid = make_harness(tmp_path, worker_quota_start=2, worker_quota_max=64)
    _queue(grid, 40)
    w = grid.worker(1, cores=32)
    granted = grid.lease(w, 32)
    assert len(granted) == 2
    _finish(grid, w, granted)  # two valid results: 2 -> 8
    assert _worker_row(grid, w)["daily_quota"] == 8
    granted = grid.lease(w, 32)
    assert len(granted) == 6  # 8 a day, 2 taken
    grid.scheduler.report_error(w, granted[0].lease_id, "crashed")  # 8 -> 7
    assert _worker_row(grid, w)["daily_quota"] == 7
    _finish(grid, w, granted[1:])  # five valid results: 7 * 32 = 224, at most 64
    assert len(grid.lease(w, 32)) == 32 and _worker_row(grid, w)["daily_quota"] == 64


def test_an_expired_lease_halves_the_quota(tmp_path) -> None:
    grid = make_harness(tmp_path, worker_quota_start=8)
    _queue(grid, 3)
    w = grid.worker(1, cores=4)
    assert len(grid.lease(w, 3)) == 3
    grid.clock.advance(61)  # delay_bound 60, no heartbeat
    assert grid.scheduler.tick()["expired"] == 3
    assert _worker_row(grid, w)["daily_quota"] == 1
    assert len(grid.lease(w, 3)) == 0  # 3 taken today, quota 1


def test_an_invalid_result_halves_the_quota(tmp_path) -> None:
    grid = make_harness(tmp_path, worker_quota_start=8)
    grid.submit(app="sum", params={"a": 2, "b": 2})
    w = grid.worker(1)
    (lease,) = grid.lease(w)
    assert grid.upload(w, lease.lease_id, b"5").lease_state == "INVALID"  # the verifier says no
    assert _worker_row(grid, w)["daily_quota"] == 4


def test_heartbeats_never_keep_a_lease_past_its_hard_deadline(tmp_path) -> None:
    grid = make_harness(tmp_path, lease_grace_s=30.0)
    job_id = grid.submit(params={"message": "slow"})
    w = grid.worker(1)
    (lease,) = grid.lease(w)
    hard = lease.leased_at + lease.max_runtime + 30.0
    assert lease.expires_at == lease.leased_at + lease.delay_bound
    beat = None
    while grid.clock.now() < hard - 20:
        grid.clock.advance(20)
        beat = grid.scheduler.heartbeat(w, lease.lease_id, Heartbeat(progress=0.5))
        assert beat.keep_going and beat.expires_at <= hard
    assert beat is not None and beat.expires_at == hard
    grid.clock.advance(hard - grid.clock.now() + 1)
    assert not grid.scheduler.heartbeat(w, lease.lease_id, Heartbeat()).keep_going
    job = grid.job(job_id)  # back to the queue, the lost lease counted as an error
    assert job.state == "PENDING" and job.n_errors == 1
    with pytest.raises(Conflict, match="expired"):
        grid.upload(w, lease.lease_id, echo_result(lease.params))


def test_a_short_app_gets_a_short_first_expiry(tmp_path) -> None:
    apps = catalog()
    apps["echo"] = replace(apps["echo"], resources=_seconds(10))
    grid = make_harness(tmp_path, lease_grace_s=5.0, apps=apps)
    grid.submit()
    (lease,) = grid.lease(grid.worker(1))
    assert lease.expires_at == lease.leased_at + 15.0  # 10 s of run time + 5 s of grace


def _seconds(max_seconds: int):
    from deskgrid.apps.sdk import Resources

    return Resources(max_seconds=max_seconds)


def test_a_result_for_an_unreaped_expired_lease_is_refused_before_its_body(grid: Harness) -> None:
    grid.submit()
    w = grid.worker(1)
    (lease,) = grid.lease(w)
    grid.clock.advance(61)
    with pytest.raises(Conflict, match="expired"):
        grid.scheduler.check_lease(w, lease.lease_id)


def test_inline_results_store_nothing_without_a_live_lease_of_the_worker(grid: Harness) -> None:
    grid.submit()
    owner, other = grid.worker(1), grid.worker(2)
    (lease,) = grid.lease(owner)
    junk = b"x" * 60_000
    ref = grid.data.check(junk)
    for who, lease_id in ((other, lease.lease_id), (owner, "f" * 32)):
        reply = grid.scheduler.request_work(
            who, 0, results=[(lease_id, ref)], blobs={ref.sha256: junk}
        )
        assert not reply.results[0].accepted
    with grid.scheduler.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(blobs)).scalar() == 0
    content = echo_result(lease.params)
    good = grid.data.check(content)
    reply = grid.scheduler.request_work(
        owner, 0, results=[(lease.lease_id, good)], blobs={good.sha256: content}
    )
    assert reply.results[0].accepted
    with grid.scheduler.db.read() as conn:
        stored = conn.execute(select(blobs.c.sha256)).scalars().all()
        assert stored == [good.sha256]
        assert conn.execute(select(leases.c.result_sha256)).scalar() == good.sha256

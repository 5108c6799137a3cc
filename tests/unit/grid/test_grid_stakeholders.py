"""Stakeholders in leasing: one replica per payout address per job, staked jobs only for
stakeholders with that much free stake, and the trust fields of a submission (SQLite and
PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from deskgrid.grid.db import Database
from deskgrid.grid.errors import Unprocessable
from deskgrid.grid.migrations import HEAD, upgrade
from deskgrid.grid.models import ReplicationPolicy
from tests.grid_fixtures import echo_result

from .conftest import Harness, Stakes, make_harness

PAYOUT = "0x" + "a" * 40
OTHER_PAYOUT = "0x" + "b" * 40


def harness(tmp_path: Path, db_url: str | None, stakes: Stakes | None = None, **config) -> Harness:
    return make_harness(tmp_path, db_url, stakes, **config)


def test_one_replica_per_stakeholder_however_many_worker_keys(tmp_path, db_url) -> None:
    grid = harness(tmp_path, db_url)
    keys = [grid.worker(n, payout=PAYOUT) for n in (1, 2, 3)]
    alone = grid.worker(4)
    job_id = grid.submit(policy=ReplicationPolicy(target_nresults=3, min_quorum=2))
    assert len(grid.lease(keys[0])) == 1
    assert grid.lease(keys[1]) == [] and grid.lease(keys[2]) == []
    (lease,) = grid.lease(alone)
    leases = {view.worker: view for view in grid.job(job_id).leases or []}
    assert leases[keys[0]].owner == PAYOUT and leases[keys[0]].payout == PAYOUT
    assert leases[alone].owner == alone and leases[alone].payout is None
    # a released lease frees the stakeholder's place: another of its keys may take it
    grid.scheduler.release_lease(keys[0], leases[keys[0]].id)
    assert len(grid.lease(keys[1])) == 1
    grid.scheduler.db.close()


def test_the_same_stakeholder_can_take_a_replica_again_after_an_expiry(tmp_path, db_url) -> None:
    grid = harness(tmp_path, db_url)
    first, second = grid.worker(1, payout=PAYOUT), grid.worker(2, payout=PAYOUT)
    grid.submit(policy=ReplicationPolicy(target_nresults=2, min_quorum=2))
    assert len(grid.lease(first)) == 1
    grid.clock.advance(61.0)
    grid.scheduler.tick()
    assert len(grid.lease(second)) == 1
    grid.scheduler.db.close()


def test_staked_jobs_go_only_to_stakeholders_with_that_much_free_stake(tmp_path, db_url) -> None:
    stakes = Stakes({PAYOUT: 100, OTHER_PAYOUT: 40})
    grid = harness(tmp_path, db_url, stakes)
    rich, poor, nobody = (
        grid.worker(1, payout=PAYOUT),
        grid.worker(2, payout=OTHER_PAYOUT),
        grid.worker(3),
    )
    staked = grid.submit(params={"message": "staked"}, policy=ReplicationPolicy(stake=50))
    free = grid.submit(params={"message": "free"}, priority=-1)
    assert [lease.job_id for lease in grid.lease(poor, 4)] == [free]
    assert grid.lease(nobody, 4) == []  # the free one has its one replica out already
    assert [lease.job_id for lease in grid.lease(rich, 4)] == [staked]
    assert grid.job(staked).policy.stake == 50
    grid.scheduler.db.close()


def test_without_a_chain_nobody_gets_staked_jobs(tmp_path, db_url) -> None:
    grid = harness(tmp_path, db_url)
    worker = grid.worker(1, payout=PAYOUT)
    grid.submit(params={"message": "staked"}, policy=ReplicationPolicy(stake=1))
    assert grid.lease(worker) == []
    free = grid.submit(params={"message": "free"})
    assert [lease.job_id for lease in grid.lease(worker)] == [free]
    grid.scheduler.db.close()


def test_a_trust_job_stores_its_level_and_needs_min_agree_replicas(grid: Harness) -> None:
    job = grid.job(grid.submit(policy=ReplicationPolicy(trust=2)))
    assert (job.policy.trust, job.policy.min_agree, job.policy.stake) == (2, 2, 0)
    assert job.policy.target_nresults == 2 and not job.policy.adaptive
    assert grid.job(grid.submit(policy=ReplicationPolicy(trust=4))).policy.min_agree == 3
    assert grid.job(grid.submit(policy=ReplicationPolicy(trust=1))).policy.min_agree == 1
    picked = grid.job(grid.submit(policy=ReplicationPolicy(trust=3, min_agree=4)))
    assert (picked.policy.min_agree, picked.policy.target_nresults) == (4, 4)
    plain = grid.job(grid.submit())
    assert (plain.policy.trust, plain.policy.min_agree) == (None, None)


def test_the_default_min_agree_comes_from_the_grid(tmp_path) -> None:
    grid = make_harness(tmp_path, min_agree=3)
    assert grid.job(grid.submit(policy=ReplicationPolicy(trust=2))).policy.min_agree == 3


def test_trust_fields_that_make_no_sense_are_refused(grid: Harness) -> None:
    with pytest.raises(Unprocessable, match="needs policy.trust"):
        grid.submit(policy=ReplicationPolicy(min_agree=2))
    with pytest.raises(Unprocessable, match="at most"):
        grid.submit(policy=ReplicationPolicy(trust=2, stake=2**63))


def test_trusted_workers_never_get_a_trust_job_unreplicated(grid: Harness) -> None:
    veteran, other = grid.worker(1), grid.worker(2)
    for n in range(12):  # earn trust on plain two-replica jobs
        job_id = grid.submit(
            params={"message": f"m{n}"},
            policy=ReplicationPolicy(target_nresults=2, min_quorum=2, adaptive=False),
        )
        for worker in (veteran, other):
            (lease,) = grid.lease(worker)
            grid.upload(worker, lease.lease_id, echo_result(lease.params))
        assert grid.job(job_id).state == "COMPLETED"
    job_id = grid.submit(params={"message": "trust"}, policy=ReplicationPolicy(trust=2))
    assert len(grid.lease(veteran)) == 1
    assert grid.job(job_id).n_in_progress == 1 and len(grid.lease(other)) == 1


def test_upgrading_gives_old_leases_their_stakeholder_one_per_job(db_url, tmp_path) -> None:
    db = Database(db_url or f"sqlite:///{tmp_path / 'old.db'}")
    assert upgrade(db, target=7) == 7
    job = (
        "INSERT INTO jobs (id, app, app_version, params, inputs, state, priority, "
        "target_nresults, min_quorum, max_error_results, max_total_results, delay_bound, "
        "max_runtime, adaptive, verifiable, eff_target, eff_quorum, need_cores, "
        "need_memory_mb, need_docker, n_wanted, n_in_progress, n_success, n_errors, n_total, "
        "progress, keys_per_s, created_at, updated_at) VALUES ('j', 'echo', '1', '{}', '[]', "
        "'RUNNING', 0, 3, 2, 3, 10, 60, 60, 0, 0, 3, 2, 1, 1, 0, 0, 3, 0, 0, 3, 0, 0, 1, 1)"
    )
    worker = (
        "INSERT INTO workers (address, apps, cores, memory_mb, docker, consecutive_valid, "
        "n_valid, n_invalid, n_errors, n_expired, created_at, last_seen, payout) "
        "VALUES (:a, '[]', 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, :p)"
    )
    lease = (
        "INSERT INTO leases (id, job_id, worker, state, adaptive, leased_at, expires_at, "
        "progress, keys_per_s) VALUES (:id, 'j', :w, :s, 0, 1, 100, 0, 0)"
    )
    with db.write() as conn:
        conn.execute(text(job))
        for address, payout in (("0x1", PAYOUT), ("0x2", PAYOUT), ("0x3", None)):
            conn.execute(text(worker), {"a": address, "p": payout})
        for lease_id, address, state in (
            ("l1", "0x1", "IN_PROGRESS"),
            ("l2", "0x2", "SUCCESS"),
            ("l3", "0x3", "IN_PROGRESS"),
            ("l4", "0x2", "EXPIRED"),
        ):
            conn.execute(text(lease), {"id": lease_id, "w": address, "s": state})
    assert upgrade(db) == HEAD
    with db.read() as conn:
        owners = dict(conn.execute(text("SELECT id, owner FROM leases")).all())
        stake = conn.execute(text("SELECT stake FROM jobs")).scalar()
    # l2 would share l1's payout: it keeps its worker as stakeholder
    assert owners == {"l1": PAYOUT, "l2": "0x2", "l3": "0x3", "l4": PAYOUT}
    assert stake == 0
    db.close()

"""Two grid servers on one PostgreSQL database: atomic leasing across processes."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import text

from deskgrid.grid.client import GridClient
from deskgrid.grid.clock import ManualClock
from deskgrid.grid.config import GridConfig
from deskgrid.grid.datastore import DataStore
from deskgrid.grid.db import Database
from deskgrid.grid.errors import Conflict
from deskgrid.grid.migrations import HEAD, upgrade
from deskgrid.grid.models import Capabilities, DataRef, JobSubmit, ReplicationPolicy
from deskgrid.grid.scheduler import Scheduler
from tests.grid_fixtures import (
    REPORTED_BATCH_OUTCOMES,
    catalog,
    check_raw_statements,
    reported_batch_record,
)
from tests.grid_schema_check import check_schema_agrees
from tests.unit.grid.conftest import make_harness

from .processes import TOKEN, start_server, start_workers
from .test_grid_processes import poll

pytestmark = pytest.mark.integration


def _lease_counts(db: Database) -> tuple[dict[str, int], dict[str, int], int]:
    with db.read() as conn:
        targets = dict(conn.execute(text("SELECT id, target_nresults FROM jobs")).all())
        counts = dict(
            conn.execute(text("SELECT job_id, count(*) FROM leases GROUP BY job_id")).all()
        )
        doubles = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT job_id, worker FROM leases "
                "GROUP BY job_id, worker HAVING count(*) > 1) AS d"
            )
        ).scalar()
    return targets, counts, int(doubles or 0)


def test_raw_statements_on_postgresql(pg_grid_url) -> None:
    db = Database(pg_grid_url)
    check_raw_statements(db)
    db.close()


def test_a_batch_of_reports_is_recorded_as_one_by_one_on_postgresql(
    pg_grid_url, another_pg_grid_url, tmp_path
) -> None:
    one_by_one = make_harness(tmp_path / "a", pg_grid_url)
    batched = make_harness(tmp_path / "b", another_pg_grid_url)
    try:
        expected = reported_batch_record(one_by_one, batched=False)
        recorded = reported_batch_record(batched, batched=True)
    finally:
        one_by_one.scheduler.db.close()
        batched.scheduler.db.close()
    assert recorded["outcomes"] == REPORTED_BATCH_OUTCOMES
    assert recorded == expected


def test_the_migrated_schema_is_the_declared_one_on_postgresql(pg_grid_url) -> None:
    db = Database(pg_grid_url)
    check_schema_agrees(db)
    db.close()


def test_a_released_lease_frees_its_job_on_postgresql(pg_grid_url, tmp_path) -> None:
    db = Database(pg_grid_url)
    upgrade(db)
    data = DataStore(tmp_path / "data", db)
    scheduler = Scheduler(
        db, catalog(), data, GridConfig(data_dir=tmp_path), clock=ManualClock(),
        rng=random.Random(1),
    )  # fmt: skip
    workers = ["0x" + f"{n:040x}" for n in (1, 2)]
    for address in workers:
        scheduler.register_worker(address, None, Capabilities(apps=["echo"]))
    job, _ = scheduler.submit(
        JobSubmit(
            app="echo", params={"message": "m"}, policy=ReplicationPolicy(max_total_results=1)
        )
    )
    (lease,) = scheduler.request_work(workers[0]).leases
    assert scheduler.release_lease(workers[0], lease.lease_id) == ("RELEASED", "PENDING")
    assert scheduler.release_lease(workers[0], lease.lease_id) == ("RELEASED", "PENDING")
    (again,) = scheduler.request_work(workers[1]).leases
    assert again.job_id == job.id
    view = scheduler.store.require_job(job.id)
    assert (view.n_errors, view.n_total) == (0, 1)
    with db.read() as conn:
        used = conn.execute(
            text("SELECT quota_used FROM workers WHERE address = :a"), {"a": workers[0]}
        ).scalar()
    assert used == 0
    db.close()


@pytest.mark.parametrize("inline", [False, True], ids=["upload", "inline"])
def test_two_schedulers_racing_on_postgresql_never_over_lease(
    pg_grid_url, tmp_path, inline: bool
) -> None:
    schedulers = []
    for n in range(2):
        db = Database(pg_grid_url)
        assert upgrade(db) == HEAD  # the second one finds the schema in place
        config = GridConfig(data_dir=tmp_path)
        schedulers.append(
            Scheduler(
                db,
                catalog(),
                DataStore(tmp_path / "data", db),
                config,
                clock=ManualClock(),
                rng=random.Random(n),
            )  # fmt: skip
        )
    first = schedulers[0]
    for n in range(30):
        first.submit(
            JobSubmit(
                app="echo",
                params={"message": str(n)},
                policy=ReplicationPolicy(target_nresults=3, min_quorum=2),
            )  # fmt: skip
        )
    addresses = [f"0x{n:040x}" for n in range(24)]
    for address in addresses:
        first.register_worker(address, None, Capabilities(apps=["echo"]))
    errors: list[BaseException] = []
    late: list[str] = []  # uploads refused because their job had ended meanwhile

    deadline = time.monotonic() + 60

    def open_jobs(scheduler: Scheduler) -> int:
        by_state = scheduler.store.metrics(0.0, 1.0).jobs_by_state
        return by_state["PENDING"] + by_state["RUNNING"]

    def hammer(index: int, address: str) -> None:
        scheduler = schedulers[index % 2]
        try:
            done: list[tuple[str, DataRef]] = []
            while time.monotonic() < deadline:
                # inline: the results of the last leases ride on the next work request,
                # recorded in the same transaction as its new leases
                leases = scheduler.request_work(address, 3, results=done).leases
                done = []
                if not leases and open_jobs(scheduler) == 0:
                    return
                for lease in leases:
                    ref = scheduler.data.put_bytes(b"1")
                    if inline:
                        done.append((lease.lease_id, ref))
                        continue
                    try:
                        scheduler.upload_result(address, lease.lease_id, ref)
                    except Conflict as exc:  # the job may have completed meanwhile
                        late.append(exc.message)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(i, a)) for i, a in enumerate(addresses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    # the clock never moves, so a refused upload can only be a lease cancelled by a quorum
    assert all("cancelled (the job ended)" in message for message in late), late[:3]
    targets, counts, doubles = _lease_counts(first.db)
    assert doubles == 0
    assert all(counts.get(job, 0) <= target for job, target in targets.items())
    states = first.store.list_jobs(limit=100)[0]
    assert {job.state for job in states} == {"COMPLETED"}
    for scheduler in schedulers:
        scheduler.db.close()


async def test_two_server_processes_on_one_postgresql_with_fifty_workers(
    pg_grid_url, tmp_path
) -> None:
    data = tmp_path / "shared-data"  # the servers share one data folder, as on a shared disk
    extra = ("--delay-bound", "60", "--idle-retry", "0.5")
    one, url_one = start_server(pg_grid_url, data, 0, *extra)
    two, url_two = start_server(pg_grid_url, data, 0, *extra)
    procs = [one, two]
    try:
        for n in range(5):  # 5 processes x 10 workers, half on each server
            url = url_one if n % 2 == 0 else url_two
            procs.append(start_workers(url, 10, "--max-leases", "2"))
        async with GridClient(url_one, token=TOKEN) as a, GridClient(url_two, token=TOKEN) as b:
            for n in range(150):
                grid = a if n % 2 else b
                policy = {"target_nresults": 1 + n % 3, "min_quorum": 1 + n % 3}
                await grid.submit("echo", {"message": f"m{n % 7}"}, policy=policy)

            async def all_done():
                page = await a.list_jobs(limit=1000)
                return all(j.state == "COMPLETED" for j in page.jobs) and page

            page = await poll(all_done, timeout=90)
            assert len(page.jobs) == 150
            metrics = await b.metrics()
            assert metrics.workers_known == 50
        db = Database(pg_grid_url)
        targets, counts, doubles = _lease_counts(db)
        assert doubles == 0
        over = {job: (counts.get(job), target) for job, target in targets.items()
                if counts.get(job, 0) > target}  # fmt: skip
        assert not over  # never a lease beyond the target (adaptive replication may use fewer)
        with db.read() as conn:
            short = conn.execute(
                text(
                    "SELECT count(*) FROM jobs j WHERE (SELECT count(*) FROM leases l "
                    "WHERE l.job_id = j.id) < j.target_nresults AND NOT EXISTS (SELECT 1 "
                    "FROM leases l WHERE l.job_id = j.id AND l.adaptive = 1)"
                )
            ).scalar()
        assert short == 0  # fewer leases only where a trusted host ran it unreplicated
        db.close()
        assert Counter(targets.values()) == {1: 50, 2: 50, 3: 50}
    finally:
        for proc in procs:
            proc.stop()


def test_a_fast_growing_queue_is_leased_through_its_index(pg_grid_url, tmp_path, monkeypatch):
    import deskgrid.grid.scheduler as scheduler_module

    monkeypatch.setattr(scheduler_module, "ANALYZE_AFTER_SUBMISSIONS", 200)
    db = Database(pg_grid_url)
    upgrade(db)
    scheduler = Scheduler(
        db, catalog(), DataStore(tmp_path / "data", db), GridConfig(data_dir=tmp_path)
    )
    for n in range(400):
        scheduler.submit(JobSubmit(app="echo", params={"message": str(n)}))
    with db.read() as conn:
        analyzed = conn.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'jobs'")
        ).scalar()
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                text(
                    "EXPLAIN SELECT id FROM jobs WHERE n_wanted > 0 "
                    "AND state IN ('PENDING', 'RUNNING') "
                    "ORDER BY priority DESC, created_at, id LIMIT 8"
                )
            )
        )
    assert analyzed is not None  # refreshed by the grid, not by autovacuum
    assert "ix_jobs_queue" in plan and "Sort" not in plan, plan
    db.close()

"""The raw driver statements of the hot paths, and a work request that reports results and
takes new leases in one transaction."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from deskgrid.grid.db import Database
from deskgrid.grid.rawsql import Sql
from tests.grid_fixtures import (
    REPORTED_BATCH_OUTCOMES,
    check_raw_statements,
    echo_result,
    reported_batch_record,
)

from .conftest import Harness, make_harness


def test_statements_are_rendered_for_psycopg_once() -> None:
    sql = Sql("SELECT :a, x::int, '5%' FROM t WHERE b = :b_2")
    assert sql.sqlite == "SELECT :a, x::int, '5%' FROM t WHERE b = :b_2"
    assert sql.postgresql == "SELECT %(a)s, x::int, '5%%' FROM t WHERE b = %(b_2)s"
    other = Sql("SELECT 1", postgresql="SELECT :one")
    assert (other.sqlite, other.postgresql) == ("SELECT 1", "SELECT %(one)s")


def test_raw_statements_on_sqlite(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'raw.db'}")
    check_raw_statements(db)
    db.close()


def test_a_work_request_reports_and_leases_in_one_go(grid: Harness) -> None:
    w = grid.worker(1)
    jobs = [grid.submit(params={"message": f"m{n}"}) for n in range(4)]
    first = grid.lease(w, 2)
    results = [(lease.lease_id, grid.data.put_bytes(echo_result(lease.params))) for lease in first]
    results.append(("f" * 32, grid.data.put_bytes(b"nothing")))  # no such lease
    reply = grid.scheduler.request_work(w, 2, results=results)
    assert [r.accepted for r in reply.results] == [True, True, False]
    assert [r.job_state for r in reply.results[:2]] == ["COMPLETED", "COMPLETED"]
    assert reply.results[2].status == 404
    finished = {lease.job_id for lease in first}
    assert {lease.job_id for lease in reply.leases} == set(jobs) - finished
    assert {j: grid.job(j).state for j in jobs} == {
        j: "COMPLETED" if j in finished else "RUNNING" for j in jobs
    }
    kinds = [e.kind for e in grid.scheduler.events.read(0)]
    assert kinds.count("completed") == 2 and kinds.count("leased") == 4


def test_a_batch_of_reports_is_recorded_as_one_by_one_on_sqlite(tmp_path) -> None:
    one_by_one = reported_batch_record(make_harness(tmp_path / "a"), batched=False)
    batched = reported_batch_record(make_harness(tmp_path / "b"), batched=True)
    assert batched["outcomes"] == REPORTED_BATCH_OUTCOMES
    assert batched == one_by_one


def test_small_results_are_stored_in_the_transaction_that_records_them(grid: Harness) -> None:
    w = grid.worker(1, apps=("sum",))
    right, wrong = (
        grid.submit(app="sum", params={"a": 2, "b": 3}),
        grid.submit(app="sum", params={"a": 1, "b": 1}),
    )
    leases = {lease.job_id: lease.lease_id for lease in grid.lease(w, 2)}
    blobs = {job: b"5" for job in (right, wrong)}
    refs = {job: grid.data.check(content) for job, content in blobs.items()}
    assert not grid.data.exists(refs[right].sha256)  # not stored before the request
    results = [(leases[job], refs[job]) for job in (right, wrong)]
    reply = grid.scheduler.request_work(
        w, 0, results=results, blobs={refs[right].sha256: b"5"}
    )  # the verifier read the bytes inside the uncommitted transaction
    assert [r.lease_state for r in reply.results] == ["VALID", "INVALID"]
    assert grid.data.locate(refs[right].sha256) == b"5"
    assert grid.job(right).state == "COMPLETED" and grid.job(right).result_size == 1


def test_a_lease_race_lost_on_commit_still_records_the_results(grid: Harness, monkeypatch) -> None:
    w = grid.worker(1)
    jobs = {grid.submit(params={"message": "a"}), grid.submit(params={"message": "b"})}
    (lease,) = grid.lease(w, 1)
    (waiting,) = jobs - {lease.job_id}
    content = echo_result(lease.params)
    ref = grid.data.check(content)

    def lost(*_args, **_kwargs):  # as when another server leased to the same worker at once
        raise IntegrityError("INSERT INTO leases", {}, Exception("unique"))

    monkeypatch.setattr(grid.scheduler.leasing, "_lease_one", lost)
    blobs = {ref.sha256: content}
    reply = grid.scheduler.request_work(w, 1, results=[(lease.lease_id, ref)], blobs=blobs)
    assert reply.leases == [] and reply.retry_after is not None
    assert [r.job_state for r in reply.results] == ["COMPLETED"]
    assert (grid.job(lease.job_id).state, grid.job(waiting).state) == ("COMPLETED", "PENDING")
    assert grid.data.read_bytes(ref.sha256) == content  # stored with the recorded result


def test_a_stored_worker_with_app_names_no_longer_accepted_still_gets_work(grid: Harness) -> None:
    w = grid.worker(1)
    with grid.scheduler.db.write() as conn:  # as an older grid may have stored it
        conn.execute(
            text("UPDATE workers SET apps = :apps WHERE address = :a"),
            {"apps": '["echo", "bad\\nname", "\\ud800", 7]', "a": w},
        )
    job = grid.submit()
    assert [lease.job_id for lease in grid.lease(w)] == [job]
    assert grid.scheduler.store.get_worker(w, 0.0, 60.0).apps == ["echo"]

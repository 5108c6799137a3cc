"""Consensus by credibility in the grid (jobs with a trust level): results and reported errors
are votes of stakeholders, weighed by their workers' trust; hidden spot checks (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deskgrid.grid.models import ReplicationPolicy
from tests.grid_fixtures import echo_result

from .conftest import Harness, make_api, make_harness

LEVEL_2 = ReplicationPolicy(trust=2)
MESSAGE = {"message": "trust me"}
TRUST_FIELDS = {"consecutive_valid", "n_valid", "n_invalid"}


@pytest.fixture
def grid(tmp_path: Path, db_url: str | None) -> Iterator[Harness]:
    """No spot checks unless a test asks for them."""
    made = make_harness(tmp_path, db_url, spot_check_rate=0.0)
    yield made
    made.scheduler.db.close()


def earn_trust(grid: Harness, workers: list[str], rounds: int = 10) -> None:
    """Each of `workers` gets `rounds` validated results in a row (plain voted jobs)."""
    for n in range(rounds):
        size = len(workers)
        policy = ReplicationPolicy(target_nresults=size, min_quorum=size, adaptive=False)
        job_id = grid.submit(params={"message": f"warm-up {n}"}, policy=policy)
        for worker in workers:
            (lease,) = grid.lease(worker)
            grid.upload(worker, lease.lease_id, echo_result(lease.params))
        assert grid.job(job_id).state == "COMPLETED"


def answer(grid: Harness, worker: str, content: bytes | None = None) -> str:
    """`worker` leases the one open job and returns `content` (default: the honest result);
    returns the job's state after it."""
    (lease,) = grid.lease(worker)
    ack = grid.upload(worker, lease.lease_id, content or echo_result(lease.params))
    return ack.job_state


def fail(grid: Harness, worker: str) -> str:
    (lease,) = grid.lease(worker)
    return grid.scheduler.report_error(worker, lease.lease_id, "cannot run it").state


def states(grid: Harness, job_id: str) -> dict[str, str]:
    return {lease.worker: lease.state for lease in grid.job(job_id).leases or []}


def test_fresh_stakeholders_need_six_agreeing_results_for_level_2(grid: Harness) -> None:
    workers = [grid.worker(n) for n in range(1, 8)]
    job_id = grid.submit(params=MESSAGE, policy=LEVEL_2)
    assert grid.job(job_id).policy.target_nresults == 2
    assert [len(grid.lease(w)) for w in workers[:3]] == [1, 1, 0]  # two replicas at first
    for worker in workers[:2]:
        (lease,) = [v for v in grid.job(job_id).leases or [] if v.worker == worker]
        grid.upload(worker, lease.id, echo_result(MESSAGE | {"seconds": 0}))
    # two fresh agree: credibility 0.845 < 0.99, so one more replica, and so on
    job = grid.job(job_id)
    assert job.state == "PENDING" and job.n_total == 2
    assert [answer(grid, w) for w in workers[2:6]] == ["PENDING", "PENDING", "PENDING", "COMPLETED"]
    assert set(states(grid, job_id).values()) == {"VALID"}
    assert grid.lease(workers[6]) == []


def test_two_trusted_stakeholders_agreeing_complete_and_the_loser_is_invalid(
    grid: Harness,
) -> None:
    a, b, newcomer = grid.worker(1), grid.worker(2), grid.worker(3)
    earn_trust(grid, [a, b])
    job_id = grid.submit(params=MESSAGE, policy=ReplicationPolicy(trust=2, min_agree=2))
    assert answer(grid, newcomer, b"forged") == "PENDING"
    assert answer(grid, a) == "PENDING"  # one stakeholder for each answer
    assert answer(grid, b) == "COMPLETED"  # credibility 0.991 with two trusted
    assert states(grid, job_id) == {a: "VALID", b: "VALID", newcomer: "INVALID"}
    trust = {w.address: w.consecutive_valid for w in grid.scheduler.store.list_workers(0, 1)}
    assert trust[a] == trust[b] == 11 and trust[newcomer] == 0


def test_three_error_reports_from_fresh_stakeholders_do_not_fail_a_level_2_job(
    grid: Harness,
) -> None:
    failing = [grid.worker(n) for n in range(1, 4)]
    trusted = [grid.worker(n) for n in range(4, 7)]
    earn_trust(grid, trusted)
    job_id = grid.submit(params=MESSAGE, policy=LEVEL_2)
    assert grid.job(job_id).policy.max_error_results == 3
    assert [fail(grid, w) for w in failing] == ["PENDING"] * 3
    job = grid.job(job_id)
    assert job.state == "PENDING" and job.n_errors == 3
    assert grid.lease(failing[0]) == []  # an error was its stakeholder's vote on this job
    # three fresh errors weigh: two trusted results are not enough against them, three are
    assert [answer(grid, w) for w in trusted] == ["PENDING", "PENDING", "COMPLETED"]
    assert {w: states(grid, job_id)[w] for w in trusted} == dict.fromkeys(trusted, "VALID")


def test_an_error_trusted_stakeholders_agree_on_fails_the_job(grid: Harness) -> None:
    a, b, c = grid.worker(1), grid.worker(2), grid.worker(3)
    earn_trust(grid, [a, b])
    job_id = grid.submit(params=MESSAGE, policy=LEVEL_2)
    assert answer(grid, c, b"a lone result") == "PENDING"
    assert fail(grid, a) == "PENDING"
    assert fail(grid, b) == "ERROR"
    job = grid.job(job_id)
    assert job.message and "2 stakeholders agreed that the job fails" in job.message
    assert "cannot run it" in job.message
    assert states(grid, job_id) == {a: "ERROR", b: "ERROR", c: "INVALID"}


def test_expiries_are_no_votes(grid: Harness) -> None:
    lost, a, b = grid.worker(1), grid.worker(2), grid.worker(3)
    earn_trust(grid, [a, b])
    job_id = grid.submit(params=MESSAGE, policy=LEVEL_2)
    grid.lease(lost)
    grid.clock.advance(61.0)
    grid.scheduler.tick()
    assert answer(grid, a) == "PENDING" and answer(grid, b) == "COMPLETED"
    assert states(grid, job_id)[lost] == "EXPIRED"


def test_without_agreement_within_max_total_results_the_job_is_an_error(
    grid: Harness,
) -> None:
    workers = [grid.worker(n) for n in range(1, 4)]
    job_id = grid.submit(params=MESSAGE, policy=ReplicationPolicy(trust=2, max_total_results=3))
    assert [answer(grid, w, f"answer {n}".encode()) for n, w in enumerate(workers)] == [
        "PENDING",
        "PENDING",
        "ERROR",
    ]
    job = grid.job(job_id)
    assert job.message and job.message.startswith("No agreement")
    assert set(states(grid, job_id).values()) == {"SUCCESS"}  # nobody won, nobody lost


def test_a_verified_result_completes_a_trust_job_alone(grid: Harness) -> None:
    worker = grid.worker(1)
    job_id = grid.submit(app="sum", params={"a": 2, "b": 3}, policy=ReplicationPolicy(trust=1))
    assert grid.job(job_id).policy.target_nresults == 1
    assert answer(grid, worker, b"5") == "COMPLETED"


def test_one_error_does_not_fail_a_verified_trust_job(grid: Harness) -> None:
    failing, honest = grid.worker(1), grid.worker(2)
    job_id = grid.submit(app="sum", params={"a": 2, "b": 3}, policy=ReplicationPolicy(trust=1))
    assert fail(grid, failing) == "PENDING"
    assert answer(grid, honest, b"5") == "COMPLETED"
    assert states(grid, job_id) == {failing: "ERROR", honest: "VALID"}


@pytest.mark.parametrize(("rate", "spot_checked"), [(1.0, True), (0.0, False)])
def test_a_hidden_spot_check_hands_out_one_more_replica(
    tmp_path: Path, db_url: str | None, rate: float, spot_checked: bool
) -> None:
    grid = make_harness(tmp_path, db_url, spot_check_rate=rate)
    a, b, checker = grid.worker(1), grid.worker(2), grid.worker(3)
    earn_trust(grid, [a, b])
    job_id = grid.submit(params=MESSAGE, policy=LEVEL_2)
    assert answer(grid, a) == "PENDING"
    assert answer(grid, b) == ("PENDING" if spot_checked else "COMPLETED")
    if spot_checked:  # the checker's replica looks like any other
        assert answer(grid, checker) == "COMPLETED"
        assert states(grid, job_id) == {a: "VALID", b: "VALID", checker: "VALID"}
    else:
        assert grid.lease(checker) == []
    grid.scheduler.db.close()


def test_a_spot_check_that_disagrees_reopens_the_vote(tmp_path: Path, db_url: str | None) -> None:
    grid = make_harness(tmp_path, db_url, spot_check_rate=1.0)
    a, b, checker, more = grid.worker(1), grid.worker(2), grid.worker(3), grid.worker(4)
    earn_trust(grid, [a, b, checker, more])
    job_id = grid.submit(params=MESSAGE, policy=LEVEL_2)
    assert answer(grid, a) == "PENDING" and answer(grid, b) == "PENDING"
    # a trusted dissenter brings the credibility under 0.99: one more voice decides
    assert answer(grid, checker, b"another answer") == "PENDING"
    assert answer(grid, more) == "COMPLETED"
    assert states(grid, job_id) == {a: "VALID", b: "VALID", checker: "INVALID", more: "VALID"}
    grid.scheduler.db.close()


def test_a_worker_never_sees_its_trust_but_the_operator_does(
    tmp_path: Path, db_url: str | None
) -> None:
    api = make_api(tmp_path, db_url=db_url)
    try:
        account, headers = api.login()
        me = api.client.get("/api/v1/workers/me", headers=headers)
        assert me.status_code == 200 and me.json()["address"] == account.address
        assert TRUST_FIELDS.isdisjoint(me.json())
        assert "n_errors" in me.json() and "online" in me.json()
        listed = api.client.get("/api/v1/workers", headers=api.submitter).json()
        assert TRUST_FIELDS <= set(listed[0])
    finally:
        api.service.close()

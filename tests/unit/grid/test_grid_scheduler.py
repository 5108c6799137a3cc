"""The job state machine, driven with a manual clock and no HTTP."""

from __future__ import annotations

import pytest

from deskgrid.grid.config import JobDefaults
from deskgrid.grid.errors import Conflict, Forbidden, NotFound, Unprocessable
from deskgrid.grid.models import Heartbeat, JobSubmit, ReplicationPolicy
from tests.grid_fixtures import echo_result

from .conftest import Harness, make_harness


def policy(**fields) -> ReplicationPolicy:
    return ReplicationPolicy(**fields)


def test_submit_lease_upload_completes(grid: Harness) -> None:
    w = grid.worker(1)
    job_id = grid.submit(params={"message": "hi"})
    assert grid.job(job_id).state == "PENDING"
    (lease,) = grid.lease(w)
    assert lease.job_id == job_id and lease.params == {"message": "hi", "seconds": 0}
    assert lease.heartbeat_interval == pytest.approx(20.0)
    assert grid.job(job_id).state == "RUNNING"
    ack = grid.upload(w, lease.lease_id, echo_result(lease.params))
    assert (ack.lease_state, ack.job_state) == ("VALID", "COMPLETED")
    job = grid.job(job_id)
    assert job.result_sha256 == ack.sha256 and job.completed_at == grid.clock.now()
    assert grid.lease(w) == []


def test_nothing_to_do_says_when_to_retry(grid: Harness) -> None:
    reply = grid.scheduler.request_work(grid.worker(1))
    assert reply.leases == [] and reply.retry_after == grid.scheduler.config.idle_retry_s


def test_submit_is_idempotent_by_external_id(grid: Harness) -> None:
    first, created = grid.scheduler.submit(
        JobSubmit(app="echo", params={"message": "x"}, external_id="task-0x01")
    )
    again, created_again = grid.scheduler.submit(
        JobSubmit(app="echo", params={"message": "x", "seconds": 0}, external_id="task-0x01")
    )
    assert created and not created_again and again.id == first.id
    with pytest.raises(Conflict):
        grid.scheduler.submit(
            JobSubmit(app="echo", params={"message": "other"}, external_id="task-0x01")
        )
    assert grid.scheduler.store.list_jobs()[1] == 1


def test_submit_refuses_unknown_app_bad_params_missing_input(grid: Harness) -> None:
    with pytest.raises(Unprocessable, match="no app named 'nope'"):
        grid.submit(app="nope")
    with pytest.raises(Unprocessable, match="seconds must be"):
        grid.submit(params={"message": "x", "seconds": -1})
    with pytest.raises(Unprocessable, match="not stored"):
        grid.submit(inputs=[{"name": "in.txt", "sha256": "0" * 64}])
    with pytest.raises(Unprocessable, match="min_quorum"):
        grid.submit(policy=policy(target_nresults=1, min_quorum=2))
    with pytest.raises(Unprocessable, match="deadline"):
        grid.submit(deadline=grid.clock.now() - 1)


def test_inputs_are_listed_in_the_lease(grid: Harness) -> None:
    ref = grid.data.put_bytes(b"input bytes")
    grid.submit(inputs=[{"name": "in.txt", "sha256": ref.sha256}])
    (lease,) = grid.lease(grid.worker(1))
    assert [i.model_dump() for i in lease.inputs] == [
        {"name": "in.txt", "sha256": ref.sha256, "size": 11}
    ]


def test_expired_lease_goes_back_to_pending_and_completes_elsewhere(grid: Harness) -> None:
    lost, other = grid.worker(1), grid.worker(2)
    job_id = grid.submit()
    (lease,) = grid.lease(lost)
    grid.clock.advance(59)
    assert grid.scheduler.tick()["expired"] == 0
    grid.clock.advance(2)
    assert grid.scheduler.tick()["expired"] == 1
    job = grid.job(job_id)
    assert (job.state, job.n_errors, job.n_in_progress) == ("PENDING", 1, 0)
    beat = grid.scheduler.heartbeat(lost, lease.lease_id, Heartbeat(progress=0.5))
    assert not beat.keep_going and beat.state == "EXPIRED"
    with pytest.raises(Conflict, match="expired"):
        grid.upload(lost, lease.lease_id, b"late")
    (again,) = grid.lease(other)
    grid.upload(other, again.lease_id, echo_result(again.params))
    assert grid.job(job_id).state == "COMPLETED"


def test_heartbeat_extends_the_lease_and_reports_progress(grid: Harness) -> None:
    w = grid.worker(1)
    job_id = grid.submit()
    (lease,) = grid.lease(w)
    grid.clock.advance(50)
    beat = grid.scheduler.heartbeat(w, lease.lease_id, Heartbeat(progress=0.4, keys_per_s=1e6))
    assert beat.keep_going and beat.expires_at == grid.clock.now() + 60
    grid.clock.advance(50)
    assert grid.scheduler.tick()["expired"] == 0
    job = grid.job(job_id)
    assert (job.progress, job.keys_per_s, job.state) == (0.4, 1e6, "RUNNING")
    grid.clock.advance(11)
    assert grid.scheduler.tick()["expired"] == 1


def test_a_lease_cannot_be_extended_past_the_apps_runtime(tmp_path) -> None:
    grid = make_harness(tmp_path)
    w = grid.worker(1)
    grid.submit()
    (lease,) = grid.lease(w)
    cap = lease.leased_at + lease.max_runtime + grid.scheduler.config.lease_grace_s
    while grid.clock.now() + lease.delay_bound < cap + 30:
        grid.clock.advance(50)
        beat = grid.scheduler.heartbeat(w, lease.lease_id, Heartbeat())
        assert beat.keep_going and beat.expires_at <= cap
    assert beat.expires_at == cap
    grid.clock.advance(lease.delay_bound)
    assert grid.scheduler.tick()["expired"] == 1


def test_a_worker_cannot_touch_another_workers_lease(grid: Harness) -> None:
    owner, thief = grid.worker(1), grid.worker(2)
    grid.submit()
    (lease,) = grid.lease(owner)
    with pytest.raises(Forbidden):
        grid.scheduler.heartbeat(thief, lease.lease_id, Heartbeat())
    with pytest.raises(Forbidden):
        grid.upload(thief, lease.lease_id, b"x")
    with pytest.raises(Forbidden):
        grid.scheduler.report_error(thief, lease.lease_id, "no")
    with pytest.raises(NotFound):
        grid.scheduler.heartbeat(owner, "f" * 32, Heartbeat())


def test_errors_up_to_the_limit_then_error(tmp_path) -> None:
    grid = make_harness(tmp_path)
    w = grid.worker(1)
    job_id = grid.submit(policy=policy(max_error_results=2))
    (first,) = grid.lease(w)
    grid.scheduler.report_error(w, first.lease_id, "crashed")
    assert grid.job(job_id).state == "PENDING"
    (second,) = grid.lease(w)  # after an error the same worker may retry
    job = grid.scheduler.report_error(w, second.lease_id, "crashed again")
    assert (job.state, job.n_errors) == ("ERROR", 2) and "2 times" in (job.message or "")
    assert grid.lease(w) == []


def test_lost_leases_count_as_errors(tmp_path) -> None:
    grid = make_harness(tmp_path)
    w = grid.worker(1)
    job_id = grid.submit(policy=policy(max_error_results=1))
    grid.lease(w)
    grid.clock.advance(61)
    grid.scheduler.tick()
    assert grid.job(job_id).state == "ERROR"


def test_quorum_of_two_agreeing_results(grid: Harness) -> None:
    a, b, c = grid.worker(1), grid.worker(2), grid.worker(3)
    job_id = grid.submit(policy=policy(target_nresults=2, min_quorum=2))
    (la,) = grid.lease(a)
    (lb,) = grid.lease(b)
    assert grid.lease(c) == []  # never more leases than the target
    assert grid.upload(a, la.lease_id, b"42").job_state == "RUNNING"
    assert grid.upload(b, lb.lease_id, b"42").job_state == "COMPLETED"
    job = grid.job(job_id)
    assert {x.state for x in job.leases or []} == {"VALID"}
    now = grid.clock.now()
    assert grid.scheduler.store.get_worker(a, now, 60).consecutive_valid == 1


def test_disagreement_asks_for_another_result_and_marks_the_odd_one_invalid(
    grid: Harness,
) -> None:
    a, b, c = grid.worker(1), grid.worker(2), grid.worker(3)
    job_id = grid.submit(policy=policy(target_nresults=2, min_quorum=2))
    (la,), (lb,) = grid.lease(a), grid.lease(b)
    grid.upload(a, la.lease_id, b"right")
    grid.upload(b, lb.lease_id, b"wrong")
    job = grid.job(job_id)
    assert (job.state, job.n_success) == ("PENDING", 2)
    (lc,) = grid.lease(c)
    assert grid.upload(c, lc.lease_id, b"right").job_state == "COMPLETED"
    states = {x.worker: x.state for x in grid.job(job_id).leases or []}
    assert states == {a: "VALID", b: "INVALID", c: "VALID"}
    now = grid.clock.now()
    assert grid.scheduler.store.get_worker(b, now, 60).n_invalid == 1
    assert grid.scheduler.store.get_worker(c, now, 60).consecutive_valid == 1
    kinds = [e.kind for e in grid.scheduler.events.read(job_id=job_id)]
    assert "invalid" in kinds and kinds[-1] == "completed"


def test_no_quorum_within_max_total_results_is_an_error(grid: Harness) -> None:
    workers = [grid.worker(n) for n in range(1, 4)]
    job_id = grid.submit(policy=policy(target_nresults=2, min_quorum=2, max_total_results=3))
    for n, w in enumerate(workers):
        (lease,) = grid.lease(w)
        grid.upload(w, lease.lease_id, f"answer {n}".encode())
    job = grid.job(job_id)
    assert job.state == "ERROR" and "agreed" in (job.message or "")


def test_a_job_failing_on_its_last_result_counts_that_result(grid: Harness) -> None:
    a, b = grid.worker(1), grid.worker(2)
    job_id = grid.submit(policy=policy(target_nresults=2, min_quorum=2, max_total_results=2))
    (la,), (lb,) = grid.lease(a), grid.lease(b)
    grid.upload(a, la.lease_id, b"one")
    assert grid.upload(b, lb.lease_id, b"two").job_state == "ERROR"
    job = grid.job(job_id)
    assert [x.state for x in job.leases or []] == ["SUCCESS", "SUCCESS"]
    assert (job.n_success, job.n_in_progress) == (2, 0)


def test_a_trusted_host_gets_unreplicated_jobs(tmp_path) -> None:
    grid = make_harness(tmp_path, trust_threshold=2, spot_check_rate=0.0)
    a, b = grid.worker(1), grid.worker(2)
    for n in range(2):  # two validated results make `a` trusted
        grid.submit(params={"message": f"m{n}"}, policy=policy(target_nresults=2, min_quorum=2))
        (la,), (lb,) = grid.lease(a), grid.lease(b)
        grid.upload(a, la.lease_id, b"ok")
        grid.upload(b, lb.lease_id, b"ok")
    job_id = grid.submit(params={"message": "solo"}, policy=policy(target_nresults=2, min_quorum=2))
    (la,) = grid.lease(a)
    assert grid.lease(b) == []  # one replica only
    assert grid.upload(a, la.lease_id, b"ok").job_state == "COMPLETED"
    assert len(grid.job(job_id).leases or []) == 1


def test_adaptive_replication_can_be_refused_and_spot_checks_happen(tmp_path) -> None:
    grid = make_harness(tmp_path, trust_threshold=0, spot_check_rate=1.0)
    a, b = grid.worker(1), grid.worker(2)
    grid.submit(policy=policy(target_nresults=2, min_quorum=2))
    grid.lease(a)
    assert len(grid.lease(b)) == 1  # every job spot-checked: fully replicated
    grid2 = make_harness(tmp_path / "two", trust_threshold=0, spot_check_rate=0.0)
    a2, b2 = grid2.worker(1), grid2.worker(2)
    grid2.submit(policy=policy(target_nresults=2, min_quorum=2, adaptive=False))
    grid2.lease(a2)
    assert len(grid2.lease(b2)) == 1


def test_failed_unreplicated_lease_restores_full_replication(tmp_path) -> None:
    grid = make_harness(tmp_path, trust_threshold=0, spot_check_rate=0.0)
    a, b, c = grid.worker(1), grid.worker(2), grid.worker(3)
    job_id = grid.submit(policy=policy(target_nresults=2, min_quorum=2))
    (la,) = grid.lease(a)
    assert grid.lease(b) == []
    grid.scheduler.report_error(a, la.lease_id, "oops")
    (lb,), (lc,) = grid.lease(b), grid.lease(c)
    grid.upload(b, lb.lease_id, b"v")
    assert grid.upload(c, lc.lease_id, b"v").job_state == "COMPLETED"
    assert grid.job(job_id).n_total == 3


def test_verifiable_app_one_verified_result_suffices(grid: Harness) -> None:
    a, b = grid.worker(1), grid.worker(2)
    job_id = grid.submit(
        app="sum", params={"a": 2, "b": 3}, policy=policy(target_nresults=3, min_quorum=2)
    )
    (la,) = grid.lease(a)
    assert grid.lease(b) == []
    ack = grid.upload(a, la.lease_id, b"5")
    assert (ack.lease_state, ack.job_state) == ("VALID", "COMPLETED")
    assert grid.scheduler.store.get_worker(a, grid.clock.now(), 60).consecutive_valid == 1
    assert grid.job(job_id).result_size == 1


def test_verifiable_app_wrong_result_is_invalid_and_reissued(grid: Harness) -> None:
    a, b = grid.worker(1), grid.worker(2)
    job_id = grid.submit(app="sum", params={"a": 2, "b": 3})
    (la,) = grid.lease(a)
    ack = grid.upload(a, la.lease_id, b"6")
    assert (ack.lease_state, ack.job_state) == ("INVALID", "PENDING")
    assert grid.lease(a) == []  # its invalid result still counts as its vote
    (lb,) = grid.lease(b)
    assert grid.upload(b, lb.lease_id, b"5").job_state == "COMPLETED"
    assert grid.job(job_id).result_sha256 == grid.data.put_bytes(b"5").sha256


def test_verifier_that_cannot_tell_falls_back_to_the_vote(grid: Harness) -> None:
    a, b = grid.worker(1), grid.worker(2)
    job_id = grid.submit(
        app="sum", params={"a": 1, "b": 1}, policy=policy(target_nresults=2, min_quorum=2)
    )
    (la,) = grid.lease(a)
    assert grid.upload(a, la.lease_id, b"unknown").job_state == "PENDING"
    (lb,) = grid.lease(b)
    assert grid.upload(b, lb.lease_id, b"unknown").job_state == "COMPLETED"
    assert {x.state for x in grid.job(job_id).leases or []} == {"VALID"}


def test_workers_only_get_jobs_they_can_run(grid: Harness) -> None:
    small = grid.worker(1, apps=("echo", "big", "dock"), cores=4, memory_mb=64_000)
    no_app = grid.worker(2, apps=("sum",), cores=16, memory_mb=64_000)
    strong = grid.worker(3, apps=("big", "dock"), cores=8, memory_mb=32_000, docker=True)
    big, dock = grid.submit(app="big"), grid.submit(app="dock")
    assert grid.lease(small, 5) == []
    assert grid.lease(no_app, 5) == []
    assert {lease.job_id for lease in grid.lease(strong, 5)} == {big, dock}


def test_one_worker_never_holds_two_replicas_of_a_job(grid: Harness) -> None:
    a = grid.worker(1)
    grid.submit(policy=policy(target_nresults=3, min_quorum=2))
    assert len(grid.lease(a, 10)) == 1
    assert grid.lease(a, 10) == []


def test_batch_leasing_respects_targets_and_limits(tmp_path) -> None:
    grid = make_harness(tmp_path, max_active_leases_per_worker=5)
    a, b = grid.worker(1, cores=4), grid.worker(2, cores=4)  # 2 per core, at most 5
    ids = {grid.submit(params={"message": str(n)}) for n in range(8)}
    first = grid.lease(a, 100)
    assert len(first) == 5 and grid.lease(a, 100) == []
    rest = grid.lease(b, 100)
    assert {x.job_id for x in first} | {x.job_id for x in rest} == ids
    assert len(first) + len(rest) == 8


def test_priority_then_age_orders_the_queue(grid: Harness) -> None:
    a = grid.worker(1)
    old = grid.submit(params={"message": "old"})
    grid.clock.advance(1)
    urgent = grid.submit(params={"message": "urgent"}, priority=5)
    grid.clock.advance(1)
    grid.submit(params={"message": "new"})
    assert [x.job_id for x in grid.lease(a, 2)] == [urgent, old]


def test_cancel_stops_the_running_leases(grid: Harness) -> None:
    a = grid.worker(1)
    job_id = grid.submit()
    (lease,) = grid.lease(a)
    assert grid.scheduler.cancel(job_id).state == "CANCELLED"
    assert not grid.scheduler.heartbeat(a, lease.lease_id, Heartbeat()).keep_going
    with pytest.raises(Conflict, match="cancelled"):
        grid.upload(a, lease.lease_id, b"x")
    assert grid.scheduler.cancel(job_id).state == "CANCELLED"  # idempotent
    done = grid.submit(params={"message": "done"})
    (lease,) = grid.lease(a)
    grid.upload(a, lease.lease_id, b"r")
    with pytest.raises(Conflict, match="COMPLETED"):
        grid.scheduler.cancel(done)
    with pytest.raises(NotFound):
        grid.scheduler.cancel("nope")


def test_completion_cancels_the_redundant_leases(grid: Harness) -> None:
    a, b, c = grid.worker(1), grid.worker(2), grid.worker(3)
    grid.submit(policy=policy(target_nresults=3, min_quorum=2))
    (la,), (lb,), (lc,) = grid.lease(a), grid.lease(b), grid.lease(c)
    grid.upload(a, la.lease_id, b"x")
    grid.upload(b, lb.lease_id, b"x")
    assert not grid.scheduler.heartbeat(c, lc.lease_id, Heartbeat()).keep_going


def test_deadline_passing_is_an_error(grid: Harness) -> None:
    job_id = grid.submit(deadline=grid.clock.now() + 100)
    grid.clock.advance(101)
    assert grid.scheduler.tick()["deadlines"] == 1
    job = grid.job(job_id)
    assert job.state == "ERROR" and "deadline" in (job.message or "")


def test_events_tell_the_story_in_order(grid: Harness) -> None:
    a = grid.worker(1)
    job_id = grid.submit(external_id="task-7")
    (lease,) = grid.lease(a)
    grid.scheduler.heartbeat(a, lease.lease_id, Heartbeat(progress=0.5, keys_per_s=10.0))
    grid.upload(a, lease.lease_id, b"done")
    events = grid.scheduler.events.read()
    assert [e.kind for e in events] == ["submitted", "leased", "progress", "result", "completed"]
    assert [e.seq for e in events] == sorted({e.seq for e in events})
    assert {e.external_id for e in events} == {"task-7"} and {e.job_id for e in events} == {job_id}
    assert grid.scheduler.events.read(since=events[2].seq)[0].kind == "result"
    assert events[2].data["progress"] == 0.5


def test_job_defaults_come_from_the_config(tmp_path) -> None:
    grid = make_harness(tmp_path, defaults=JobDefaults(delay_bound=5.0, target_nresults=2))
    job = grid.job(grid.submit())
    assert (job.policy.target_nresults, job.policy.min_quorum, job.policy.delay_bound) == (
        2,
        1,
        5.0,
    )

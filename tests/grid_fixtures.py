"""Small apps and helpers for the grid's tests (the real built-in apps live in deskgrid.apps).

`catalog()` is also loaded by the integration tests' server processes with
`deskgrid grid serve --catalog tests.grid_fixtures:catalog`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from deskgrid.apps.sdk import AppParamsError, AppSpec, Resources

if TYPE_CHECKING:
    from deskgrid.grid.db import Database


def _echo_validate(params: dict[str, Any]) -> dict[str, Any]:
    message = params.get("message", "")
    if not isinstance(message, str) or len(message) > 10_000:
        raise AppParamsError("message must be a text of at most 10,000 characters.")
    seconds = params.get("seconds", 0)
    if not isinstance(seconds, int | float) or not 0 <= seconds <= 600:
        raise AppParamsError("seconds must be a number between 0 and 600.")
    extra = set(params) - {"message", "seconds"}
    if extra:
        raise AppParamsError(f"Unknown parameters: {', '.join(sorted(extra))}.")
    return {"message": message, "seconds": seconds}


def echo_result(params: dict[str, Any]) -> bytes:
    """What an honest worker returns for an echo job: sha256 of the message, as text."""
    return hashlib.sha256(params["message"].encode()).hexdigest().encode()


def _sum_validate(params: dict[str, Any]) -> dict[str, Any]:
    a, b = params.get("a"), params.get("b")
    if not isinstance(a, int) or not isinstance(b, int):
        raise AppParamsError("a and b must be integers.")
    return {"a": a, "b": b}


def _sum_verify(params: dict[str, Any], result: bytes) -> bool | None:
    if result == b"unknown":
        return None  # the verifier cannot tell: the grid falls back to a vote
    return result == str(params["a"] + params["b"]).encode()


SCHEMA_ECHO = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "seconds": {"type": "number"}},
}
ECHO = AppSpec(
    name="echo",
    version="1.0.0",
    description="Returns the sha256 of a message (after waiting `seconds`).",
    params_schema=SCHEMA_ECHO,
    validate=_echo_validate,
)
SUM = AppSpec(
    name="sum",
    version="1.0.0",
    description="Adds two integers; results are verifiable.",
    params_schema={"type": "object"},
    validate=_sum_validate,
    verify=_sum_verify,
)
BIG = AppSpec(
    name="big",
    version="1.0.0",
    description="Needs 8 cores and 32 GB.",
    params_schema={"type": "object"},
    validate=_echo_validate,
    resources=Resources(cores=8, memory_mb=32_000),
)
DOCK = AppSpec(
    name="dock",
    version="1.0.0",
    description="Needs Docker.",
    params_schema={"type": "object"},
    validate=_echo_validate,
    resources=Resources(docker=True),
    image="example/dock:1",
)


def catalog() -> dict[str, AppSpec]:
    return {spec.name: spec for spec in (ECHO, SUM, BIG, DOCK)}


def check_raw_statements(db: Database) -> None:
    """Raw driver statements run in the SQLAlchemy transaction and fail with SQLAlchemy's
    errors (SQLite and PostgreSQL)."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from deskgrid.grid.rawsql import Raw, Sql

    insert = Sql("INSERT INTO raw_check (id, name) VALUES (:id, :name)")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE raw_check (id INTEGER PRIMARY KEY, name TEXT)"))
        raw = Raw(conn)
        raw.execute(insert, {"id": 1, "name": "a"})
        raw.execute_many(insert, [{"id": 2, "name": "b"}, {"id": 3, "name": "c"}])
        assert conn.execute(text("SELECT count(*) FROM raw_check")).scalar() == 3
        rows = raw.all(Sql("SELECT * FROM raw_check WHERE id >= :id ORDER BY id"), {"id": 2})
        assert rows == [{"id": 2, "name": "b"}, {"id": 3, "name": "c"}]
        assert raw.first(Sql("SELECT * FROM raw_check WHERE id = 7"), {}) is None
        assert raw.all(Sql("SELECT * FROM raw_check WHERE id = 7"), {}) == []
        assert raw.scalar(Sql("SELECT name FROM raw_check WHERE id = :id"), {"id": 1}) == "a"
        renamed = Sql("UPDATE raw_check SET name = 'z' WHERE id > :id")
        assert raw.rowcount(renamed, {"id": 1}) == 2
    with db.write() as conn:  # deferred row updates run in key order, each key's in order
        raw = Raw(conn)
        rename = Sql("UPDATE raw_check SET name = name || :suffix WHERE id = :id")
        raw.start_deferring()
        for key, suffix in (("3", "1"), ("1", "1"), ("3", "2")):
            raw.defer(key, rename, {"id": int(key), "suffix": suffix})
        assert raw.scalar(Sql("SELECT name FROM raw_check WHERE id = 3"), {}) == "z"
        raw.run_deferred()
        names = conn.execute(text("SELECT name FROM raw_check ORDER BY id")).scalars().all()
        assert names == ["a1", "z", "z12"]
        raw.defer("2", rename, {"id": 2, "suffix": "!"})  # not deferring: at once
        assert raw.scalar(Sql("SELECT name FROM raw_check WHERE id = 2"), {}) == "z!"
    with pytest.raises(IntegrityError):  # the driver's error, as SQLAlchemy's
        with db.write() as conn:
            Raw(conn).execute(insert, {"id": 4, "name": "d"})
            Raw(conn).execute(insert, {"id": 1, "name": "again"})
    with db.read() as conn:  # the failed transaction was rolled back whole
        ids = conn.execute(text("SELECT id FROM raw_check ORDER BY id")).scalars().all()
        assert ids == [1, 2, 3]
    # pipelined (PostgreSQL; SQLite runs the same statements as before): writes are queued,
    # reads and row counts wait for what was queued before them, in order
    count = Sql("SELECT count(*) FROM raw_check")
    with db.write() as conn:
        raw = Raw(conn)
        with raw.pipelined():
            raw.execute(insert, {"id": 10, "name": "p"})
            counted = raw.scalar_later(count, {})
            named = raw.all_later(Sql("SELECT name FROM raw_check WHERE id = :id"), {"id": 10})
            assert raw.rowcount(Sql("UPDATE raw_check SET name = 'q' WHERE id >= 3"), {}) == 2
            raw.execute_many(insert, [{"id": 11, "name": "r"}, {"id": 12, "name": "s"}])
            assert (counted(), named()) == (4, [{"name": "p"}])
            assert raw.scalar(count, {}) == 6
    for late in (False, True):  # a queued statement's error, as SQLAlchemy's, at the next
        with pytest.raises(IntegrityError):  # read or when the block ends
            with db.write() as conn:
                raw = Raw(conn)
                with raw.pipelined():
                    raw.execute(insert, {"id": 1, "name": "again"})
                    if not late:
                        raw.scalar(count, {})
        with db.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM raw_check")).scalar() == 6


REPORTED_BATCH_OUTCOMES = [
    ("alone:w", 200, "VALID", "COMPLETED"),
    ("right:w", 200, "VALID", "COMPLETED"),
    ("wrong:w", 200, "INVALID", "PENDING"),
    ("waits:w", 200, "SUCCESS", "RUNNING"),
    ("agrees:w", 200, "VALID", "COMPLETED"),
    ("expires:w", 409, None, None),
    ("theirs:other", 403, None, None),
    ("f" * 32, 404, None, None),
    ("alone:w", 409, None, None),
]  # what `reported_batch_record` reports


def reported_batch_record(grid: Any, *, batched: bool) -> dict[str, Any]:
    """One worker reports a batch of results with mixed outcomes — accepted alone (echo,
    quorum 1), passed and failed by the verifier (sum), one of a vote still waiting
    (quorum 2), one that completes a vote with a peer's result, an expired lease, another
    worker's lease, an unknown lease, the same lease twice — in one work request
    (`batched`) or one `report_results` per result. Returns what was recorded, with ids
    replaced by the scenario's names, to compare the two ways."""
    from deskgrid.grid.models import Capabilities, JobSubmit, ReplicationPolicy

    def submit(app: str, params: dict[str, Any], priority: int = 0, **policy: Any) -> str:
        job = JobSubmit(
            app=app, params=params, policy=ReplicationPolicy(**policy), priority=priority
        )
        return grid.scheduler.submit(job)[0].id

    scheduler = grid.scheduler
    w, other, peer = (f"0x{n:040x}" for n in (1, 2, 3))
    for address in (w, other, peer):
        scheduler.register_worker(address, None, Capabilities(apps=["echo", "sum"], cores=16))
    vote = {"target_nresults": 2, "min_quorum": 2}
    jobs = {  # leased in this order (priority first)
        "alone": submit("echo", {"message": "alone"}, 60),
        "right": submit("sum", {"a": 2, "b": 3}, 50),
        "wrong": submit("sum", {"a": 1, "b": 1}, 40),
        "waits": submit("echo", {"message": "waits"}, 30, **vote),
        "agrees": submit("echo", {"message": "agrees"}, 20, **vote),
        "expires": submit("echo", {"message": "expires"}, 10, delay_bound=10.0),
    }
    mine = {lease.job_id: lease for lease in scheduler.request_work(w, 6).leases}
    assert set(mine) == set(jobs.values())
    jobs["theirs"] = submit("echo", {"message": "theirs"}, priority=100)
    (theirs,) = scheduler.request_work(other, 1).leases
    peers = {lease.job_id: lease for lease in scheduler.request_work(peer, 2).leases}
    assert set(peers) == {jobs["waits"], jobs["agrees"]}
    agreed = peers[jobs["agrees"]]
    scheduler.report_results(peer, [(agreed.lease_id, grid.data.check(echo_result(agreed.params)))])
    grid.clock.advance(30.0)  # past the "expires" lease's delay bound only

    contents = {
        job: b"5" if name in ("right", "wrong") else echo_result(mine[job].params)
        for name, job in jobs.items()
        if job in mine
    }
    refs = {job: grid.data.check(content) for job, content in contents.items()}
    blobs = {refs[job].sha256: content for job, content in contents.items()}
    names = {job: name for name, job in jobs.items()}
    order = ["alone", "right", "wrong", "waits", "agrees", "expires"]
    results = [(mine[jobs[name]].lease_id, refs[jobs[name]]) for name in order]
    results.append((theirs.lease_id, refs[jobs["alone"]]))
    results.append(("f" * 32, refs[jobs["alone"]]))
    results.append(results[0])  # the same lease again
    if batched:
        reply = scheduler.request_work(w, 0, results=results, blobs=blobs)
        outcomes = reply.results
    else:
        outcomes = [o for r in results for o in scheduler.report_results(w, [r], blobs)]
        scheduler.request_work(w, 0)
    lease_names = {lease.lease_id: f"{names[job]}:w" for job, lease in mine.items()}
    lease_names.update({lease.lease_id: f"{names[job]}:peer" for job, lease in peers.items()})
    lease_names[theirs.lease_id] = "theirs:other"
    return {
        "outcomes": [
            (lease_names.get(o.lease_id, o.lease_id), o.status, o.lease_state, o.job_state)
            for o in outcomes
        ],
        "refusals": [o.detail for o in outcomes],
        "jobs": {
            name: grid.job(job).model_dump(exclude={"id", "leases"}) for name, job in jobs.items()
        },
        "leases": {
            lease_names[lease.id]: lease.model_dump(exclude={"id"})
            for job in jobs.values()
            for lease in grid.scheduler.store.require_job(job).leases or []
        },
        "workers": _worker_rows(scheduler.db),
        "events": [
            (names[e.job_id], e.kind, lease_names.get(e.data.get("lease_id"), None))
            for e in scheduler.events.read(0)
        ],
    }


def _worker_rows(db: Database) -> list[dict[str, Any]]:
    from sqlalchemy import text

    with db.read() as conn:
        rows = conn.execute(text("SELECT * FROM workers ORDER BY address")).mappings().all()
    return [dict(row) for row in rows]

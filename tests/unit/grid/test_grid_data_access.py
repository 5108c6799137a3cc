"""Who may read what in the data store (SQLite and PostgreSQL): a submitter everything; a
worker the inputs of its live leases, the served apps' image archives and its own results; a
requester what it uploaded itself and the leases' results. Anything else is answered like
missing content; a digest without its bytes claims nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskgrid.market.app_spec import spec_from_manifest
from tests.grid_fixtures import echo_result
from tests.published_apps import example_manifest, image_id

from .conftest import Api, make_api
from .test_grid_requesters import sign_in_requester

DATA = "/api/v1/data"
GRACE = 3600.0


@pytest.fixture
def api(tmp_path: Path, db_url: str | None) -> Iterator[Api]:
    made = make_api(tmp_path, db_url=db_url, data_grace_s=GRACE)
    yield made
    made.service.close()


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def put(api: Api, content: bytes, headers: dict[str, str], digest: str | None = None):
    return api.client.put(
        f"{DATA}/{digest or digest_of(content)}", content=content, headers=headers
    )


def readable(api: Api, digest: str, headers: dict[str, str]) -> bool:
    """Whether GET and HEAD both serve `digest` to `headers`; a refusal must read exactly
    like missing content."""
    got = api.client.get(f"{DATA}/{digest}", headers=headers)
    head = api.client.head(f"{DATA}/{digest}", headers=headers)
    assert (got.status_code == 200) == (head.status_code == 200), (got.text, head.status_code)
    if got.status_code != 200:
        assert got.status_code == head.status_code == 404
        assert got.json() == {"detail": f"No data with sha256 {digest} is stored here."}
        return False
    assert got.headers["x-content-sha256"] == digest == digest_of(got.content)
    assert head.headers["content-length"] == str(len(got.content))
    return True


def submit(api: Api, inputs: list[str] = ()) -> dict:
    body = {
        "app": "echo",
        "params": {"message": "hi"},
        "inputs": [{"name": f"in{n}", "sha256": d} for n, d in enumerate(inputs)],
    }
    reply = api.client.post("/api/v1/jobs", json=body, headers=api.submitter)
    assert reply.status_code == 201, reply.text
    return reply.json()


def lease(api: Api, worker: dict[str, str]) -> dict:
    (leased,) = api.client.post("/api/v1/work", json={"max_leases": 1}, headers=worker).json()[
        "leases"
    ]
    return leased


def report(api: Api, worker: dict[str, str], leased: dict) -> str:
    content = echo_result(leased["params"])
    digest = digest_of(content)
    reply = api.client.put(
        f"/api/v1/leases/{leased['lease_id']}/result",
        content=content,
        headers=worker | {"X-Content-SHA256": digest},
    )
    assert reply.status_code == 200, reply.text
    return digest


def test_a_worker_reads_the_inputs_of_its_live_lease_only(api: Api) -> None:
    _, requester = sign_in_requester(api)
    _, leased_worker = api.login()
    _, other_worker = api.login()
    task_input, unrelated = b"the input of a task", b"another requester's file"
    assert put(api, task_input, requester).status_code == 201
    assert put(api, unrelated, api.submitter).status_code == 201
    assert not readable(api, digest_of(task_input), leased_worker)  # no lease yet
    submit(api, inputs=[digest_of(task_input)])
    leased = lease(api, leased_worker)
    assert readable(api, digest_of(task_input), leased_worker)
    assert not readable(api, digest_of(task_input), other_worker)  # another worker's input
    assert not readable(api, digest_of(unrelated), leased_worker)  # no job of its lease
    result = report(api, leased_worker, leased)
    assert not readable(api, digest_of(task_input), leased_worker)  # the lease has ended
    assert readable(api, result, leased_worker)  # its own result
    assert not readable(api, result, other_worker)
    assert readable(api, digest_of(task_input), api.submitter)  # the operator reads all


def test_a_worker_reads_the_image_archives_of_the_served_apps(api: Api) -> None:
    _, worker = api.login()
    archive = b"a docker save archive"
    assert put(api, archive, api.submitter).status_code == 201
    assert not readable(api, digest_of(archive), worker)
    served = spec_from_manifest(5, example_manifest("wordfreq", image_id(5), digest_of(archive)))
    api.service.catalog.set_published({served.name: served})
    assert readable(api, digest_of(archive), worker)
    api.service.catalog.set_published({})  # no longer served
    assert not readable(api, digest_of(archive), worker)


def test_a_requester_reads_its_own_uploads_and_results_only(api: Api) -> None:
    _, alice = sign_in_requester(api)
    _, bob = sign_in_requester(api)
    _, worker = api.login()
    mine, theirs = b"alice's input", b"the operator's input"
    assert put(api, mine, alice).status_code == 201
    assert put(api, theirs, api.submitter).status_code == 201
    assert readable(api, digest_of(mine), alice)
    assert not readable(api, digest_of(mine), bob)  # another requester's upload
    assert not readable(api, digest_of(theirs), alice)
    assert not readable(api, "1" * 64, alice)  # missing: the same answer
    submit(api, inputs=[digest_of(mine)])
    result = report(api, worker, lease(api, worker))
    assert readable(api, result, alice) and readable(api, result, bob)  # results: any requester
    assert put(api, mine, bob).status_code == 200  # bob has the bytes too: now his to read
    assert readable(api, digest_of(mine), bob)


def test_a_digest_without_its_bytes_claims_nothing(api: Api) -> None:
    _, alice = sign_in_requester(api)
    _, mallory = sign_in_requester(api)
    secret = b"alice's secret input" * 10
    assert put(api, secret, alice).status_code == 201
    for wrong in (b"not the content", b""):
        claim = put(api, wrong, mallory, digest=digest_of(secret))
        assert claim.status_code == 400 and "does not match" in claim.json()["detail"]
    assert not readable(api, digest_of(secret), mallory)
    big = b"x" * (256 * 1024)  # a file, not a row
    assert put(api, big, alice).status_code == 201
    claim = put(api, big[:-1] + b"y", mallory, digest=digest_of(big))
    assert claim.status_code == 400
    assert not readable(api, digest_of(big), mallory)
    assert readable(api, digest_of(big), alice)


def test_a_false_claim_does_not_keep_old_content(api: Api) -> None:
    _, alice = sign_in_requester(api)
    _, mallory = sign_in_requester(api)
    small, large = b"an unused input", b"u" * (256 * 1024)
    for content in (small, large):
        assert put(api, content, alice).status_code == 201
    api.clock.advance(GRACE - 10)
    for content in (small, large):  # only the digest: the content's age stays
        assert put(api, b"?", mallory, digest=digest_of(content)).status_code == 400
    api.clock.advance(20)
    api.service.housekeeping_once()
    assert not any(api.service.data.exists(digest_of(c)) for c in (small, large))


def uploaders(api: Api, digest: str) -> int:
    from sqlalchemy import text

    with api.service.db.read() as conn:
        query = text("SELECT count(*) FROM data_uploads WHERE sha256 = :d")
        return int(conn.execute(query, {"d": digest}).scalar())


def test_collection_forgets_the_uploaders_with_the_content(api: Api) -> None:
    _, alice = sign_in_requester(api)
    _, bob = sign_in_requester(api)
    small, large, kept = b"a small input", b"z" * (256 * 1024), b"an input still needed"
    for content in (small, large, kept):
        assert put(api, content, alice).status_code == 201
        assert put(api, content, bob).status_code == 200
    submit(api, inputs=[digest_of(kept)])
    api.clock.advance(GRACE + 1)
    api.service.housekeeping_once()
    for gone in (small, large):
        assert not api.service.data.exists(digest_of(gone)) and uploaders(api, digest_of(gone)) == 0
    assert uploaders(api, digest_of(kept)) == 2 and readable(api, digest_of(kept), bob)
    assert put(api, small, bob).status_code == 201  # stored anew: bob's again, alice's no more
    assert readable(api, digest_of(small), bob) and not readable(api, digest_of(small), alice)


def test_each_decision_walks_indexes_only(tmp_path: Path) -> None:
    """SQLite's plan of each statement searches indexes and scans no table (PostgreSQL's
    planner may prefer a scan of tables this small, so its plans prove nothing here)."""
    import sqlite3

    from deskgrid.grid.collection import FORGET_UPLOADERS
    from deskgrid.grid.queries import REQUESTER_MAY_READ, WORKER_MAY_READ

    made = make_api(tmp_path)
    made.service.close()
    params = {"sha256": "a" * 64, "worker": "0x1", "address": "0x2", "cutoff": 1.0}
    with sqlite3.connect(tmp_path / "grid.db") as conn:
        for statement in (WORKER_MAY_READ, REQUESTER_MAY_READ, FORGET_UPLOADERS):
            plan = [
                row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement.sqlite, params)
            ]
            assert any(step.startswith("SEARCH") for step in plan), plan
            assert all(step == "SCAN CONSTANT ROW" for step in plan if step.startswith("SCAN")), (
                plan
            )

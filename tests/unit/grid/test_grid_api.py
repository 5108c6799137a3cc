"""The HTTP API: validation, roles, the worker protocol, data, events (in-process client)."""

from __future__ import annotations

import hashlib

import pytest

from tests.grid_fixtures import echo_result

from .conftest import Api, make_api

JOBS = "/api/v1/jobs"


def submit(api: Api, **body) -> dict:
    body.setdefault("app", "echo")
    body.setdefault("params", {"message": "hi"})
    reply = api.client.post(JOBS, json=body, headers=api.submitter)
    assert reply.status_code in (200, 201), reply.text
    return reply.json()


def test_openapi_apps_health_metrics(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/jobs" in spec["paths"] and "/api/v1/leases/{lease_id}/result" in spec["paths"]
    apps = api.client.get("/api/v1/apps").json()
    assert [a["name"] for a in apps] == ["big", "dock", "echo", "sum"]
    assert api.client.get("/api/v1/apps/sum").json()["verifiable"] is True
    assert api.client.get("/api/v1/apps/nope").status_code == 404
    health = api.client.get("/api/v1/health").json()
    assert health["status"] == "ok" and health["database"] == "sqlite"
    submit(api)
    metrics = api.client.get("/api/v1/metrics").json()
    assert metrics["jobs_by_state"]["PENDING"] == 1


def test_submitter_calls_need_a_submitter_token(api: Api) -> None:
    _, worker = api.login()
    assert api.client.get(JOBS).status_code == 401
    assert api.client.get(JOBS, headers={"Authorization": "Bearer nope"}).status_code == 401
    refused = api.client.get(JOBS, headers=worker)
    assert refused.status_code == 403 and "submitter" in refused.json()["detail"]
    assert api.client.post("/api/v1/work", json={}, headers=api.submitter).status_code == 403


def test_submit_get_list_cancel(api: Api) -> None:
    first = api.client.post(
        JOBS,
        json={"app": "echo", "params": {"message": "a"}, "external_id": "0x1"},
        headers=api.submitter,
    )
    assert first.status_code == 201
    again = api.client.post(
        JOBS,
        json={"app": "echo", "params": {"message": "a"}, "external_id": "0x1"},
        headers=api.submitter,
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    clash = api.client.post(
        JOBS,
        json={"app": "echo", "params": {"message": "b"}, "external_id": "0x1"},
        headers=api.submitter,
    )
    assert clash.status_code == 409
    other = submit(api, app="sum", params={"a": 1, "b": 2})
    job_id = first.json()["id"]
    assert api.client.get(f"{JOBS}/{job_id}", headers=api.submitter).json()["state"] == "PENDING"
    page = api.client.get(JOBS, params={"app": "sum"}, headers=api.submitter).json()
    assert page["total"] == 1 and page["jobs"][0]["id"] == other["id"]
    by_ext = api.client.get(JOBS, params={"external_id": "0x1"}, headers=api.submitter).json()
    assert [j["id"] for j in by_ext["jobs"]] == [job_id]
    states = api.client.get(
        JOBS, params=[("state", "PENDING"), ("state", "RUNNING")], headers=api.submitter
    ).json()
    assert states["total"] == 2
    cancelled = api.client.post(f"{JOBS}/{job_id}/cancel", headers=api.submitter)
    assert cancelled.json()["state"] == "CANCELLED"
    result = api.client.get(f"{JOBS}/{job_id}/result", headers=api.submitter)
    assert result.status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"app": "echo", "params": {"message": 5}}, 422, "message must be"),
        ({"app": "nope"}, 422, "no app named"),
        ({"app": "../etc"}, 422, "app"),
        ({"app": "echo", "surprise": 1}, 422, "surprise"),
        ({"app": "echo", "params": []}, 422, "params"),
        ({"app": "echo", "policy": {"target_nresults": 0}}, 422, "target_nresults"),
        ({"app": "echo", "policy": {"target_nresults": 1, "min_quorum": 3}}, 422, "quorum"),
        ({"app": "echo", "external_id": "a b"}, 422, "external_id"),
        ({"app": "echo", "priority": 10**30}, 422, "priority"),
        ({"app": "echo", "inputs": [{"name": "x", "sha256": "zz"}]}, 422, "sha256"),
        ([1, 2, 3], 422, "valid"),
    ],
)
def test_bad_submissions_get_a_4xx_with_a_sentence(api: Api, body, status, words) -> None:
    reply = api.client.post(JOBS, json=body, headers=api.submitter)
    assert reply.status_code == status
    assert words in reply.text and isinstance(reply.json()["detail"], str)


def test_malformed_and_oversized_requests(api: Api) -> None:
    headers = api.submitter | {"Content-Type": "application/json"}
    assert api.client.post(JOBS, content=b"{not json", headers=headers).status_code == 422
    assert api.client.post(JOBS, content=b"\xff\xfe", headers=headers).status_code == 422
    huge = b'{"app": "echo", "params": {"message": "' + b"x" * (2 * 1024 * 1024) + b'"}}'
    reply = api.client.post(JOBS, content=huge, headers=headers)
    assert reply.status_code == 413 and "limit" in reply.json()["detail"]
    assert api.client.get(f"{JOBS}/not-an-id", headers=api.submitter).status_code == 422
    assert api.client.get(f"{JOBS}/{'a' * 32}", headers=api.submitter).status_code == 404
    assert api.client.get(JOBS, params={"state": "NOPE"}, headers=api.submitter).status_code == 422
    assert api.client.get(JOBS, params={"limit": -1}, headers=api.submitter).status_code == 422
    assert api.client.get("/api/v1/nothing").status_code == 404
    assert api.client.delete(JOBS, headers=api.submitter).status_code == 405


def test_hostile_values_never_cause_a_500(api: Api) -> None:
    _, worker = api.login()
    weird = [None, 1e308, -1, "x" * 10_000, {"a": [[[[[]]]]]}, [None], True, "\u0000\ud7ff"]
    routes = [
        ("post", JOBS, api.submitter),
        ("post", "/api/v1/work", worker),
        ("post", f"/api/v1/leases/{'0' * 32}/heartbeat", worker),
        ("post", f"/api/v1/leases/{'0' * 32}/error", worker),
        ("post", f"/api/v1/leases/{'0' * 32}/release", worker),
        ("post", "/api/v1/workers/challenge", {}),
        ("post", "/api/v1/workers/login", {}),
    ]
    for method, path, headers in routes:
        for value in weird:
            for body in (
                value,
                {"app": value, "params": value},
                {"max_leases": value},
                {"progress": value},
                {"address": value, "signature": value},
            ):
                reply = getattr(api.client, method)(path, json=body, headers=headers)
                assert reply.status_code < 500, (path, body, reply.text)
    for raw in (
        b'{"app": "echo", "params": {"n": 1e999}}',
        b'{"app": "echo", "deadline": 1e999}',
        b'{"progress": NaN}',
        b'{"max_leases": 1e999}',
        b"null",
        b"[]" * 1000,
    ):
        for _method, path, headers in routes:
            reply = api.client.post(
                path, content=raw, headers=headers | {"Content-Type": "application/json"}
            )
            assert 400 <= reply.status_code < 500, (path, raw, reply.text)


def test_worker_login_rejects_bad_signatures_and_stale_challenges(api: Api) -> None:
    from eth_account import Account
    from eth_account.messages import encode_defunct

    me, other = Account.create(), Account.create()

    def attempt(signer, nonce_of=None, tamper=None):
        challenge = api.client.post(
            "/api/v1/workers/challenge", json={"address": me.address}
        ).json()
        text = api.message(challenge) if tamper is None else tamper
        signature = signer.sign_message(encode_defunct(text=text)).signature.hex()
        return challenge, api.client.post(
            "/api/v1/workers/login",
            json={"address": me.address, "nonce": challenge["nonce"], "signature": signature},
        )

    _, reply = attempt(other)
    assert reply.status_code == 401 and "signed by" in reply.json()["detail"]
    _, reply = attempt(me, tamper="something else")
    assert reply.status_code == 401
    challenge = api.client.post("/api/v1/workers/challenge", json={"address": me.address}).json()
    garbage = api.client.post(
        "/api/v1/workers/login",
        json={"address": me.address, "nonce": challenge["nonce"], "signature": "0x1234"},
    )
    assert garbage.status_code == 401 and "not a valid" in garbage.json()["detail"]
    api.clock.advance(api.service.config.challenge_ttl_s + 1)
    signature = me.sign_message(encode_defunct(text=api.message(challenge))).signature.hex()
    login = {"address": me.address, "nonce": challenge["nonce"], "signature": signature}
    expired = api.client.post("/api/v1/workers/login", json=login)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    challenge, ok = attempt(me)
    assert ok.status_code == 200
    login = {
        "address": me.address,
        "nonce": challenge["nonce"],
        "signature": me.sign_message(encode_defunct(text=api.message(challenge))).signature.hex(),
    }
    reused = api.client.post("/api/v1/workers/login", json=login)
    assert reused.status_code == 401 and "already used" in reused.json()["detail"]
    bad_address = api.client.post("/api/v1/workers/challenge", json={"address": "0x12"})
    assert bad_address.status_code == 422


def test_worker_token_expires(tmp_path) -> None:
    api = make_api(tmp_path, worker_token_ttl_s=100.0)
    _, worker = api.login()
    assert api.client.get("/api/v1/workers/me", headers=worker).status_code == 200
    api.clock.advance(101)
    reply = api.client.get("/api/v1/workers/me", headers=worker)
    assert reply.status_code == 401 and "log in again" in reply.json()["detail"]


def test_the_worker_protocol_end_to_end(api: Api) -> None:
    account, worker = api.login()
    _, thief = api.login()
    job = submit(api, params={"message": "abc"}, external_id="task-1")
    reply = api.client.post("/api/v1/work", json={"max_leases": 4}, headers=worker).json()
    (lease,) = reply["leases"]
    assert lease["job_id"] == job["id"] and reply["retry_after"] is None
    empty = api.client.post("/api/v1/work", json={}, headers=thief).json()
    assert empty == {
        "leases": [],
        "retry_after": api.service.config.idle_retry_s,
        "results": [],
        "reason": None,
    }
    base = f"/api/v1/leases/{lease['lease_id']}"
    beat = api.client.post(
        f"{base}/heartbeat", json={"progress": 0.5, "keys_per_s": 7}, headers=worker
    )
    assert beat.json()["keep_going"] is True
    assert api.client.post(f"{base}/heartbeat", json={}, headers=thief).status_code == 403
    content = echo_result(lease["params"])
    digest = hashlib.sha256(content).hexdigest()
    stolen = api.client.put(
        f"{base}/result", content=content, headers=thief | {"X-Content-SHA256": digest}
    )
    assert stolen.status_code == 403
    wrong = api.client.put(
        f"{base}/result", content=content, headers=worker | {"X-Content-SHA256": "0" * 64}
    )
    assert wrong.status_code == 400 and "does not match" in wrong.json()["detail"]
    missing = api.client.put(f"{base}/result", content=content, headers=worker)
    assert missing.status_code == 422
    done = api.client.put(
        f"{base}/result", content=content, headers=worker | {"X-Content-SHA256": digest}
    )
    assert done.status_code == 200 and done.json()["job_state"] == "COMPLETED"
    again = api.client.put(
        f"{base}/result", content=content, headers=worker | {"X-Content-SHA256": digest}
    )
    assert again.status_code == 409
    result = api.client.get(f"{JOBS}/{job['id']}/result", headers=api.submitter)
    assert result.content == content and result.headers["x-content-sha256"] == digest
    events = api.client.get("/api/v1/events", params={"since": 0}, headers=api.submitter).json()
    kinds = [e["kind"] for e in events["events"]]
    assert kinds == ["submitted", "leased", "progress", "result", "completed"]
    later = api.client.get(
        "/api/v1/events", params={"since": events["last_seq"]}, headers=api.submitter
    ).json()
    assert later == {"events": [], "last_seq": events["last_seq"]}
    per_job = api.client.get(f"{JOBS}/{job['id']}/events", headers=api.submitter).json()
    assert len(per_job["events"]) == 5
    me = api.client.get("/api/v1/workers/me", headers=worker).json()
    assert me["address"] == account.address and me["apps"] == ["echo", "sum"]
    listed = api.client.get("/api/v1/workers", headers=api.submitter).json()
    assert len(listed) == 2


def test_error_report_over_http(api: Api) -> None:
    _, worker = api.login()
    submit(api)
    (lease,) = api.client.post("/api/v1/work", json={}, headers=worker).json()["leases"]
    path = f"/api/v1/leases/{lease['lease_id']}/error"
    reply = api.client.post(path, json={"message": "out of memory"}, headers=worker)
    assert reply.json() == {
        "lease_id": lease["lease_id"],
        "lease_state": "ERROR",
        "job_state": "PENDING",
    }
    assert api.client.post(path, json={"message": "again"}, headers=worker).status_code == 409
    assert api.client.post(path, json={"message": ""}, headers=worker).status_code == 422


def test_data_upload_and_download(api: Api) -> None:
    _, worker = api.login()
    content = b"some input"
    digest = hashlib.sha256(content).hexdigest()
    put = api.client.put(f"/api/v1/data/{digest}", content=content, headers=api.submitter)
    assert put.status_code == 201 and put.json() == {"sha256": digest, "size": len(content)}
    assert (
        api.client.put(f"/api/v1/data/{digest}", content=content, headers=api.submitter).status_code
        == 200
    )
    got = api.client.get(f"/api/v1/data/{digest}", headers=api.submitter)
    assert got.content == content
    assert api.client.head(f"/api/v1/data/{digest}", headers=api.submitter).status_code == 200
    assert api.client.get(f"/api/v1/data/{'1' * 64}", headers=api.submitter).status_code == 404
    assert api.client.get(f"/api/v1/data/{digest}").status_code == 401
    lying = api.client.put(f"/api/v1/data/{'2' * 64}", content=content, headers=api.submitter)
    assert lying.status_code == 400
    by_worker = api.client.put(f"/api/v1/data/{'3' * 64}", content=content, headers=worker)
    assert by_worker.status_code == 403 and "only the result" in by_worker.json()["detail"]
    path = "/api/v1/data/..%2F..%2Fx"
    assert api.client.put(path, content=b"", headers=api.submitter).status_code in (
        404,
        422,
    )
    job = submit(api, inputs=[{"name": "in.txt", "sha256": digest}])
    assert job["inputs"] == [{"name": "in.txt", "sha256": digest, "size": len(content)}]


def test_uploads_over_the_limit_are_refused(tmp_path) -> None:
    api = make_api(tmp_path, max_data_bytes=1000, max_result_bytes=1000)
    content = b"x" * 1001
    digest = hashlib.sha256(content).hexdigest()
    reply = api.client.put(f"/api/v1/data/{digest}", content=content, headers=api.submitter)
    assert reply.status_code == 413

    def chunks():
        for _ in range(11):
            yield b"y" * 100

    streamed = api.client.put(f"/api/v1/data/{'3' * 64}", content=chunks(), headers=api.submitter)
    assert streamed.status_code == 413


def test_rate_limits_answer_429_with_retry_after(tmp_path) -> None:
    api = make_api(tmp_path, rate_limit_per_s=1.0, rate_limit_burst=3.0)
    statuses = [
        api.client.post("/api/v1/workers/challenge", json={"address": "0x" + "1" * 40})
        for _ in range(5)
    ]
    assert [s.status_code for s in statuses][-1] == 429
    assert int(statuses[-1].headers["retry-after"]) >= 1


def test_small_results_reported_inline_with_the_work_request(api: Api) -> None:
    import base64

    _, worker = api.login()
    _, other = api.login()
    for n in range(3):
        submit(api, params={"message": f"m{n}"})
    leases = api.client.post("/api/v1/work", json={"max_leases": 3}, headers=worker).json()
    ids = [lease["lease_id"] for lease in leases["leases"]]

    def item(lease_id: str, content: bytes, sha: str | None = None) -> dict:
        return {
            "lease_id": lease_id,
            "sha256": sha or hashlib.sha256(content).hexdigest(),
            "content_b64": base64.b64encode(content).decode(),
        }

    stolen = api.client.post(
        "/api/v1/work", json={"max_leases": 0, "results": [item(ids[0], b"x")]}, headers=other
    ).json()
    assert stolen["results"][0]["accepted"] is False and stolen["results"][0]["status"] == 403
    body = {
        "max_leases": 0,
        "results": [
            item(ids[0], b"ok"),
            item(ids[1], b"ok", sha="0" * 64),
            {"lease_id": ids[2], "sha256": "1" * 64, "content_b64": "%%%"},
        ],
    }
    reply = api.client.post("/api/v1/work", json=body, headers=worker).json()
    assert [r["accepted"] for r in reply["results"]] == [True, False, False]
    assert reply["results"][0]["job_state"] == "COMPLETED"
    assert [r["status"] for r in reply["results"][1:]] == [400, 400]
    again = api.client.post(
        "/api/v1/work", json={"max_leases": 0, "results": [item(ids[0], b"ok")]}, headers=worker
    ).json()
    assert again["results"][0]["status"] == 409


def test_sequence_numbers_beyond_64_bits_get_a_422(api: Api) -> None:
    # These reached the database, which cannot hold them: a 500 (a crash in the stream).
    for path in ("/api/v1/events", f"{JOBS}/{'a' * 32}/events", "/api/v1/events/stream"):
        reply = api.client.get(path, params={"since": 2**63}, headers=api.submitter)
        assert reply.status_code == 422 and "since" in reply.json()["detail"], (path, reply.text)
    largest = 2**63 - 1
    reply = api.client.get("/api/v1/events", params={"since": largest}, headers=api.submitter)
    assert reply.json() == {"events": [], "last_seq": largest}


def test_a_last_event_id_that_is_no_sequence_number_resumes_from_the_start() -> None:
    from deskgrid.grid.api.events import _resume_after

    assert _resume_after("42") == 42 and _resume_after(str(2**63 - 1)) == 2**63 - 1
    # "²" (the Latin-1 byte 0xb2) passes str.isdigit() but not int(): it gave a 500.
    for junk in (None, "", "abc", "-1", "\u00b2", "\u0661", str(2**63), "9" * 5000):
        assert _resume_after(junk) == 0, junk


def test_lone_surrogates_are_refused_before_they_are_stored(api: Api) -> None:
    # JSON lets "\ud800" through as half a UTF-16 pair; stored, no reply could encode it, and
    # listing jobs or workers answered 500 from then on.
    headers = api.submitter | {"Content-Type": "application/json"}
    raw = b'{"app": "echo", "params": {"message": "\\ud800"}}'
    reply = api.client.post(JOBS, content=raw, headers=headers)
    assert reply.status_code == 422 and "surrogate" in reply.json()["detail"]
    assert api.client.get(JOBS, headers=api.submitter).status_code == 200
    _, worker = api.login()
    raw = b'{"capabilities": {"apps": ["\\udc00"]}}'
    reply = api.client.post(
        "/api/v1/work", content=raw, headers=worker | {"Content-Type": "application/json"}
    )
    assert reply.status_code == 422 and "surrogate" in reply.json()["detail"]
    odd = api.client.post("/api/v1/work", json={"capabilities": {"apps": ["a b"]}}, headers=worker)
    assert odd.status_code == 422
    assert api.client.get("/api/v1/workers/me", headers=worker).status_code == 200
    assert api.client.get("/api/v1/workers", headers=api.submitter).status_code == 200


def test_only_the_leases_worker_releases_it_over_http(api: Api) -> None:
    job = api.client.post(JOBS, json={"app": "echo", "params": {}}, headers=api.submitter).json()
    _, worker = api.login()
    _, thief = api.login()
    (lease,) = api.client.post("/api/v1/work", json={}, headers=worker).json()["leases"]
    path = f"/api/v1/leases/{lease['lease_id']}/release"
    assert api.client.post(path, headers=thief).status_code == 403
    assert api.client.post(path, headers=api.submitter).status_code == 403
    assert api.client.post("/api/v1/leases/not-an-id/release", headers=worker).status_code == 422
    for _ in range(2):
        reply = api.client.post(path, headers=worker)
        assert reply.status_code == 200
        assert reply.json() == {
            "lease_id": lease["lease_id"],
            "lease_state": "RELEASED",
            "job_state": "PENDING",
        }
    (again,) = api.client.post("/api/v1/work", json={}, headers=thief).json()["leases"]
    assert again["job_id"] == job["id"]

"""Property-based fuzzing of the grid API from its own OpenAPI document: every operation gets
generated requests, valid and invalid, with a token that may call it; none may answer 5xx
or raise (a hostile request gets a 4xx with a sentence)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from .conftest import Api, make_api

# Who may call each operation: a submitter token, a worker token, or no token at all. Every
# operation of the schema must be listed, so a new route needs a decision here.
ROLES = {
    "GET /api/v1/apps": None,
    "GET /api/v1/apps/{name}": None,
    "GET /api/v1/health": None,
    "GET /api/v1/metrics": None,
    "POST /api/v1/jobs": "submitter",
    "GET /api/v1/jobs": "submitter",
    "GET /api/v1/jobs/{job_id}": "submitter",
    "POST /api/v1/jobs/{job_id}/cancel": "submitter",
    "GET /api/v1/jobs/{job_id}/result": "submitter",
    "GET /api/v1/jobs/{job_id}/events": "submitter",
    "GET /api/v1/events": "submitter",
    "GET /api/v1/events/stream": "submitter",
    "POST /api/v1/workers/challenge": None,
    "POST /api/v1/workers/login": None,
    "POST /api/v1/workers/logout": "worker",
    "GET /api/v1/workers/me": "worker",
    "GET /api/v1/workers": "submitter",
    "POST /api/v1/requesters/challenge": None,
    "POST /api/v1/requesters/login": None,
    "POST /api/v1/work": "worker",
    "POST /api/v1/leases/{lease_id}/heartbeat": "worker",
    "PUT /api/v1/leases/{lease_id}/result": "worker",
    "POST /api/v1/leases/{lease_id}/error": "worker",
    "POST /api/v1/leases/{lease_id}/release": "worker",
    "PUT /api/v1/data/{sha256}": "submitter",
    "GET /api/v1/data/{sha256}": "worker",
    "HEAD /api/v1/data/{sha256}": "worker",
}

STREAM = "GET /api/v1/events/stream"
STREAM_READ_S = 0.2


class Fuzzed:
    """The API under test and the credentials for each role."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.app = api.client.app
        _, worker = api.login()
        self.headers = {None: {}, "submitter": api.submitter, "worker": worker}
        # Some state for the listing routes to show: jobs, a lease, stored data.
        for n in range(3):
            reply = api.client.post(
                "/api/v1/jobs",
                json={"app": "echo", "params": {"message": f"m{n}"}, "external_id": f"x{n}"},
                headers=api.submitter,
            )
            assert reply.status_code == 201, reply.text
        reply = api.client.post("/api/v1/work", json={"max_leases": 1}, headers=worker)
        assert reply.status_code == 200 and reply.json()["leases"], reply.text
        content = b"fuzz input"
        digest = hashlib.sha256(content).hexdigest()
        reply = api.client.put(f"/api/v1/data/{digest}", content=content, headers=api.submitter)
        assert reply.status_code == 201, reply.text


@pytest.fixture
def fuzzed(tmp_path: Path):
    # No rate limit: the test clock stands still, so buckets would never refill.
    api = make_api(tmp_path, rate_limit_per_s=0.0)
    yield Fuzzed(api)
    api.service.close()


def load_schema() -> schemathesis.schemas.BaseSchema:
    """The OpenAPI document of a grid built like the `api` fixture's. Pytest needs the
    operations when it collects the tests, before any fixture exists; each test then sends its
    requests to its own fresh grid (the `fuzzed` fixture)."""
    with tempfile.TemporaryDirectory() as tmp:
        api = make_api(Path(tmp))
        try:
            document = api.client.get("/api/v1/openapi.json").json()
        finally:
            api.service.close()
    loaded = schemathesis.openapi.from_dict(document)
    loaded.config.seed = 20240611
    loaded.config.generation.update(max_examples=50, deterministic=True, database="none")
    # The event stream never ends: stop reading it after its first event.
    loaded.config.max_stream_events = 1
    return loaded


schema = load_schema()


def test_every_operation_has_a_role() -> None:
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels == set(ROLES), labels ^ set(ROLES)


# One grid serves all of an operation's generated requests, as a real server would: its
# state carries over from one request to the next on purpose.
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@schema.parametrize()
def test_no_request_gets_a_server_error(case, fuzzed: Fuzzed) -> None:
    label = case.operation.label
    # An event stream with nothing new stays open; keep what it sent in its first moments.
    timeout = STREAM_READ_S if label == STREAM else None
    case.call_and_validate(
        app=fuzzed.app,
        headers=fuzzed.headers[ROLES[label]],
        timeout=timeout,
        checks=[not_a_server_error],
    )

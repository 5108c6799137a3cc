"""Storage limits: who may store data, upload quotas, the free-disk floor, retention of
finished jobs, collection of unreferenced data, and the modes of the grid's files."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from sqlalchemy import func, select

from deskgrid.grid.config import JobDefaults
from deskgrid.grid.quota import DAY
from deskgrid.grid.schema import blobs, events, job_inputs, jobs, leases
from tests.grid_fixtures import echo_result

from .conftest import SUBMITTER, Api, make_api

OTHER = "another-submitter-token"


def _put(api: Api, content: bytes, token: str = SUBMITTER):
    digest = hashlib.sha256(content).hexdigest()
    headers = {"Authorization": f"Bearer {token}"}
    return api.client.put(f"/api/v1/data/{digest}", content=content, headers=headers)


def _submit(api: Api, **body) -> dict:
    body = {"app": "echo", "params": {"message": "m"}, **body}
    reply = api.client.post("/api/v1/jobs", json=body, headers=api.submitter)
    assert reply.status_code in (200, 201), reply.text
    return reply.json()


def _count(api: Api, table) -> int:
    with api.service.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def test_each_submitter_token_has_its_own_daily_upload_quota(tmp_path) -> None:
    api = make_api(tmp_path, upload_quota_bytes=1000, submitter_tokens=(SUBMITTER, OTHER))
    first = b"a" * 600
    assert _put(api, first).status_code == 201
    refused = _put(api, b"b" * 600)
    assert refused.status_code == 429 and "upload quota" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) > DAY - 10
    assert _put(api, b"c" * 400).status_code == 201  # what is left still fits
    assert _put(api, b"d" * 600, OTHER).status_code == 201  # another identity
    got = api.client.get(f"/api/v1/data/{hashlib.sha256(first).hexdigest()}", headers=api.submitter)
    assert got.content == first  # what was stored stays
    api.clock.advance(DAY)
    assert _put(api, b"b" * 600).status_code == 201  # a new day


def test_a_refused_upload_gives_its_reservation_back(tmp_path) -> None:
    api = make_api(tmp_path, upload_quota_bytes=1000)
    content = b"x" * 700
    wrong = "0" * 64  # the bytes do not hash to the path: 400, nothing stored
    reply = api.client.put(f"/api/v1/data/{wrong}", content=content, headers=api.submitter)
    assert reply.status_code == 400
    assert _put(api, b"y" * 300).status_code == 201  # 700 were counted (sent), 300 left
    assert _put(api, b"z").status_code == 429


def test_uploads_stop_above_the_free_disk_floor(tmp_path) -> None:
    api = make_api(tmp_path, min_free_disk_bytes=1 << 62)
    _, worker = api.login()
    content = b"some input"
    reply = _put(api, content)
    assert reply.status_code == 507 and "disk is nearly full" in reply.json()["detail"]
    assert _count(api, blobs) == 0
    _submit(api)
    lease = api.client.post("/api/v1/work", json={"max_leases": 1}, headers=worker).json()
    lease = lease["leases"][0]
    result = echo_result(lease["params"])
    headers = worker | {"X-Content-SHA256": hashlib.sha256(result).hexdigest()}
    put = api.client.put(
        f"/api/v1/leases/{lease['lease_id']}/result", content=result, headers=headers
    )
    assert put.status_code == 507


def _age(api: Api, seconds: float) -> None:
    api.clock.advance(seconds)


def test_collection_deletes_old_unreferenced_data_and_keeps_the_rest(tmp_path) -> None:
    api = make_api(tmp_path, data_grace_s=3600.0)
    data = api.service.data
    small_input, big_input = b"small input", b"I" * 100_000
    small_orphan, big_orphan = b"small orphan", b"O" * 100_000
    refreshed = b"stored again"
    for content in (small_input, big_input, small_orphan, big_orphan, refreshed):
        assert _put(api, content).status_code == 201
    names = {hashlib.sha256(c).hexdigest(): c for c in (small_input, big_input)}
    _submit(api, inputs=[{"name": f"in{n}", "sha256": d} for n, d in enumerate(names)])
    _, worker = api.login()
    lease = api.client.post("/api/v1/work", json={"max_leases": 1}, headers=worker).json()
    lease = lease["leases"][0]
    result = echo_result(lease["params"])
    headers = worker | {"X-Content-SHA256": hashlib.sha256(result).hexdigest()}
    url = f"/api/v1/leases/{lease['lease_id']}/result"
    assert api.client.put(url, content=result, headers=headers).status_code == 200
    _age(api, 3000)
    assert _put(api, refreshed).status_code == 200  # stored again: its grace starts over
    fresh = b"uploaded for a job about to be submitted"
    _age(api, 1000)
    assert _put(api, fresh).status_code == 201
    api.service.housekeeping_once()
    for content in (small_input, big_input, result, refreshed, fresh):
        assert data.exists(hashlib.sha256(content).hexdigest()), content[:20]
    for content in (small_orphan, big_orphan):
        assert not data.exists(hashlib.sha256(content).hexdigest()), content[:20]
    leftover = data.root / "tmp" / "tmpcrashed"
    leftover.write_bytes(b"half an upload")
    os.utime(leftover, (api.clock.now(), api.clock.now()))
    _age(api, 7200)
    api.service.housekeeping_once()
    assert not leftover.exists()
    assert not data.exists(hashlib.sha256(refreshed).hexdigest())  # its grace has passed
    for content in (small_input, big_input, result):  # the job still refers to them
        assert data.exists(hashlib.sha256(content).hexdigest())


def test_retention_forgets_old_finished_jobs_never_open_ones(tmp_path) -> None:
    defaults = JobDefaults(delay_bound=2000.0)  # the running lease outlives the test
    api = make_api(tmp_path, job_retention_s=1000.0, data_grace_s=10.0, defaults=defaults)
    _, worker = api.login()
    done = _submit(api, params={"message": "done"})
    api.clock.advance(1)  # the queue's order is the submissions' order
    cancelled = _submit(api, params={"message": "cancelled"})
    api.clock.advance(1)
    running = _submit(api, params={"message": "running"})
    lease = api.client.post("/api/v1/work", json={"max_leases": 1}, headers=worker).json()
    first = lease["leases"][0]
    assert first["job_id"] == done["id"]
    result = echo_result(first["params"])
    headers = worker | {"X-Content-SHA256": hashlib.sha256(result).hexdigest()}
    url = f"/api/v1/leases/{first['lease_id']}/result"
    assert api.client.put(url, content=result, headers=headers).status_code == 200
    api.client.post(f"/api/v1/jobs/{cancelled['id']}/cancel", headers=api.submitter)
    pending = _submit(api, params={"message": "pending"}, app="big")  # no worker can run it
    taken = api.client.post("/api/v1/work", json={"max_leases": 1}, headers=worker).json()
    assert taken["leases"][0]["job_id"] == running["id"]
    api.clock.advance(500)
    recent = _submit(api, params={"message": "recent"})
    api.client.post(f"/api/v1/jobs/{recent['id']}/cancel", headers=api.submitter)
    api.clock.advance(600)  # done and cancelled finished 1,100 s ago; recent 600 s ago
    beat = api.client.post(
        f"/api/v1/leases/{taken['leases'][0]['lease_id']}/heartbeat", json={}, headers=worker
    )
    assert beat.json()["keep_going"]  # keep it running
    forgotten = api.service.housekeeping_once()
    assert forgotten["jobs_forgotten"] == 2
    with api.service.db.read() as conn:
        kept = set(conn.execute(select(jobs.c.id)).scalars())
        lease_jobs = set(conn.execute(select(leases.c.job_id)).scalars())
        event_jobs = set(conn.execute(select(events.c.job_id)).scalars())
    assert kept == {running["id"], pending["id"], recent["id"]}
    assert done["id"] not in lease_jobs and running["id"] in lease_jobs
    assert not {done["id"], cancelled["id"]} & event_jobs
    assert api.client.get(f"/api/v1/jobs/{done['id']}", headers=api.submitter).status_code == 404
    assert not api.service.data.exists(hashlib.sha256(result).hexdigest())  # collected too
    page = api.client.get("/api/v1/events?since=0", headers=api.submitter).json()
    assert page["last_seq"] > 0  # the newest event stays


def test_retention_forgets_the_input_references_of_forgotten_jobs(tmp_path) -> None:
    api = make_api(tmp_path, job_retention_s=10.0, data_grace_s=10.0)
    content = b"input"
    _put(api, content)
    job = _submit(api, inputs=[{"name": "in", "sha256": hashlib.sha256(content).hexdigest()}])
    api.client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=api.submitter)
    assert _count(api, job_inputs) == 1
    api.clock.advance(20)
    api.service.housekeeping_once()
    assert _count(api, job_inputs) == 0 and _count(api, jobs) == 0
    assert not api.service.data.exists(hashlib.sha256(content).hexdigest())


def test_old_events_are_forgotten_in_batches(tmp_path) -> None:
    api = make_api(tmp_path, event_retention_s=100.0, cleanup_batch=2)
    for n in range(5):
        _submit(api, params={"message": str(n)})
    api.clock.advance(200)
    last = _submit(api, params={"message": "last"})
    assert api.service.housekeeping_once()["events_forgotten"] == 5
    with api.service.db.read() as conn:
        assert set(conn.execute(select(events.c.job_id)).scalars()) == {last["id"]}
        assert _count(api, jobs) == 6  # open jobs are never forgotten


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_data_are_readable_by_their_owner_only(tmp_path) -> None:
    previous = os.umask(0o022)  # a usual umask: files would be 0644 without care
    try:
        api = make_api(tmp_path / "grid")
        for content in (b"small", b"L" * 100_000):
            assert _put(api, content).status_code == 201
        _submit(api)  # the WAL has content
    finally:
        os.umask(previous)
    folder = tmp_path / "grid"
    assert _mode(folder) == 0o700
    for name in ("grid.db", "grid.db-wal", "grid.db-shm"):
        assert _mode(folder / name) == 0o600, name
    root = api.service.data.root
    assert _mode(root) == 0o700
    (large,) = [p for p in (root / "sha256").rglob("*") if p.is_file()]
    assert _mode(large) == 0o600 and _mode(large.parent) == 0o700


def test_an_older_grids_loose_modes_are_tightened_at_start(tmp_path) -> None:
    folder = tmp_path / "grid"
    folder.mkdir(mode=0o755)
    database = folder / "grid.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    api = make_api(folder)
    assert _mode(folder) == 0o700 and _mode(database) == 0o600
    api.service.close()

"""Published (Docker) apps on a grid whose catalog changes under it (SQLite and PostgreSQL):
their jobs go to any worker with Docker whatever apps it names, and to no other; their leases
carry the image, the result key and the external id; a job whose app leaves the catalog ends
in ERROR with a sentence (at lease time, and by housekeeping); the served apps' image archives
are never collected; `GET /apps` lists them."""

from __future__ import annotations

import pytest

from deskgrid.grid.catalog import LiveCatalog
from deskgrid.grid.collection import Collector
from deskgrid.grid.config import GridConfig
from deskgrid.market.app_spec import spec_from_manifest
from tests.grid_fixtures import catalog
from tests.published_apps import example_manifest, image_id

from .conftest import Harness, make_api, make_harness

KEY = "02" + "5e" * 32
ARCHIVE = "a1" * 32
WORDS = spec_from_manifest(3, example_manifest("wordfreq", image_id(1), archive_sha256=ARCHIVE))
CARLO = spec_from_manifest(4, example_manifest("montecarlo", image_id(2)))


@pytest.fixture
def live() -> LiveCatalog:
    apps = LiveCatalog(catalog())
    apps.set_published({WORDS.name: WORDS, CARLO.name: CARLO})
    return apps


@pytest.fixture
def grid(tmp_path, db_url, live) -> Harness:
    return make_harness(tmp_path, db_url, apps=live)


def submit_words(grid: Harness, **fields) -> str:
    params = fields.pop("params", {"input": "text", "top": 3})
    return grid.submit(app=WORDS.name, params=params, **fields)


def test_a_docker_job_goes_to_any_worker_with_docker_and_no_other(grid: Harness) -> None:
    job_id = submit_words(grid, result_key=KEY, external_id="0x" + "77" * 32)
    assert grid.lease(grid.worker(1, apps=("echo",)), 5) == []
    named_without_docker = grid.worker(2, apps=(WORDS.name,))
    assert grid.lease(named_without_docker, 5) == []
    (lease,) = grid.lease(grid.worker(3, apps=(), docker=True), 5)
    assert lease.job_id == job_id and lease.app == "wordfreq.3" and lease.app_version == "1"
    assert lease.params == {"input": "text", "top": 3}
    assert lease.result_key == KEY and lease.external_id == "0x" + "77" * 32
    assert lease.docker is not None
    assert lease.docker.image_id == image_id(1) and lease.docker.archive_sha256 == ARCHIVE
    assert (lease.docker.cores, lease.docker.memory_mb, lease.docker.max_seconds) == (1, 128, 300)
    assert lease.max_runtime == 300


def test_a_docker_worker_still_gets_the_apps_it_names_and_builtin_leases_carry_no_image(
    grid: Harness,
) -> None:
    echo = grid.submit(app="echo")
    words = submit_words(grid)
    leases = grid.lease(grid.worker(1, apps=("echo",), docker=True), 5)
    assert {lease.job_id for lease in leases} == {echo, words}
    by_job = {lease.job_id: lease for lease in leases}
    assert by_job[echo].docker is None and by_job[echo].result_key is None
    assert by_job[words].docker is not None and by_job[words].result_key is None


def test_a_docker_job_is_never_leased_to_a_worker_too_small_for_it(grid: Harness) -> None:
    submit_words(grid)
    assert grid.lease(grid.worker(1, apps=(), docker=True, memory_mb=64), 5) == []


def test_a_job_whose_app_left_the_catalog_ends_when_a_worker_would_take_it(
    grid: Harness, live: LiveCatalog
) -> None:
    words, carlo = submit_words(grid), grid.submit(app=CARLO.name, params={})
    live.set_published({CARLO.name: CARLO})  # the operator's policy no longer serves wordfreq
    worker = grid.worker(1, apps=(WORDS.name,), docker=True)  # it still names it
    (lease,) = grid.lease(worker, 5)
    assert lease.job_id == carlo
    ended = grid.job(words)
    assert ended.state == "ERROR"
    assert ended.message == "The app wordfreq.3 is no longer served by this grid."


def test_housekeeping_ends_the_jobs_of_apps_that_left_the_catalog(
    grid: Harness, live: LiveCatalog
) -> None:
    words = [submit_words(grid, params={"top": n}) for n in (1, 2)]
    grid.clock.advance(1)  # queued after them
    carlo, echo = grid.submit(app=CARLO.name, params={}), grid.submit(app="echo")
    (running,) = grid.lease(grid.worker(1, apps=(), docker=True), 1)
    assert running.job_id in words  # a running job ends too
    assert grid.scheduler.tick()["unserved"] == 0  # nothing changed
    live.set_published({CARLO.name: CARLO})
    assert grid.scheduler.tick()["unserved"] == 2
    for job_id in words:
        job = grid.job(job_id)
        assert job.state == "ERROR" and "no longer served" in (job.message or "")
    assert {grid.job(carlo).state, grid.job(echo).state} == {"PENDING"}
    assert grid.scheduler.tick()["unserved"] == 0
    live.set_published({CARLO.name: CARLO, WORDS.name: WORDS})  # back: new jobs run again
    assert grid.scheduler.tick()["unserved"] == 0
    assert grid.job(submit_words(grid)).state == "PENDING"


def test_the_served_apps_image_archives_are_never_collected(tmp_path, live) -> None:
    grid = make_harness(tmp_path, apps=live)
    config = GridConfig(data_dir=tmp_path, data_grace_s=10.0)
    archive = b"a docker save archive"
    other = b"unreferenced content"
    live_archive = grid.data.put_bytes(archive).sha256
    served = spec_from_manifest(5, example_manifest("wordfreq", image_id(5), live_archive))
    live.set_published({served.name: served})
    dropped = grid.data.put_bytes(other).sha256
    grid.clock.advance(60)
    collector = Collector(
        grid.scheduler.db, grid.data, config, grid.clock, keep=lambda: live.archives
    )
    collector.collect_rows(100)
    assert grid.data.touch(live_archive) is not None and grid.data.touch(dropped) is None
    live.set_published({})  # no longer served: collected after its grace
    grid.clock.advance(60)
    collector.collect_rows(100)
    assert grid.data.touch(live_archive) is None


def test_get_apps_lists_the_published_apps_as_they_come_and_go(tmp_path) -> None:
    api = make_api(tmp_path)
    try:
        names = {app["name"] for app in api.client.get("/api/v1/apps").json()}
        assert WORDS.name not in names
        api.service.catalog.set_published({WORDS.name: WORDS})
        listed = {app["name"]: app for app in api.client.get("/api/v1/apps").json()}
        assert listed[WORDS.name]["uri"] == "docker:" + image_id(1)
        assert listed[WORDS.name]["resources"]["docker"] is True
        assert listed[WORDS.name]["resources"]["memory_mb"] == 128
        one = api.client.get(f"/api/v1/apps/{WORDS.name}")
        assert one.status_code == 200 and one.json()["verifiable"] is False
        api.service.catalog.set_published({})
        assert api.client.get(f"/api/v1/apps/{WORDS.name}").status_code == 404
    finally:
        api.service.close()

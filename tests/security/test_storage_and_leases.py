"""Hostile clients against a real `deskgrid grid serve` process on loopback (SQLite): what
they may store, how much, what the grid forgets and collects, the modes of its files, how
many leases a fresh identity may take, and how long heartbeats may keep one.

Where a rule needs time to pass (retention, collection), the test ages rows and files in
the server's database and data folder instead of waiting: the server is real, only the
calendar is moved."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from deskgrid.grid.client import GridClient, GridClientError, GridUnavailable
from deskgrid.grid.models import Capabilities
from tests.grid_fixtures import echo_result
from tests.integration.grid.processes import TOKEN, start_server

pytestmark = pytest.mark.integration
LONG_AGO = 30 * 86400.0  # seconds an aged row or file is moved back


async def poll(check: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
    """Call `check()` until it returns something truthy (the deadline is a failure)."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                found = await check()
            except GridUnavailable:
                found = None
            if found:
                return found
            await asyncio.sleep(0.1)


@asynccontextmanager
async def grid_server(folder: Path, *options: str) -> AsyncIterator[tuple[str, GridClient]]:
    """A real grid server on a SQLite file in `folder`, and a submitter's client."""
    catalog = ("--catalog", "tests.security.apps:catalog")
    server, url = start_server(f"sqlite:///{folder / 'grid.db'}", folder, 0, *catalog, *options)
    try:
        async with GridClient(url, token=TOKEN) as submitter:
            yield url, submitter
    finally:
        server.stop()


@asynccontextmanager
async def worker(url: str, cores: int = 4, apps=("echo", "brief")) -> AsyncIterator[GridClient]:
    async with GridClient(url) as client:
        caps = Capabilities(apps=list(apps), cores=cores)
        await client.authenticate(Account.create(), capabilities=caps)
        yield client


def sql(folder: Path, statement: str, *params: Any) -> list[tuple]:
    """A statement on the server's database, from outside (as a calendar moving on)."""
    with closing(sqlite3.connect(folder / "grid.db", timeout=30)) as conn, conn:
        return conn.execute(statement, params).fetchall()


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


async def stored(client: GridClient, content: bytes) -> bool:
    try:
        await client.download_data(digest(content))
    except GridClientError as exc:
        assert exc.status == 404
        return False
    return True


async def test_a_worker_token_cannot_store_data(tmp_path) -> None:
    async with grid_server(tmp_path) as (url, submitter), worker(url) as hostile:
        junk = b"x" * 50_000
        with pytest.raises(GridClientError) as refused:
            await hostile.upload_data(junk)
        assert refused.value.status == 403 and "only the result" in refused.value.detail
        # nor by reporting "results" of leases it does not hold
        reply = await hostile.request_work(0, results={"f" * 32: junk})
        assert not reply.results[0].accepted
        job = await submitter.submit("echo", {"message": "m"})
        async with worker(url) as owner:
            (lease,) = (await owner.request_work(1)).leases
            reply = await hostile.request_work(0, results={lease.lease_id: junk})
            assert not reply.results[0].accepted and reply.results[0].status == 403
            assert not await stored(submitter, junk)
            await owner.upload_result(lease.lease_id, echo_result(lease.params))
        assert (await submitter.get_job(job.id)).state == "COMPLETED"


async def test_a_submitter_over_its_quota_is_refused_and_keeps_its_data(tmp_path) -> None:
    async with grid_server(tmp_path, "--upload-quota", "1") as (_url, submitter):
        first = b"a" * 700_000
        await submitter.upload_data(first)
        with pytest.raises(GridClientError) as refused:
            await submitter.upload_data(b"b" * 700_000)
        assert refused.value.status == 429
        assert "upload quota" in refused.value.detail and "frees in" in refused.value.detail
        assert await stored(submitter, first)
        assert not await stored(submitter, b"b" * 700_000)


async def test_uploads_are_refused_above_the_free_disk_floor(tmp_path) -> None:
    floor = str(1 << 40)  # MiB: more than any disk has free
    async with grid_server(tmp_path, "--min-free-disk", floor) as (_url, submitter):
        with pytest.raises(GridClientError) as refused:
            await submitter.upload_data(b"input")
        assert refused.value.status == 507 and "disk is nearly full" in refused.value.detail
        assert not await stored(submitter, b"input")


async def test_collection_deletes_old_unreferenced_data_only(tmp_path) -> None:
    async with grid_server(tmp_path, "--data-grace", "3600") as (_url, submitter):
        small_orphan, large_orphan = b"small orphan", b"L" * 200_000
        small_input, large_input = b"small input", b"I" * 200_000
        for content in (small_orphan, large_orphan, small_input, large_input):
            await submitter.upload_data(content)
        inputs = [
            {"name": "a", "sha256": digest(small_input)},
            {"name": "b", "sha256": digest(large_input)},
        ]
        job = await submitter.submit("echo", {"message": "m"}, inputs=inputs)
        # a day later: everything stored so far is old
        sql(tmp_path, "UPDATE blobs SET created_at = created_at - ?", LONG_AGO)
        for path in (tmp_path / "data" / "sha256").rglob("*"):
            if path.is_file():
                old = path.stat().st_mtime - LONG_AGO
                os.utime(path, (old, old))
        fresh = b"just uploaded for a job being submitted"
        await submitter.upload_data(fresh)

        async def orphans_gone() -> bool:
            return not await stored(submitter, small_orphan) and not await stored(
                submitter, large_orphan
            )

        await poll(orphans_gone)
        for content in (small_input, large_input, fresh):
            assert await stored(submitter, content)
        assert (await submitter.get_job(job.id)).state == "PENDING"


async def test_retention_forgets_old_finished_jobs_never_open_ones(tmp_path) -> None:
    options = ("--job-retention", "3600", "--event-retention", "3600")
    async with grid_server(tmp_path, *options) as (url, submitter), worker(url) as w:
        done = await submitter.submit("echo", {"message": "done"})
        (lease,) = (await w.request_work(1)).leases
        await w.upload_result(lease.lease_id, echo_result(lease.params))
        cancelled = await submitter.submit("echo", {"message": "cancelled"})
        await submitter.cancel(cancelled.id)
        running = await submitter.submit("echo", {"message": "running"})
        (taken,) = (await w.request_work(1)).leases
        pending = await submitter.submit("big", {"message": "nobody can run it"})
        # long ago: every job and event (the open jobs too, as if queued for weeks)
        for table, column in (("jobs", "created_at"), ("jobs", "finished_at"), ("events", "at")):
            sql(tmp_path, f"UPDATE {table} SET {column} = {column} - ?", LONG_AGO)
        sql(tmp_path, "UPDATE leases SET leased_at = leased_at - ?", LONG_AGO)

        async def forgotten() -> bool:
            page = await submitter.list_jobs(limit=10)
            return {j.id for j in page.jobs} == {running.id, pending.id}

        await poll(forgotten)
        assert (await submitter.get_job(running.id)).state == "RUNNING"
        assert (await submitter.get_job(pending.id)).state == "PENDING"
        beat = await w.heartbeat(taken.lease_id, progress=0.5)
        assert beat.keep_going
        left = sql(tmp_path, "SELECT DISTINCT job_id FROM leases")
        assert {row[0] for row in left} == {running.id}
        events = "SELECT count(*) FROM events WHERE job_id IN (?, ?)"
        assert sql(tmp_path, events, done.id, cancelled.id)[0][0] <= 1  # the newest may stay


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_database_and_data_are_readable_by_their_owner_only(tmp_path) -> None:
    folder = tmp_path / "grid"
    folder.mkdir()
    async with grid_server(folder) as (_url, submitter):
        await submitter.upload_data(b"small")
        await submitter.upload_data(b"L" * 200_000)
        await submitter.submit("echo", {"message": "m"})
        for name in ("grid.db", "grid.db-wal", "grid.db-shm"):
            assert _mode(folder / name) == 0o600, name
        data = folder / "data"
        assert _mode(folder) == 0o700 and _mode(data) == 0o700
        files = [p for p in (data / "sha256").rglob("*") if p.is_file()]
        assert files and all(_mode(p) == 0o600 and _mode(p.parent) == 0o700 for p in files)


async def test_a_fresh_identity_cannot_take_the_queue(tmp_path) -> None:
    options = ("--quota-start", "4")
    async with grid_server(tmp_path, *options) as (url, submitter):
        for n in range(40):
            await submitter.submit("echo", {"message": f"job {n}"})
        async with worker(url, cores=8) as honest:  # earns its quota with valid results
            for lease in (await honest.request_work(8)).leases:
                await honest.upload_result(lease.lease_id, echo_result(lease.params))
            async with worker(url, cores=4096) as hoarder:
                hoarded = (await hoarder.request_work(256)).leases
                assert len(hoarded) == 4
                refused = await hoarder.request_work(256)
                assert refused.leases == [] and "daily quota" in (refused.reason or "")
                assert refused.retry_after is not None and refused.retry_after > 3600
                for lease in hoarded:  # errors cost it its quota
                    await hoarder.report_error(lease.lease_id, "no")
                me = await hoarder.me()
                assert me.n_errors == 4
            got = (await honest.request_work(16)).leases
            assert len(got) == 16  # 2 per core: the honest worker still gets work
            capped = await honest.request_work(16)
            assert capped.leases == [] and "already holds 16 leases" in (capped.reason or "")


async def test_heartbeats_cannot_keep_a_lease_past_its_apps_run_time(tmp_path) -> None:
    async with grid_server(tmp_path, "--lease-grace", "1") as (url, submitter), worker(url) as w:
        job = await submitter.submit("brief", {"message": "m"}, policy={"delay_bound": 1.0})
        (lease,) = (await w.request_work(1)).leases
        hard = lease.leased_at + lease.max_runtime + 1.0
        assert lease.max_runtime == 2.0 and lease.expires_at <= hard
        replies = []

        async def stopped() -> bool:
            beat = await w.heartbeat(lease.lease_id, progress=0.5)
            replies.append(beat)
            return not beat.keep_going

        await poll(stopped, timeout=60)
        assert all(beat.expires_at <= hard for beat in replies)
        assert replies[-1].state == "EXPIRED"

        async def requeued():
            found = await submitter.get_job(job.id)
            return found.state == "PENDING" and found

        found = await poll(requeued)
        assert found.n_errors == 1 and [x.state for x in found.leases or []] == ["EXPIRED"]

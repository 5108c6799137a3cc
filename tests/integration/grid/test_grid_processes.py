"""A real `deskgrid grid serve` process and real worker processes on loopback (SQLite):
lost workers and a killed server lose no job, and no job is leased beyond its target."""

from __future__ import annotations

import asyncio

import pytest

from deskgrid.grid.client import GridClient, GridUnavailable

from .processes import TOKEN, Proc, start_server, start_workers

pytestmark = pytest.mark.integration


async def poll(check, timeout: float = 60.0, every: float = 0.1):
    """Call `check()` until it returns something truthy (the deadline is a failure)."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                found = await check()
            except GridUnavailable:
                found = None
            if found:
                return found
            await asyncio.sleep(every)


async def test_killed_worker_mid_lease_the_job_completes_elsewhere(tmp_path) -> None:
    server, url = start_server(f"sqlite:///{tmp_path / 'grid.db'}", tmp_path)
    procs: list[Proc] = [server]
    try:
        async with GridClient(url, token=TOKEN) as grid:
            slow = start_workers(url, 1, "--slow", "1000")  # would take 50 s
            procs.append(slow)
            slow_address = slow.wait_line(r"LOGIN (0x\w+)").group(1)
            job = await grid.submit("echo", {"message": "m", "seconds": 0.05},
                                    policy={"delay_bound": 1.0})  # fmt: skip

            async def running():
                found = await grid.get_job(job.id)
                return found.state == "RUNNING" and found

            assert (await poll(running)).leases[0].worker == slow_address
            slow.kill9()
            procs.append(start_workers(url, 1))

            async def finished():
                found = await grid.get_job(job.id)
                return found.state == "COMPLETED" and found

            done = await poll(finished)
            assert [x.state for x in done.leases or []] == ["EXPIRED", "VALID"]
            assert done.leases[1].worker != slow_address and done.n_errors == 1
    finally:
        for proc in procs:
            proc.stop()


async def test_killed_server_restarts_on_its_database_and_finishes_every_job(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'grid.db'}"
    server, url = start_server(db, tmp_path)
    port = url.rsplit(":", 1)[1]
    workers = start_workers(url, 3)
    procs = [server, workers]
    try:
        async with GridClient(url, token=TOKEN) as grid:
            ids = [
                (await grid.submit("echo", {"message": f"job {n}", "seconds": 0.4},
                                   policy={"delay_bound": 15.0})).id
                for n in range(20)
            ]  # fmt: skip

            async def busy():
                page = await grid.list_jobs(limit=100)
                states = [j.state for j in page.jobs]
                return (
                    states.count("COMPLETED") >= 3 and "RUNNING" in states and "PENDING" in states
                )

            await poll(busy)
            server.kill9()
            server, url2 = start_server(db, tmp_path, int(port))
            procs.append(server)
            assert url2 == url

            async def all_done():
                page = await grid.list_jobs(limit=100)
                return all(j.state == "COMPLETED" for j in page.jobs) and page

            page = await poll(all_done)
            assert sorted(j.id for j in page.jobs) == sorted(ids)
            for summary in page.jobs:
                job = await grid.get_job(summary.id)
                answered = [x for x in job.leases or [] if x.state not in ("EXPIRED", "ERROR")]
                assert len(answered) == 1 and answered[0].state == "VALID", job
            events = (await grid.events(since=0, limit=5000)).events
            leased = [e for e in events if e.kind == "leased"]
            assert leased and max(e.data["n_in_progress"] for e in leased) == 1
            assert {e.seq for e in events} == set(range(events[0].seq, events[-1].seq + 1))
    finally:
        for proc in procs:
            proc.stop()

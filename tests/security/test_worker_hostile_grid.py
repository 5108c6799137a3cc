"""A real worker process against a hostile grid (a real grid server behind a scripted proxy):
its memory and disk stay bounded, a job with bad inputs never runs, the grid is told, and the
worker goes on computing honest leases."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest

from deskgrid.grid.client import GridClient
from tests.conftest import require
from tests.security.hostile import (
    MIB,
    HostileGrid,
    compressed,
    endless,
    huge,
    other_bytes,
    redirect,
)
from tests.security.workerproc import peak_rss, poll, start_worker, wait_line

pytestmark = pytest.mark.integration

CAP_MB = 64
GIB = 1024 * MIB
# The worker's peak memory may grow this much above its idle peak while refusing 1 GiB.
MEMORY_BOUND = 100 * MIB
SLACK = 32 * MIB
IDLE = r"Waiting for work from the grid"


async def submit_digest(submitter: GridClient, name: str, content: bytes) -> str:
    ref = await submitter.upload_data(content)
    job = await submitter.submit(
        "digest", {}, inputs=[{"name": name, "sha256": ref.sha256}], policy={"max_error_results": 1}
    )
    return job.id


async def lease_error(submitter: GridClient, job_id: str) -> str:
    done = await submitter.wait_job(job_id, timeout=120)
    assert done.state == "ERROR", f"the job ran: {done.state}"
    view = await submitter.get_job(job_id)
    messages = [lease.message or "" for lease in view.leases or [] if lease.state == "ERROR"]
    assert messages, view
    return messages[0]


async def honest_job_completes(submitter: GridClient) -> None:
    content = b"an honest input" * 1000
    job_id = await submit_digest(submitter, "honest.bin", content)
    done = await submitter.wait_job(job_id, timeout=120)
    assert done.state == "COMPLETED", done
    result = json.loads(await submitter.download_result(job_id))
    assert result == {"honest.bin": [hashlib.sha256(content).hexdigest(), len(content)]}


CASES = {
    "endless body, no Content-Length": (lambda url: endless(GIB), r"larger than"),
    "1 GiB declared": (lambda url: huge(GIB), rf"more than the {CAP_MB * MIB} bytes"),
    "other bytes": (lambda url: other_bytes(b"forged" * 1000), r"another sha256"),
    "redirect": (
        lambda url: redirect(lambda sha: f"{url}/api/v1/data/{sha}"),
        r"does not follow redirects",
    ),
    "compressed": (lambda url: compressed(b"z" * 20000), r"compressed"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_hostile_input_is_refused_within_bounds(
    hostile: tuple[object, GridClient, HostileGrid], tmp_path: Path, deskgrid_home: Path, case: str
) -> None:
    require(sys.platform.startswith("linux"), "Linux: the peak memory is read from /proc")
    server, submitter, proxy = hostile
    answer, refusal = CASES[case]
    worker = start_worker(proxy.url, tmp_path / "w", "--max-input-mb", str(CAP_MB))
    try:
        await wait_line(worker, IDLE)
        baseline = peak_rss(worker.popen.pid)
        proxy.data = answer(server.url)  # type: ignore[attr-defined]
        job_id = await submit_digest(submitter, "in.bin", b"z" * 20000)
        message = await lease_error(submitter, job_id)
        assert "The job's input in.bin was refused" in message
        assert re.search(refusal, message), message
        assert peak_rss(worker.popen.pid) - baseline < MEMORY_BOUND
        assert proxy.sent < CAP_MB * MIB + SLACK
        jobs = deskgrid_home / "worker" / "jobs"
        await poll(lambda: not any(jobs.iterdir()), "the refused inputs to be deleted")
        proxy.data = None
        await honest_job_completes(submitter)
    finally:
        worker.stop()


def _rename(name: str):
    def rewrite(lease: dict) -> None:
        lease["inputs"][0]["name"] = name

    return rewrite


def _reid(data_id: str):
    def rewrite(lease: dict) -> None:
        lease["inputs"][0]["sha256"] = data_id

    return rewrite


def _many(count: int):
    def rewrite(lease: dict) -> None:
        first = lease["inputs"][0]
        lease["inputs"] = [{**first, "name": f"in{n}.bin"} for n in range(count)]

    return rewrite


def _twice(lease: dict) -> None:
    first = lease["inputs"][0]
    lease["inputs"] = [first, {**first, "name": first["name"].upper()}]


def _declared(size: int):
    def rewrite(lease: dict) -> None:
        lease["inputs"][0]["size"] = size

    return rewrite


LEASES = {
    "path in the name": (_rename("../../.ssh/authorized_keys"), "not a plain file name"),
    "absolute name": (None, "not a plain file name"),  # a path in the test's folder
    "hidden name": (_rename(".bashrc"), "not a plain file name"),
    "the runner's result": (_rename("result"), "is reserved"),
    "the runner's params": (_rename("params.json"), "is reserved"),
    "a Windows device": (_rename("con.txt"), "is reserved"),
    "the same name twice": (_twice, "names two inputs"),
    "a data id with a path": (_reid("../../../../etc/passwd"), "not a sha256"),
    "too many inputs": (_many(1000), "at most 64"),
    "declared above the cap": (_declared(10 * GIB), "more than the 64 MiB"),
}


@pytest.mark.parametrize("case", list(LEASES))
async def test_a_lease_with_bad_inputs_never_runs(
    hostile: tuple[object, GridClient, HostileGrid], tmp_path: Path, deskgrid_home: Path, case: str
) -> None:
    _server, submitter, proxy = hostile
    rewrite, refusal = LEASES[case]
    owned = tmp_path / "owned"
    rewrite = rewrite or _rename(str(owned))
    worker = start_worker(proxy.url, tmp_path / "w", "--max-input-mb", str(CAP_MB))
    try:
        await wait_line(worker, IDLE)
        proxy.rewrite_lease = rewrite
        job_id = await submit_digest(submitter, "in.bin", b"input")
        message = await lease_error(submitter, job_id)
        assert refusal in message, message
        assert proxy.data_requests == 0  # refused before anything was fetched
        assert not (deskgrid_home / "worker" / ".ssh").exists()
        assert not owned.exists()
        await honest_job_completes(submitter)
    finally:
        worker.stop()


async def test_inputs_that_would_fill_the_disk_are_refused(
    hostile: tuple[object, GridClient, HostileGrid], tmp_path: Path
) -> None:
    _server, submitter, proxy = hostile
    # a floor above the disk's free space: every input would take the disk below it
    worker = start_worker(proxy.url, tmp_path / "w", "--min-free-disk-mb", str(1 << 30))
    try:
        await wait_line(worker, IDLE)
        job_id = await submit_digest(submitter, "in.bin", b"input")
        message = await lease_error(submitter, job_id)
        assert "free on this computer's disk" in message, message
        assert proxy.data_requests == 0
    finally:
        worker.stop()


@pytest.mark.parametrize("field", ["lease_id", "job_id"])
async def test_a_lease_with_an_invalid_id_is_ignored(
    hostile: tuple[object, GridClient, HostileGrid], tmp_path: Path, field: str
) -> None:
    _server, submitter, proxy = hostile

    def rewrite(lease: dict) -> None:
        lease[field] = "../../jobs/x/cancel"

    worker = start_worker(proxy.url, tmp_path / "w")
    try:
        await wait_line(worker, IDLE)
        proxy.rewrite_lease = rewrite
        job = await submitter.submit("echo", {"text": "x"}, policy={"delay_bound": 1.0})
        await wait_line(worker, "a lease with an invalid id; it was ignored", timeout=30)
        # the lease expires and the job is leased again, as the grid sent it: it completes
        done = await submitter.wait_job(job.id, timeout=60)
        assert done.state == "COMPLETED" and worker.popen.poll() is None
    finally:
        worker.stop()

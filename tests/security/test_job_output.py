"""A job cannot fill the volunteer's disk nor hand over a file that is not its own: real native
jobs (the misbehaving stand-ins of tests/integration/worker/job_helper.py) and, when Docker
runs, real containers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from deskgrid.paths import sub_dir
from deskgrid.worker.native_runner import NativeRunner
from deskgrid.worker.runner import MAX_JOB_FILES, Job, Limits, Status, run_job
from tests.integration.worker.conftest import HELPER, helper_app

pytestmark = pytest.mark.integration


def runner() -> NativeRunner:
    return NativeRunner(command=[sys.executable, str(HELPER)])


def jobs_left() -> list[Path]:
    return list((sub_dir("worker") / "jobs").glob("*"))


async def test_a_job_that_fills_its_folder_is_stopped() -> None:
    job = Job("j", helper_app("flood"), {}, limits=Limits(output_mb=16, wall_seconds=120))
    outcome = await run_job(runner(), job)
    assert outcome.status is Status.ERROR
    assert outcome.message == "The job wrote more than its limit of 16 MiB and was stopped."
    assert jobs_left() == []


async def test_a_job_that_makes_too_many_files_is_stopped() -> None:
    job = Job("j", helper_app("files"), {}, limits=Limits(wall_seconds=120))
    outcome = await run_job(runner(), job)
    assert outcome.status is Status.ERROR
    assert outcome.message == f"The job made more than {MAX_JOB_FILES} files and was stopped."
    assert jobs_left() == []


async def test_one_file_cannot_pass_the_output_limit() -> None:
    job = Job("j", helper_app("bigfile"), {}, limits=Limits(output_mb=80, wall_seconds=120))
    outcome = await run_job(runner(), job)
    assert outcome.status is Status.ERROR
    # the system refuses the write past the limit (or the folder check stops the job first)
    assert "File too large" in outcome.message or "more than its limit" in outcome.message


async def test_a_job_stops_when_the_disk_runs_low() -> None:
    floor = 1 << 40  # more than any test disk has free
    limits = Limits(min_free_disk_mb=floor // 2**20, wall_seconds=120)
    job = Job("j", helper_app("cpu"), {}, limits=limits)
    outcome = await run_job(runner(), job)
    assert outcome.status is Status.ERROR
    assert "the disk has less than" in outcome.message
    assert jobs_left() == []


async def test_a_result_that_links_elsewhere_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("the volunteer's secret")
    job = Job("j", helper_app("linkresult"), {"target": str(secret)})
    outcome = await run_job(runner(), job)
    assert outcome.status is Status.ERROR
    assert outcome.message == "The app's result is not a plain file."
    assert outcome.result is None


async def test_a_result_is_moved_not_read_when_asked(tmp_path: Path) -> None:
    job = Job("j", helper_app("junk"), {}, result_to=tmp_path / "pending" / "r.incoming")
    outcome = await run_job(runner(), job)
    assert outcome.ok and outcome.result is None
    assert outcome.result_file == tmp_path / "pending" / "r.incoming"
    assert outcome.result_file.read_bytes() == b'"ok"' and outcome.size == 4

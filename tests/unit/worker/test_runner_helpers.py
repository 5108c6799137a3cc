"""Shared runner helpers: progress lines, results, job directories, limits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deskgrid.apps.registry import get_app
from deskgrid.worker.runner import (
    MAX_RESULT_BYTES,
    OWNER_FILE,
    Job,
    JobDir,
    Limits,
    ProgressEvent,
    RunnerError,
    jobs_dir,
    last_line,
    parse_progress,
    read_result,
    remove_leftover_job_dirs,
)


@pytest.mark.parametrize(
    ("line", "event"),
    [
        (b'{"progress": 0.5}', ProgressEvent(0.5, {})),
        (b'{"progress": null, "keys_tried": 3}', ProgressEvent(None, {"keys_tried": 3})),
        (b'{"progress": 2}', ProgressEvent(1.0, {})),
        (b'{"progress": -1}', ProgressEvent(0.0, {})),
        (b'{"progress": 1, "nested": {"a": 1}}', ProgressEvent(1.0, {})),
        (b'{"progress": "half"}', None),
        (b'{"progress": true}', None),
        (b'{"keys": 1}', None),
        (b"[1]", None),
        (b"hello", None),
    ],
)
def test_parse_progress(line: bytes, event: ProgressEvent | None) -> None:
    assert parse_progress(line) == event


def test_read_result(tmp_path: Path) -> None:
    assert "without writing a result" in str(read_result(tmp_path / "none"))
    (tmp_path / "r").write_bytes(b"x")
    assert read_result(tmp_path / "r") == b"x"
    with open(tmp_path / "big", "wb") as fh:
        fh.truncate(MAX_RESULT_BYTES + 1)
    assert "larger than" in str(read_result(tmp_path / "big"))


def test_last_line() -> None:
    assert last_line("a\nb\n\n") == "b"
    assert last_line("") == ""
    assert len(last_line("x" * 1000)) == 500


def test_job_dir_and_leftovers() -> None:
    job = Job("j", get_app("echo"), {"text": "t"}, inputs={"a.txt": b"1"})
    jobdir = JobDir(job)
    assert (jobdir.work / "a.txt").read_bytes() == b"1"
    assert jobdir.params.read_text() == '{"text": "t"}'
    JobDir(job)
    # Both belong to this (running) process: another worker sharing the folder keeps them.
    assert remove_leftover_job_dirs() == 0
    for path in jobs_dir().iterdir():  # as left by a worker that was killed
        (path / OWNER_FILE).write_text("999999999 1.000", encoding="ascii")
    assert remove_leftover_job_dirs() == 2
    assert list(jobs_dir().iterdir()) == []


def test_job_dir_of_a_dead_worker_process_is_removed() -> None:
    script = (
        "from deskgrid.apps.registry import get_app\n"
        "from deskgrid.worker.runner import Job, JobDir\n"
        "print(JobDir(Job('j', get_app('echo'), {})).root)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    left = Path(out.stdout.strip())
    assert left.parent == jobs_dir() and left.is_dir()
    assert remove_leftover_job_dirs() == 1
    assert not left.exists()


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "x" * 200])
def test_unsafe_input_names(name: str) -> None:
    with pytest.raises(RunnerError, match="not a plain file name"):
        JobDir(Job("j", get_app("echo"), {}, inputs={name: b""}))
    assert list(jobs_dir().iterdir()) == []


def test_limits_from_the_app() -> None:
    limits = Limits.for_app(get_app("vanity"), cores=2)
    assert limits.memory_mb == 2 * 256  # a multicore app: its need per core
    assert limits.wall_seconds == 24 * 3600
    assert limits.cpu_seconds == 2 * 24 * 3600 + 10


def test_retry_waits_read_as_people_read_them() -> None:
    from deskgrid.worker.worker import _seconds

    assert [_seconds(w) for w in (0.5, 1.0, 4.4, 59.6, 60, 90, 300)] == [
        "0.5 s",
        "1 s",
        "4 s",
        "1 min",
        "1 min",
        "1 min 30 s",
        "5 min",
    ]

"""What the worker checks before it fetches anything a grid names, and its job records."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from deskgrid.errors import DeskGridError
from deskgrid.grid.content import ContentRefused, check_grid_url, check_sha256
from deskgrid.grid.models import InputFile
from deskgrid.worker.inputs import InputLimits, InputsRefused, check_inputs
from deskgrid.worker.proctree import JobRecords
from deskgrid.worker.runner import RunnerError, check_input_names, folder_usage
from deskgrid.worker.worker import Worker, WorkerConfig

SHA = "ab" * 32


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8750", "https://grid.example.org/", "https://h.example/grid"]
)
def test_grid_urls_that_are_accepted(url: str) -> None:
    assert check_grid_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://grid.example.org",
        "grid.example.org",
        "http://",
        "javascript:alert(1)",
        "http://user:secret@grid.example.org",
        "https://grid.example.org/?next=http://evil",
        "https://grid.example.org/#x",
        "http://grid.example.org:port",
    ],
)
def test_grid_urls_that_are_refused(url: str) -> None:
    with pytest.raises(DeskGridError, match="grid URL"):
        check_grid_url(url)


def test_a_worker_refuses_a_grid_url_that_is_not_http(tmp_path: Path) -> None:
    with pytest.raises(DeskGridError, match="http:// or https://"):
        Worker(WorkerConfig(grid_url="file:///etc", state_dir=tmp_path))


@pytest.mark.parametrize("value", [SHA.upper(), SHA[:-1], SHA + "0", "../" + SHA[3:], None, 7])
def test_data_ids_must_be_sha256(value: object) -> None:
    with pytest.raises(ContentRefused, match="not a sha256"):
        check_sha256(value)


@pytest.mark.parametrize(
    ("names", "why"),
    [
        (["../../.ssh/authorized_keys"], "not a plain file name"),
        (["/etc/passwd"], "not a plain file name"),
        (["a\\b"], "not a plain file name"),
        ([".profile"], "not a plain file name"),
        (["a\x00b"], "not a plain file name"),
        (["x" * 129], "not a plain file name"),
        (["result"], "reserved"),
        (["PARAMS.JSON"], "reserved"),
        (["NUL.txt"], "reserved"),
        (["com1"], "reserved"),
        (["data.csv", "DATA.csv"], "two inputs"),
    ],
)
def test_input_names_that_are_refused(names: list[str], why: str) -> None:
    with pytest.raises(RunnerError, match=why):
        check_input_names(names)


def test_input_names_that_are_accepted() -> None:
    check_input_names(["data.csv", "model-1.bin", "result.txt", "console.log"])


def test_declared_sizes_and_counts_are_capped() -> None:
    limits = InputLimits(max_input_bytes=100, max_inputs=2)
    items = [InputFile(name="a", sha256=SHA, size=60), InputFile(name="b", sha256=SHA, size=40)]
    assert check_inputs(items, limits) == 100
    with pytest.raises(InputsRefused, match="more than the 100 bytes"):
        check_inputs([*items[:1], InputFile(name="b", sha256=SHA, size=41)], limits)
    with pytest.raises(InputsRefused, match="at most 2"):
        check_inputs([*items, InputFile(name="c", sha256=SHA, size=0)], limits)


def test_folder_usage_counts_bytes_and_stops_counting_entries(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f").write_bytes(b"x" * 10000)
    (tmp_path / "link").symlink_to("/")  # not followed
    used, entries = folder_usage(tmp_path)
    assert used >= 10000 and entries == 3
    for n in range(20):
        (tmp_path / f"e{n}").touch()
    assert folder_usage(tmp_path, max_entries=5)[1] == 6


def test_job_records_are_pid_and_start_time(tmp_path: Path) -> None:
    records = JobRecords(tmp_path / "running")
    path = records.add(os.getpid())
    assert path is not None
    (record,) = records.records()
    assert record.pid == record.owner_pid == os.getpid()
    assert abs(record.created - psutil.Process().create_time()) < 0.01
    assert records.kill_leftovers() == 0  # its worker (this process) runs: left alone
    assert path.exists()
    records.remove(path)
    assert records.records() == []

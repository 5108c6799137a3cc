"""The subprocess entry point `python -m deskgrid.apps.run`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run_entry(tmp_path: Path, app: str, params: dict) -> tuple[subprocess.CompletedProcess, Path]:
    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps(params))
    result = tmp_path / "result.bin"
    proc = subprocess.run(
        [sys.executable, "-m", "deskgrid.apps.run", app, "--params", str(params_file)]
        + ["--workdir", str(tmp_path), "--result", str(result)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc, result


def test_success_writes_result_and_json_progress(tmp_path: Path) -> None:
    proc, result = run_entry(tmp_path, "sleep", {"seconds": 0, "steps": 3})
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [e["progress"] for e in events] == [1 / 3, 2 / 3, 1.0]
    assert result.read_bytes() == b"slept 0 s"


def test_vanity_progress_has_keys_figures(tmp_path: Path) -> None:
    proc, result = run_entry(tmp_path, "vanity", {"patterns": ["1A"], "full_key": True})
    assert proc.returncode == 0, proc.stderr
    last = json.loads(proc.stdout.splitlines()[-1])
    assert last["progress"] == 1.0 and last["keys_tried"] > 0 and "keys_per_second" in last
    assert json.loads(result.read_bytes())["address"].startswith("1A")


def test_run_error_exits_1_with_the_sentence(tmp_path: Path) -> None:
    proc, result = run_entry(tmp_path, "fail", {"message": "No luck today."})
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == "No luck today."
    assert not result.exists()


def test_bad_params_exit_2(tmp_path: Path) -> None:
    proc, _ = run_entry(tmp_path, "vanity", {"patterns": ["2abc"], "full_key": True})
    assert proc.returncode == 2
    assert "always start with '1'" in proc.stderr


def test_unknown_app_exits_2(tmp_path: Path) -> None:
    proc, _ = run_entry(tmp_path, "nope", {})
    assert proc.returncode == 2
    assert "no built-in app called 'nope'" in proc.stderr

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deskgrid.apps.registry import get_app
from deskgrid.apps.sdk import AppParamsError, AppRunError, RunContext


def run(name: str, params: dict[str, Any], tmp_path: Path) -> tuple[bytes, list[dict]]:
    app = get_app(name)
    events: list[dict] = []
    ctx = RunContext(workdir=tmp_path, report=events.append)
    return app.load_run_function()(app.validate(params), ctx), events


def test_echo_returns_its_text_and_verifies(tmp_path: Path) -> None:
    result, _ = run("echo", {"text": "héllo"}, tmp_path)
    assert result == "héllo".encode()
    app = get_app("echo")
    assert app.verify({"text": "héllo"}, result)
    assert not app.verify({"text": "héllo"}, b"other")


def test_sleep_reports_progress_up_to_one(tmp_path: Path) -> None:
    result, events = run("sleep", {"seconds": 0.01, "steps": 4}, tmp_path)
    assert [e["progress"] for e in events] == [0.25, 0.5, 0.75, 1.0]
    assert result.startswith(b"slept")


def test_fail_raises_its_message(tmp_path: Path) -> None:
    with pytest.raises(AppRunError, match="disk on fire"):
        run("fail", {"message": "disk on fire"}, tmp_path)


def test_misbehave_is_wrong_or_right_as_asked(tmp_path: Path) -> None:
    wrong, _ = run("misbehave", {"text": "x"}, tmp_path)
    assert wrong != b"x" and wrong.startswith(b"wrong:")
    right, _ = run("misbehave", {"text": "x", "wrong_probability": 0}, tmp_path)
    assert right == b"x"


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("echo", {"text": 3}, "'text' to be a string"),
        ("echo", {"text": "a", "x": 1}, "does not know the parameter"),
        ("sleep", {"seconds": -1}, "between 0 and"),
        ("sleep", {"seconds": "1"}, "'seconds' to be a number"),
        ("sleep", {"seconds": 1, "steps": 0}, "'steps'"),
        ("fail", {"message": ""}, "'message'"),
        ("misbehave", {"text": "a", "wrong_probability": 2}, "between 0 and 1"),
    ],
)
def test_validation_messages(name: str, params: dict, message: str) -> None:
    with pytest.raises(AppParamsError, match=message):
        get_app(name).validate(params)

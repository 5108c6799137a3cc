"""Files replaced in one step."""

from __future__ import annotations

import os
import stat

import pytest

from deskgrid.atomicfile import write_atomic


def test_a_file_is_replaced_whole_with_its_mode(tmp_path) -> None:
    target = tmp_path / "deep" / "state.json"
    write_atomic(target, "first")
    assert target.read_text() == "first" and stat.S_IMODE(target.stat().st_mode) == 0o600
    write_atomic(target, b"second", mode=0o644, sync_folder=True)
    assert target.read_bytes() == b"second" and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert os.listdir(target.parent) == ["state.json"]  # no temporary file left


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path) -> None:
    target = tmp_path / "state.json"
    write_atomic(target, "old")
    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["state.json"]

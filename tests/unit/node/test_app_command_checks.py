"""`deskgrid run app`'s checks of what was typed: params converted to their fields' kinds,
inputs named by the manifest, and where the result goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskgrid.errors import DeskGridError
from deskgrid.market.manifest import load_document, manifest_from, with_image_id
from deskgrid.market.params_form import build_form
from deskgrid.node.app_commands import input_files, result_path, typed_values
from tests.conftest import REPO_ROOT

WORDFREQ = REPO_ROOT / "examples" / "apps" / "wordfreq" / "manifest.json"


def wordfreq():
    doc = with_image_id(load_document(WORDFREQ.read_bytes()), "sha256:" + "7c" * 32)
    return manifest_from(doc, where="wordfreq")


def test_typed_params_become_values_of_their_kind() -> None:
    schema = {
        "type": "object",
        "properties": {
            "fast": {"type": "boolean"},
            "level": {"enum": [1, 2, 3]},
            "name": {"type": "string"},
            "top": {"type": "integer"},
        },
    }
    form = build_form(schema)
    values = typed_values(form, [("fast", "yes"), ("level", "2"), ("name", "2"), ("top", "7")])
    assert values == {"fast": True, "level": 2, "name": "2", "top": "7"}
    assert form.validate(values) == {"fast": True, "level": 2, "name": "2", "top": 7}
    with pytest.raises(DeskGridError, match="'top' is given twice"):
        typed_values(form, [("top", "1"), ("top", "2")])


def test_inputs_must_be_the_apps_own_and_given_once(tmp_path: Path) -> None:
    manifest = wordfreq()
    assert input_files(manifest, [("text", "book.txt")]) == {"text": Path("book.txt")}
    with pytest.raises(DeskGridError, match=r"no input called 'book' \(its inputs: text\)"):
        input_files(manifest, [("book", "book.txt")])
    with pytest.raises(DeskGridError, match="'text' is given twice"):
        input_files(manifest, [("text", "a"), ("text", "b")])


def test_the_result_goes_where_asked_or_is_named_after_the_task() -> None:
    task = "0x" + "5e" * 32
    assert result_path(None, task, "application/json") == Path(f"{task}.json")
    assert result_path(None, task, "text/plain") == Path(f"{task}.txt")
    assert result_path(None, task, "image/png") == Path(f"{task}.png")
    assert result_path(None, task, "application/x-unknown-kind") == Path(f"{task}.bin")
    assert result_path(Path("out/r.json"), task, "text/plain") == Path("out/r.json")

"""The input files of a published app's request without Qt: which inputs have a file, whether
each file param names one, the sentences shown, the task document an order pays with, and the
name and encryption of a result to download."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deskgrid.market.input_files import (
    NO_FILE_YET,
    ChosenInputs,
    InputFileError,
    size_text,
    uploading_text,
)
from deskgrid.market.manifest import InputFile, load_document, manifest_from, with_image_id
from deskgrid.market.task_document import parse_task_document
from deskgrid.node.requester import AppOrder
from deskgrid.node.requester_data import asks_encrypted, result_file_name

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "apps"
KEY = "02" + "ab" * 32


def wordfreq():
    doc = load_document((EXAMPLES / "wordfreq" / "manifest.json").read_bytes())
    return manifest_from(with_image_id(doc, "sha256:" + "cd" * 32))


def sized(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)  # sparse: its size without writing it
    return path


def test_sizes_are_shown_in_powers_of_1000():
    assert [size_text(n) for n in (0, 1, 999)] == ["0 bytes", "1 byte", "999 bytes"]
    assert size_text(3_200_000) == "3.2 MB"
    assert size_text(1_500) == "1.5 kB"
    assert size_text(2_000_000_000_000_000) == "2000.0 TB"


def test_chosen_files_name_the_inputs_and_the_file_params_need_one(tmp_path):
    inputs = ChosenInputs(
        (InputFile(name="a", description="A"), InputFile(name="b", description="B"))
    )
    assert inputs.named() == [] and inputs.problem({}, ["input"]) == NO_FILE_YET
    assert inputs.problem({}, []) is None  # no file param: nothing to name
    chosen = inputs.choose("b", sized(tmp_path / "book.txt", 3_200_000))
    assert chosen.label == "book.txt (3.2 MB)"
    assert uploading_text(chosen) == "Uploading book.txt (3.2 MB)…"
    assert inputs.named() == ["b"] and inputs.paths() == {"b": tmp_path / "book.txt"}
    assert inputs.problem({"input": "b"}, ["input"]) is None
    assert inputs.problem({"input": "a"}, ["input"]) == NO_FILE_YET  # a has no file
    inputs.choose("a", sized(tmp_path / "first.txt", 10))
    assert inputs.named() == ["a", "b"]  # the manifest's order
    inputs.clear("b")
    assert inputs.named() == ["a"] and inputs.problem({"input": "b"}, ["input"]) == NO_FILE_YET


def test_what_cannot_be_chosen_is_said(tmp_path):
    inputs = ChosenInputs((InputFile(name="a", description="A"),))
    with pytest.raises(InputFileError, match=r"is not a file; choose a file\.$"):
        inputs.choose("a", tmp_path)
    with pytest.raises(InputFileError, match=r"cannot be read \(No such file or directory\)"):
        inputs.choose("a", tmp_path / "missing.txt")
    with pytest.raises(InputFileError, match="The app has no input called 'z'"):
        inputs.choose("z", sized(tmp_path / "x", 1))
    assert inputs.named() == []


def test_an_app_order_pays_with_the_task_document_of_its_inputs_and_key():
    manifest = wordfreq()
    digest = "5" * 64
    order = AppOrder(
        "wordfreq",
        manifest.params_schema,
        {"input": "text", "top": 5},
        inputs={"text": digest},
        result_key=KEY,
    )
    text = order.request_text()
    assert json.loads(text) == {
        "params": {"input": "text", "top": 5},
        "inputs": {"text": digest},
        "result_key": KEY,
    }
    parsed = parse_task_document(text, manifest)  # what the oracle reads back
    assert parsed.inputs == {"text": digest} and parsed.result_key == KEY
    plain = AppOrder("wordfreq", manifest.params_schema, {"top": 5}).request_text()
    assert json.loads(plain) == {"params": {"top": 5}, "inputs": {}}  # no key: not encrypted


def test_a_result_is_offered_under_the_task_id_and_its_media_type():
    task = "0x" + "12" * 32
    assert result_file_name(task, "application/json") == task + ".json"
    assert result_file_name(task, "text/plain") == task + ".txt"
    assert result_file_name(task, "image/png") == task + ".png"
    assert result_file_name(task, "application/x-unknown-thing") == task + ".bin"
    assert result_file_name(task, "") == task + ".bin"


def test_a_request_asks_for_encryption_when_it_gives_a_result_key():
    assert asks_encrypted(json.dumps({"params": {}, "inputs": {}, "result_key": KEY}))
    assert not asks_encrypted(json.dumps({"params": {}, "inputs": {}}))
    assert not asks_encrypted('{"seed": 1}') and not asks_encrypted("not json")

"""The example apps' side of the image contract, with their binaries run directly on job
folders: params that are not valid JSON are refused with a sentence and exit code 2, the apps
accept exactly the params their schema.json accepts, and the images hold the binary alone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema_rs
import pytest

from tests.integration.examples.conftest import EXAMPLES, BuiltExamples

pytestmark = pytest.mark.integration

BAD_JSON = [
    ('{"seed": 4', "',' or '}' expected at byte 11"),
    ('{"seed": 4} x', "text after the value at byte 13"),
    ('{"seed": 1, "seed": 2}', "a member named twice at byte 19"),
    ('{"seed": 01}', "',' or '}' expected at byte 11"),
    ('{"seed": 1,}', "a member name expected at byte 12"),
    ("{'seed': 1}", "a member name expected at byte 2"),
    ('{"a\\ud800": 1}', "a lone high surrogate at byte 10"),
    ('{"a\\q": 1}', "an unknown escape at byte 5"),
    ('{"a\tb": 1}', "a control character in a string at byte 4"),
    ("[" * 100 + "]" * 100, "values nested too deep at byte 17"),
    ("", "a value expected at byte 1"),
]


@pytest.mark.parametrize(("text", "error"), BAD_JSON)
def test_params_that_are_not_json_are_refused_with_where(
    examples: BuiltExamples, tmp_path: Path, text: str, error: str
) -> None:
    ran = examples.run_directly("montecarlo", tmp_path, text)
    assert ran.returncode == 2
    assert ran.stderr == f"The params are not valid JSON: {error}.\n"
    assert not (tmp_path / "result").exists()


def test_bytes_that_are_not_utf8_and_huge_params_are_refused(
    examples: BuiltExamples, tmp_path: Path
) -> None:
    (tmp_path / "params.json").write_bytes(b'{"s\xffeed": 1}')
    ran = examples.run_directly("montecarlo", tmp_path, params=None)
    assert (ran.returncode, ran.stderr) == (
        2,
        "The params are not valid JSON: text that is not UTF-8 at byte 4.\n",
    )
    huge = json.dumps({"seed": 1, "note": "x" * 70_000})
    ran = examples.run_directly("montecarlo", tmp_path, huge)
    assert (ran.returncode, ran.stderr) == (2, "The params file is larger than 65536 bytes.\n")


NUMBERS = [0, 1, -1, 1.0, 1.5, 1e3, 1000, 1001, 2**53 - 1, 2**53, 10**30, "1", None, True]


@pytest.mark.parametrize("value", NUMBERS)
def test_the_apps_accept_what_their_schema_accepts(
    examples: BuiltExamples, tmp_path: Path, value: object
) -> None:
    (tmp_path / "story.txt").write_bytes(b"one two two")
    cases = [
        ("montecarlo", {"seed": value, "samples": 1}, ()),
        ("montecarlo", {"samples": value}, ()),
        ("wordfreq", {"top": value}, ("story.txt",)),
    ]
    for name, params, inputs in cases:
        schema = json.loads((EXAMPLES / name / "schema.json").read_text(encoding="utf-8"))
        ran = examples.run_directly(name, tmp_path, json.dumps(params), inputs)
        valid = jsonschema_rs.validator_for(schema).is_valid(params)
        assert (ran.returncode == 0) == valid, (name, params, ran.stderr)
        assert ran.returncode in (0, 2)


WHOLE = ["1.0000000000000000000000000000000000000000", "1E0", "1e+0", "0.000000000000000000001e21"]
WHOLE += ["1" + "0" * 40 + "e-40", "-0", "-0.0e5"]
NOT_WHOLE = ["1.0000000000000000000000000000000000000001", "1e-400", "-1e0", "1e20", "0.5"]
NOT_WHOLE += ["1234567890" * 5 + "e-40", "18446744073709551616"]


@pytest.mark.parametrize("number", WHOLE + NOT_WHOLE)
def test_a_whole_number_is_one_in_any_json_form(
    examples: BuiltExamples, tmp_path: Path, number: str
) -> None:
    ran = examples.run_directly("montecarlo", tmp_path, f'{{"samples": 1, "seed": {number}}}')
    if number in WHOLE:
        assert ran.returncode == 0, ran.stderr
    else:
        assert ran.returncode == 2
        assert ran.stderr.startswith("The parameter 'seed' must be a whole number from 0 to ")


def test_the_schemas_are_json_schemas_with_a_description_for_each_param() -> None:
    for name in ("montecarlo", "wordfreq"):
        schema = json.loads((EXAMPLES / name / "schema.json").read_text(encoding="utf-8"))
        assert jsonschema_rs.meta.is_valid(schema)
        assert schema["additionalProperties"] is False
        for param in schema["properties"].values():
            assert param["description"] and param["title"]


def test_an_empty_input_has_no_words(examples: BuiltExamples, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    ran = examples.run_directly("wordfreq", tmp_path, "{}", ("empty.txt",))
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        '{"progress": 0.0000, "bytes_read": 0}',
        '{"progress": 1.0000, "bytes_read": 0}',
    ]
    assert json.loads((tmp_path / "result").read_bytes()) == {
        "input": "empty.txt",
        "bytes": 0,
        "words": 0,
        "distinct": 0,
        "long_words": 0,
        "untracked_words": 0,
        "top": [],
    }


def test_the_images_hold_the_static_binary_alone(examples: BuiltExamples) -> None:
    import docker

    client = docker.from_env()
    for name, tag in examples.images.items():
        image = client.images.get(tag)
        assert image.id == examples.ids[name]  # the id the build script printed
        assert image.attrs["Config"]["Entrypoint"] == [f"/{name}"]
        assert len(image.attrs["RootFS"]["Layers"]) == 1  # FROM scratch: the binary's layer
        assert image.attrs["Size"] < 4 * 2**20


def test_the_build_script_refuses_an_unknown_app_or_option(examples: BuiltExamples) -> None:
    script = str(EXAMPLES / "build.sh")
    ran = subprocess.run(["bash", script, "nosuch"], capture_output=True, text=True, check=False)
    assert (ran.returncode, ran.stderr) == (
        2,
        "build.sh: no app 'nosuch' here (no nosuch/main.c)\n",
    )
    ran = subprocess.run(["bash", script, "--tag"], capture_output=True, text=True, check=False)
    assert (ran.returncode, ran.stderr) == (2, "build.sh: unknown option --tag (see --help)\n")

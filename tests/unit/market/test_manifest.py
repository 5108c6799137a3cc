"""App manifests: the examples' manifests are valid once their image id is filled in, bad
documents are refused with a sentence naming the field, and the canonical JSON is bounded."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deskgrid.chain.listings import schema_hash
from deskgrid.market.manifest import (
    MAX_FILE_BYTES,
    MAX_MANIFEST_BYTES,
    ImageChoiceError,
    ManifestError,
    canonical_json,
    image_id_of_uri,
    load_document,
    manifest_for_image,
    manifest_from,
    parse_manifest,
    read_manifest_file,
    with_image_id,
)
from tests.conftest import REPO_ROOT

IMAGE_ID = "sha256:" + "c1" * 32
EXAMPLES = REPO_ROOT / "examples" / "apps"


def example(name: str) -> dict[str, Any]:
    doc = load_document((EXAMPLES / name / "manifest.json").read_bytes())
    return with_image_id(doc, IMAGE_ID)


def good() -> dict[str, Any]:
    return example("wordfreq")


@pytest.mark.parametrize("name", ["wordfreq", "montecarlo"])
def test_the_examples_manifests_are_valid_with_an_image_id(name):
    manifest = manifest_from(example(name))
    schema = json.loads((EXAMPLES / name / "schema.json").read_text(encoding="utf-8"))
    assert manifest.name == name
    assert manifest.params_schema == schema
    assert manifest.params_schema_hash == schema_hash(schema)
    assert manifest.uri == "docker:" + IMAGE_ID
    assert image_id_of_uri(manifest.uri) == IMAGE_ID
    assert manifest.verifier is None


@pytest.mark.parametrize("name", ["wordfreq", "montecarlo"])
def test_the_examples_placeholder_asks_for_the_image(name):
    with pytest.raises(ManifestError) as err:
        parse_manifest((EXAMPLES / name / "manifest.json").read_bytes())
    assert "image.id must be the image's content id" in str(err.value)
    assert "--image" in str(err.value)


def test_canonical_json_is_stable_and_parses_back():
    manifest = manifest_from(good())
    data = canonical_json(manifest)
    assert data == canonical_json(parse_manifest(data))
    assert b" " not in data.replace(b"\\u", b"").split(b'"description"')[0]
    assert json.loads(data)["image"] == {"id": IMAGE_ID}  # absent options are left out
    with_options = good()
    with_options["image"] = {
        "id": IMAGE_ID,
        "reference": "registry.example.org/wordfreq@sha256:" + "ab" * 32,
        "archive_sha256": "cd" * 32,
    }
    assert json.loads(canonical_json(manifest_from(with_options)))["image"] == with_options["image"]


def change(path: str, value: Any) -> dict[str, Any]:
    doc = good()
    *parents, last = path.split(".")
    target = doc
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "sentence"),
    [
        ("name", "Word Freq", "name must be 1 to 64 lower-case letters"),
        ("version", "", "version must be 1 to 32 letters"),
        ("description", KeyError, "description is missing"),
        ("description", "x" * 1001, "description: String should have at most 1000"),
        ("image.id", "sha256:abc", "image.id must be the image's content id"),
        ("image.reference", "wordfreq:latest", "image.reference must be a registry reference"),
        ("image.archive_sha256", "xyz", "image.archive_sha256 must be 64 hex digits"),
        ("params_schema", {"type": "array"}, "must be an object schema"),
        ("params_schema.properties.top", {"title": "x"}, "param 'top' needs a type"),
        ("params_schema.required", ["nope"], "required list must name its own properties"),
        ("inputs", [], "describe them in inputs"),
        ("inputs.0.name", "../etc/passwd", "inputs.0.name must be a plain file name"),
        ("result.media_type", "json", "result.media_type must be a media type"),
        ("resources.memory_mb", 1, "resources.memory_mb: Input should be greater than"),
        ("resources.cores", True, "resources.cores: Input should be a valid integer"),
        ("resources.max_seconds", "60", "resources.max_seconds: Input should be a valid int"),
        ("verifier", "vanity", "verifier must be null"),
        ("price", 5, "price is not a manifest field (remove it)"),
    ],
)
def test_a_bad_field_is_named_in_a_sentence(path, value, sentence):
    with pytest.raises(ManifestError) as err:
        manifest_from(change(path, value))
    assert sentence in str(err.value)
    assert str(err.value).startswith("The manifest is not valid: ")


def test_two_inputs_of_one_name_are_refused():
    doc = good()
    doc["inputs"] = [doc["inputs"][0], doc["inputs"][0]]
    with pytest.raises(ManifestError, match="each input file needs a name of its own"):
        manifest_from(doc)


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        (b"[1, 2]", "must be a JSON object"),
        (b"{", "is not usable JSON"),
        (b"[" * 100 + b"]" * 100, "is not usable JSON"),
        (b'{"a": "' + b"x" * 70_000 + b'"}', "is not usable JSON"),
    ],
)
def test_what_is_not_a_json_object_is_refused(data, sentence):
    with pytest.raises(ManifestError, match=sentence):
        parse_manifest(data, where="The manifest")


def test_a_manifest_above_the_hubs_bound_is_refused():
    doc = good()
    doc["params_schema"]["properties"] = {
        f"p{i}": {"type": "integer", "description": "d" * 900} for i in range(20)
    }
    with pytest.raises(ManifestError) as err:
        manifest_from(doc)
    assert f"the hub takes at most {MAX_MANIFEST_BYTES:,}" in str(err.value)


def test_image_id_of_uri_takes_only_content_ids():
    assert image_id_of_uri("docker:" + IMAGE_ID) == IMAGE_ID
    assert image_id_of_uri("docker:wordfreq:1") is None
    assert image_id_of_uri("builtin:vanity@1.0.0") is None


def test_the_image_chosen_fills_in_an_example_or_must_be_the_one_named():
    placeholder = load_document((EXAMPLES / "montecarlo" / "manifest.json").read_bytes())
    assert manifest_for_image(placeholder, IMAGE_ID).uri == "docker:" + IMAGE_ID
    with pytest.raises(ImageChoiceError, match="names no image id yet: choose the app's image"):
        manifest_for_image(placeholder, None)
    named = example("montecarlo")
    assert manifest_for_image(named, None).image.id == IMAGE_ID
    assert manifest_for_image(named, IMAGE_ID).image.id == IMAGE_ID
    other = "sha256:" + "ab" * 32
    with pytest.raises(ImageChoiceError) as err:
        manifest_for_image(named, other)
    assert f"names the image {IMAGE_ID}, not the one chosen ({other})" in str(err.value)


def test_the_rest_of_the_manifest_is_checked_before_the_image():
    doc = load_document((EXAMPLES / "montecarlo" / "manifest.json").read_bytes())
    doc["version"] = "not a version"
    with pytest.raises(ManifestError) as err:
        manifest_for_image(doc, None, where="The manifest m.json")
    assert not isinstance(err.value, ImageChoiceError)
    assert str(err.value).startswith("The manifest m.json is not valid: version must be")


def test_a_manifest_file_is_read_within_bounds(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_bytes(b"{}")
    assert read_manifest_file(path) == b"{}"
    with pytest.raises(ManifestError, match="Cannot read the manifest .*missing.json"):
        read_manifest_file(tmp_path / "missing.json")
    path.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    with pytest.raises(ManifestError, match="is larger than 64 KiB: is it the right file"):
        read_manifest_file(path)

"""The request form a params schema makes: each supported keyword, the sentence of each bad
value, and a schema using anything else shown as unsupported by its keyword."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deskgrid.errors import DeskGridError
from deskgrid.market.params_form import ParamsInvalid, build_form, estimate_text
from deskgrid.node.requester import AppOrder

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "apps"


def schema(*, required: tuple[str, ...] = (), top: dict | None = None, **properties: dict) -> dict:
    """An object schema of `properties`, with `top` keywords beside them."""
    return {"type": "object", "properties": properties, "required": list(required), **(top or {})}


def test_the_montecarlo_schema_makes_two_integer_fields_with_defaults_and_help():
    form = build_form(json.loads((EXAMPLES / "montecarlo" / "schema.json").read_text()))
    assert form.supported and not form.extra_allowed and form.file_fields == []
    seed, samples = form.fields
    assert (seed.name, seed.kind, seed.title, seed.default) == ("seed", "integer", "Seed", 1)
    assert seed.help.startswith("Starts the random generator")
    assert seed.help.endswith("A whole number at least 0, at most 9,007,199,254,740,991.")
    assert samples.text_of(samples.default) == "1000000"
    check = form.check({"seed": "42", "samples": "1000"})
    assert check.valid and check.params == {"seed": 42, "samples": 1000}
    assert form.check({"seed": "x", "samples": "1000"}).errors == {
        "seed": "Type a whole number, such as 1."
    }
    assert form.check({"seed": "-1"}).errors == {"seed": "Must be at least 0."}
    assert form.check({"seed": "1.5"}).errors["seed"].startswith("Type a whole number")
    assert form.check({"samples": "1000000001"}).errors == {
        "samples": "Must be at most 1,000,000,000."
    }
    assert form.check({"seed": "", "samples": ""}).params == {}  # optional: left out
    assert form.check({"seed": 3, "other": 1}).errors == {
        "other": "'other' is not a parameter of this app."
    }


def test_strings_follow_their_pattern_and_lengths_and_required_fields_must_be_filled():
    form = build_form(
        schema(
            tag={"type": "string", "pattern": "^[a-z]+$", "minLength": 2, "maxLength": 4},
            note={"type": "string"},
            required=("tag",),
        )
    )
    assert form.supported
    assert form.check({"tag": "abc"}).params == {"tag": "abc"}
    assert form.check({"tag": ""}).errors == {"tag": "Required: fill it in."}
    assert form.check({"tag": "a"}).errors == {"tag": "Must be at least 2 characters long."}
    assert form.check({"tag": "abcde"}).errors == {"tag": "Must be at most 4 characters long."}
    assert form.check({"tag": "AB"}).errors == {"tag": "Must match the pattern ^[a-z]+$."}
    assert form.field("tag").help == "Must be at least 2 characters, at most 4 characters."
    assert form.check({"tag": "ab", "note": "free text"}).params["note"] == "free text"


def test_numbers_take_exclusive_bounds_and_multiples():
    form = build_form(
        schema(
            ratio={"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            step={"type": "number", "multipleOf": 0.25},
            count={"type": "integer", "multipleOf": 3},
        )
    )
    assert form.check({"ratio": "0.5", "step": "1.75", "count": "9"}).params == {
        "ratio": 0.5,
        "step": 1.75,
        "count": 9,
    }
    errors = form.check({"ratio": "0", "step": "0.3", "count": "10"}).errors
    assert errors == {
        "ratio": "Must be more than 0.",
        "step": "Must be a multiple of 0.25.",
        "count": "Must be a multiple of 3.",
    }
    assert form.check({"ratio": "1"}).errors == {"ratio": "Must be less than 1."}
    assert form.check({"ratio": "nan"}).errors == {"ratio": "Must be a finite number."}
    assert form.check({"ratio": "half"}).errors["ratio"].startswith("Type a number")
    assert form.check({"ratio": 1e-9}).valid  # values as well as typed text


def test_booleans_and_enums_of_any_scalar():
    form = build_form(
        schema(
            fast={"type": "boolean", "default": True},
            mode={"enum": ["quick", "full"], "default": "full"},
            level={"type": "integer", "enum": [1, 2, 3]},
        )
    )
    assert [f.kind for f in form.fields] == ["boolean", "enum", "enum"]
    assert form.check({"fast": False, "mode": "quick", "level": 2}).params == {
        "fast": False,
        "mode": "quick",
        "level": 2,
    }
    errors = form.check({"fast": "yes", "mode": "slow", "level": True}).errors
    assert errors == {
        "fast": "Must be true or false.",
        "mode": "Choose one of: quick, full.",
        "level": "Choose one of: 1, 2, 3.",  # True is not 1
    }
    assert form.check({"mode": None}).valid  # optional, nothing chosen


def test_lists_of_strings_are_typed_separated_by_commas_and_each_item_is_checked():
    form = build_form(
        schema(
            tags={
                "type": "array",
                "items": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 3},
                "minItems": 1,
                "maxItems": 2,
                "default": ["ab"],
            },
            required=("tags",),
        )
    )
    tags = form.field("tags")
    assert form.supported and tags.kind == "list" and tags.text_of(tags.default) == "ab"
    assert tags.help == (
        "Separate the items with commas; at least 1 item, at most 2 items. Each item: must be "
        "at most 3 characters."
    )
    assert form.check({"tags": " ab, cd "}).params == {"tags": ["ab", "cd"]}
    assert form.check({"tags": ["ab"]}).valid  # a value as well as typed text
    assert form.check({"tags": "a, b, c"}).errors == {"tags": "Must have at most 2 items."}
    assert form.check({"tags": ", "}).errors == {"tags": "Must have at least 1 item."}
    assert form.check({"tags": "ab, Cd"}).errors == {
        "tags": "Item 2 ('Cd'): must match the pattern ^[a-z]+$."
    }
    items = build_form(schema(t={"type": "array", "items": {"type": "string", "format": "uri"}}))
    assert items.unsupported == (
        "The items of parameter 't' use 'format', which this form does not support.",
    )


def test_an_input_file_is_a_file_field_whose_value_is_its_path():
    form = build_form(json.loads((EXAMPLES / "wordfreq" / "schema.json").read_text()))
    assert form.supported
    [file] = form.file_fields
    assert (file.name, file.kind, file.media_type) == ("input", "file", "text/plain")
    # the pattern is for the file's name on the worker, not for the path chosen here
    assert form.check({"input": "/home/me/My Book.txt", "top": "5"}).params == {
        "input": "/home/me/My Book.txt",
        "top": 5,
    }


@pytest.mark.parametrize(
    ("prop", "named"),
    [
        ({"type": "array", "items": {"type": "integer"}}, "is a list whose items are not texts"),
        ({"type": "array", "items": {"type": "string"}, "uniqueItems": True}, "'uniqueItems'"),
        ({"type": "object"}, "of type 'object'"),
        ({"type": ["string", "null"]}, "of type ['string', 'null']"),
        ({"type": "string", "format": "email"}, "has format 'email'"),
        ({"type": "string", "const": "x"}, "uses 'const'"),
        ({"type": "integer", "pattern": "^1"}, "uses 'pattern'"),
        ({"type": "string", "pattern": "(["}, "has a pattern this form cannot read"),
        ({"type": "integer", "minimum": "0"}, "has a limit that is not a number"),
        ({"type": "integer", "minimum": 5, "default": 1}, "has a default its own rules refuse"),
        ({"enum": [[1], [2]]}, "has an enum this form cannot show"),
        ({"oneOf": [{"type": "string"}]}, "uses 'oneOf'"),
        ({"title": "X"}, "has no type"),
    ],
)
def test_anything_else_is_unsupported_with_a_sentence_naming_it(prop, named):
    form = build_form(schema(x=prop))
    assert not form.supported
    assert any(s.startswith("The parameter 'x' ") and named in s for s in form.unsupported), (
        form.unsupported
    )
    with pytest.raises(ParamsInvalid) as err:
        form.validate({"x": "1"})
    assert "The parameter 'x'" in str(err.value)


def test_unsupported_keywords_of_the_schema_itself_are_named():
    form = build_form(schema(n={"type": "integer"}, top={"allOf": [{"required": ["n"]}]}))
    assert form.unsupported == (
        "The params schema uses 'allOf', which this form does not support.",
    )
    form = build_form(schema(top={"additionalProperties": {"type": "string"}}))
    assert "additionalProperties with a schema" in form.unsupported[0]
    assert build_form({"type": "array"}).unsupported == (
        'The params schema must be an object schema ("type": "object").',
    )


def test_an_app_order_checks_its_params_and_needs_level_2():
    montecarlo = json.loads((EXAMPLES / "montecarlo" / "schema.json").read_text())
    order = AppOrder("montecarlo", montecarlo, {"seed": 7, "samples": 100}, trust=2)
    assert order.params() == {"seed": 7, "samples": 100}
    with pytest.raises(ParamsInvalid, match=r"^seed: Must be at least 0\.$"):
        AppOrder("montecarlo", montecarlo, {"seed": -7}).params()
    with pytest.raises(DeskGridError, match="montecarlo has no verifier: request it at trust"):
        AppOrder("montecarlo", montecarlo, {}, trust=1)


def test_the_estimate_is_the_manifest_run_time_per_replica():
    assert estimate_text(600) == "at most 600 s of computing per replica"
    assert estimate_text(7200) == "at most 7,200 s of computing per replica"

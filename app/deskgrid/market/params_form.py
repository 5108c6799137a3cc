"""A request form from an app's params schema, without Qt: the JSON Schema of a published app
(an object with properties) becomes a list of field specs, and what a person typed becomes the
params, or a sentence per field saying what to change.

Supported: strings (`pattern`, `minLength`, `maxLength`), integers and numbers (`minimum`,
`maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`), booleans, an `enum` of
scalars, lists of strings (`items` a string schema, `minItems`, `maxItems`; typed separated by
commas), `format: input-file` (a file the job reads; its value is the file's path), `default`,
`required`, `title` and `description`. A schema using any other keyword is unsupported, and
`unsupported` names the keyword: nothing is silently ignored.

    form = build_form(manifest.params_schema)
    check = form.check({"seed": "42", "samples": "1000"})   # typed text, or values
    check.valid, check.params, check.errors["seed"]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from deskgrid.errors import DeskGridError

INPUT_FILE = "input-file"
FieldKind = Literal["string", "integer", "number", "boolean", "enum", "file", "list"]

# Keywords that only describe (annotations): shown or not, they never change what is valid.
ANNOTATIONS = frozenset({"title", "description", "$comment", "examples", "deprecated"})
OBJECT_KEYWORDS = ANNOTATIONS | {"$schema", "$id", "type", "properties", "required"}
SCALAR_KEYWORDS = ANNOTATIONS | {"type", "default", "enum"}
KEYWORDS_OF: dict[str, frozenset[str]] = {
    "string": SCALAR_KEYWORDS | {"pattern", "minLength", "maxLength", "format"},
    "integer": SCALAR_KEYWORDS
    | {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
    "boolean": SCALAR_KEYWORDS,
    "file": SCALAR_KEYWORDS | {"format", "contentMediaType", "pattern", "minLength", "maxLength"},
}
KEYWORDS_OF["number"] = KEYWORDS_OF["integer"]
KEYWORDS_OF["enum"] = SCALAR_KEYWORDS
KEYWORDS_OF["list"] = SCALAR_KEYWORDS | {"items", "minItems", "maxItems"}
ITEM_KEYWORDS = ANNOTATIONS | {"type", "pattern", "minLength", "maxLength"}
SCALAR_TYPES = ("string", "integer", "number", "boolean")


class ParamsInvalid(DeskGridError):
    """Params an app's schema refuses; the message names each field and what to change."""


@dataclass(frozen=True)
class FieldSpec:
    """One param as the form shows it: its kind, labels and the rules its value follows."""

    name: str
    kind: FieldKind
    title: str
    description: str = ""
    required: bool = False
    default: Any = None  # None: no default
    choices: tuple[Any, ...] = ()  # an enum's values
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    multiple_of: float | None = None
    media_type: str | None = None  # what a file param's file should be
    item: FieldSpec | None = None  # a list's item
    min_items: int | None = None
    max_items: int | None = None

    @property
    def help(self) -> str:
        """The line under the field: its description and its rules."""
        rules = self.rules()
        parts = [p for p in (self.description.strip(), rules) if p]
        return " ".join(p if p.endswith(".") else p + "." for p in parts)

    def rules(self) -> str:
        bits = []
        if self.minimum is not None:
            bits.append(f"at least {_number(self.minimum)}")
        if self.exclusive_minimum is not None:
            bits.append(f"more than {_number(self.exclusive_minimum)}")
        if self.maximum is not None:
            bits.append(f"at most {_number(self.maximum)}")
        if self.exclusive_maximum is not None:
            bits.append(f"less than {_number(self.exclusive_maximum)}")
        if self.multiple_of is not None:
            bits.append(f"a multiple of {_number(self.multiple_of)}")
        if self.min_items is not None and self.min_items > 0:
            bits.append(f"at least {self.min_items} item{'s' if self.min_items != 1 else ''}")
        if self.max_items is not None:
            bits.append(f"at most {self.max_items} item{'s' if self.max_items != 1 else ''}")
        if self.min_length is not None and self.min_length > 0:
            bits.append(f"at least {self.min_length} characters")
        if self.max_length is not None:
            bits.append(f"at most {self.max_length} characters")
        what = {"integer": "A whole number", "number": "A number"}.get(self.kind, "")
        if self.kind == "list":
            item_rules = self.item.rules() if self.item is not None else ""
            head = "Separate the items with commas" + (f"; {', '.join(bits)}" if bits else "")
            return head + (
                f". Each item: {item_rules[0].lower()}{item_rules[1:]}" if item_rules else ""
            )
        if not bits:
            return ""
        return f"{what or 'Must be'} {', '.join(bits)}".strip()

    def parse(self, raw: Any) -> Any:
        """The value of what was typed (text) or chosen; ValueError with a sentence."""
        if self.kind == "list" and isinstance(raw, str):
            return [part.strip() for part in raw.split(",") if part.strip()]
        if self.kind in ("integer", "number") and isinstance(raw, str):
            text = raw.strip().replace("_", "")
            try:
                value: Any = int(text) if self.kind == "integer" else float(text)
            except ValueError:
                what = "a whole number" if self.kind == "integer" else "a number"
                raise ValueError(f"Type {what}, such as {self._example()}.") from None
            if self.kind == "number" and value.is_integer() and "." not in text and "e" not in text:
                value = int(value)
            return value
        return raw

    def check(self, value: Any) -> str | None:
        """None when `value` is valid for this field, else the sentence saying what to change."""
        if self.kind == "enum":
            if value not in self.choices or type(value) not in {type(c) for c in self.choices}:
                return "Choose one of: " + ", ".join(_shown(c) for c in self.choices) + "."
            return None
        if self.kind == "boolean":
            return None if isinstance(value, bool) else "Must be true or false."
        if self.kind in ("string", "file"):
            return self._check_text(value)
        if self.kind == "list":
            return self._check_list(value)
        return self._check_number(value)

    def _check_text(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return "Must be text."
        if self.min_length is not None and len(value) < self.min_length:
            return f"Must be at least {self.min_length} characters long."
        if self.max_length is not None and len(value) > self.max_length:
            return f"Must be at most {self.max_length} characters long."
        if (
            self.kind == "string"
            and self.pattern is not None
            and not re.search(self.pattern, value)
        ):
            return f"Must match the pattern {self.pattern}."
        return None

    def _check_list(self, value: Any) -> str | None:
        if not isinstance(value, list):
            return "Must be a list of texts."
        if self.min_items is not None and len(value) < self.min_items:
            return f"Must have at least {self.min_items} item{'s' if self.min_items != 1 else ''}."
        if self.max_items is not None and len(value) > self.max_items:
            return f"Must have at most {self.max_items} item{'s' if self.max_items != 1 else ''}."
        for index, item in enumerate(value, 1):
            problem = self.item.check(item) if self.item is not None else None
            if problem is not None:
                return f"Item {index} ({item!r}): {problem[0].lower()}{problem[1:]}"
        return None

    def _check_number(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "Must be a number."
        if self.kind == "integer" and not isinstance(value, int):
            return f"Type a whole number, such as {self._example()}."
        if isinstance(value, float) and not math.isfinite(value):
            return "Must be a finite number."
        if self.minimum is not None and value < self.minimum:
            return f"Must be at least {_number(self.minimum)}."
        if self.exclusive_minimum is not None and value <= self.exclusive_minimum:
            return f"Must be more than {_number(self.exclusive_minimum)}."
        if self.maximum is not None and value > self.maximum:
            return f"Must be at most {_number(self.maximum)}."
        if self.exclusive_maximum is not None and value >= self.exclusive_maximum:
            return f"Must be less than {_number(self.exclusive_maximum)}."
        if self.multiple_of is not None and not _is_multiple(value, self.multiple_of):
            return f"Must be a multiple of {_number(self.multiple_of)}."
        return None

    def _example(self) -> str:
        for candidate in (self.default, self.minimum, self.exclusive_minimum, self.maximum):
            if candidate is not None and not isinstance(candidate, bool):
                return _number(candidate if self.kind == "number" else math.ceil(candidate))
        return "42" if self.kind == "integer" else "1.5"

    def text_of(self, value: Any) -> str:
        """How a value (a default) is shown in a text field."""
        if value is None:
            return ""
        if self.kind == "list" and isinstance(value, list):
            return ", ".join(str(v) for v in value)
        if self.kind in ("integer", "number"):
            return _number(value).replace(",", "")
        return str(value)


@dataclass(frozen=True)
class FormCheck:
    """What a form's values make: the params when every field is valid, else the errors."""

    params: dict[str, Any]
    errors: dict[str, str]

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ParamsForm:
    """The fields of a schema, and the sentences of what the form cannot show (`unsupported`:
    no request can be made from such a form)."""

    fields: tuple[FieldSpec, ...]
    unsupported: tuple[str, ...] = ()
    extra_allowed: bool = True  # additionalProperties: params the form does not show

    @property
    def supported(self) -> bool:
        return not self.unsupported

    @property
    def file_fields(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.kind == "file"]

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)

    def check(self, values: dict[str, Any]) -> FormCheck:
        """`values` (typed text or chosen values by field name; "" or None: left empty) as
        params, with a sentence for each field that is wrong."""
        params: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for spec in self.fields:
            raw = values.get(spec.name)
            if raw is None or (isinstance(raw, str) and raw.strip() == "" and spec.kind != "enum"):
                if spec.required:
                    errors[spec.name] = "Required: fill it in."
                continue
            try:
                value = spec.parse(raw)
            except ValueError as exc:
                errors[spec.name] = str(exc)
                continue
            problem = spec.check(value)
            if problem is not None:
                errors[spec.name] = problem
            else:
                params[spec.name] = value
        if not self.extra_allowed:
            for name in values:
                if name not in {f.name for f in self.fields}:
                    errors[name] = f"'{name}' is not a parameter of this app."
        return FormCheck(params, errors)

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` when the schema accepts them; ParamsInvalid naming each wrong field."""
        if self.unsupported:
            raise ParamsInvalid(" ".join(self.unsupported))
        check = self.check(params)
        if not check.valid:
            raise ParamsInvalid(
                "; ".join(
                    f"{name}: {sentence.rstrip('.')}" for name, sentence in check.errors.items()
                )
                + "."
            )
        return check.params


def build_form(schema: Any) -> ParamsForm:
    """The form of a params schema; what it cannot show is in `unsupported`, by keyword."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return ParamsForm((), ('The params schema must be an object schema ("type": "object").',))
    unsupported = [
        f"The params schema uses '{keyword}', which this form does not support."
        for keyword in schema
        if keyword not in OBJECT_KEYWORDS | {"additionalProperties"}
    ]
    extra = schema.get("additionalProperties", True)
    if not isinstance(extra, bool):
        unsupported.append(
            "The params schema describes additionalProperties with a schema, which this form "
            "does not support."
        )
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    if not isinstance(properties, dict) or not isinstance(required, list):
        return ParamsForm((), ("The params schema's properties or required list is malformed.",))
    fields = []
    for name, prop in properties.items():
        spec, problems = _field(str(name), prop, name in required)
        unsupported.extend(problems)
        if spec is not None:
            fields.append(spec)
    return ParamsForm(tuple(fields), tuple(unsupported), extra is not False)


def _field(name: str, prop: Any, required: bool) -> tuple[FieldSpec | None, list[str]]:
    where = f"The parameter '{name}'"
    if not isinstance(prop, dict):
        return None, [f"{where} is not described by an object."]
    kind = _kind(prop)
    if kind is None and "type" not in prop:
        others = [k for k in prop if k not in SCALAR_KEYWORDS]
        if others:
            return None, [f"{where} uses '{others[0]}', which this form does not support."]
        return None, [f"{where} has no type (string, integer, number or boolean) and no enum."]
    if kind is None:
        kind_of = prop.get("type")
        return None, [
            f"{where} is of type {kind_of!r}, which this form does not support "
            "(strings, integers, numbers, booleans, enums, lists of strings and input files "
            "only)."
        ]
    problems = [
        f"{where} uses '{keyword}', which this form does not support."
        for keyword in prop
        if keyword not in KEYWORDS_OF[kind]
    ]
    if kind == "string" and "format" in prop:
        problems.append(
            f"{where} has format {prop['format']!r}, which this form does not support "
            f"(only {INPUT_FILE!r})."
        )
    pattern = prop.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError):
            problems.append(f"{where} has a pattern this form cannot read: {pattern!r}.")
            pattern = None
    item: FieldSpec | None = None
    if kind == "list":
        item, item_problems = _item(where, name, prop.get("items"))
        problems.extend(item_problems)
    choices = tuple(prop.get("enum", ()))
    if kind == "enum" and (
        not choices or any(isinstance(c, (dict, list)) or c is None for c in choices)
    ):
        problems.append(f"{where} has an enum this form cannot show (scalar values only).")
    try:
        spec = FieldSpec(
            name=name,
            kind=kind,
            title=str(prop.get("title") or name),
            description=str(prop.get("description") or ""),
            required=required,
            default=prop.get("default"),
            choices=choices,
            pattern=pattern,
            min_length=_int_or_none(prop.get("minLength")),
            max_length=_int_or_none(prop.get("maxLength")),
            minimum=_number_or_none(prop.get("minimum")),
            maximum=_number_or_none(prop.get("maximum")),
            exclusive_minimum=_number_or_none(prop.get("exclusiveMinimum")),
            exclusive_maximum=_number_or_none(prop.get("exclusiveMaximum")),
            multiple_of=_number_or_none(prop.get("multipleOf")),
            media_type=prop.get("contentMediaType"),
            item=item,
            min_items=_int_or_none(prop.get("minItems")),
            max_items=_int_or_none(prop.get("maxItems")),
        )
    except (TypeError, ValueError):
        return None, [*problems, f"{where} has a limit that is not a number."]
    if spec.multiple_of is not None and spec.multiple_of <= 0:
        problems.append(f"{where} has a multipleOf that is not positive.")
    if spec.default is not None and spec.check(spec.default) is not None:
        problems.append(f"{where} has a default its own rules refuse: {spec.default!r}.")
    return spec, problems


def _item(where: str, name: str, items: Any) -> tuple[FieldSpec | None, list[str]]:
    """A list's item: a string schema, else the sentence why the list cannot be shown."""
    if not isinstance(items, dict) or items.get("type") != "string":
        return None, [f"{where} is a list whose items are not texts, which this form cannot show."]
    problems = [
        f"The items of parameter '{name}' use '{keyword}', which this form does not support."
        for keyword in items
        if keyword not in ITEM_KEYWORDS
    ]
    spec, more = _field(f"{name}[]", items, required=True)
    # what the item's keywords lack is said above, once
    return spec, problems + [p for p in more if "uses '" not in p and "has format" not in p]


def _kind(prop: dict[str, Any]) -> FieldKind | None:
    kind = prop.get("type")
    if "enum" in prop and kind in (None, *SCALAR_TYPES):
        return "enum"
    if kind == "string" and prop.get("format") == INPUT_FILE:
        return "file"
    if kind in SCALAR_TYPES:
        return kind  # type: ignore[return-value]
    if kind == "array":
        return "list"
    return None


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


def _number_or_none(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(value)
    return value


def _is_multiple(value: float, step: float) -> bool:
    if isinstance(value, int) and isinstance(step, int):
        return value % step == 0
    quotient = value / step
    return math.isclose(quotient, round(quotient), rel_tol=1e-9, abs_tol=1e-9)


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else repr(value)


def _shown(choice: Any) -> str:
    if isinstance(choice, bool):
        return "true" if choice else "false"
    return str(choice)


def estimate_text(max_seconds: int) -> str:
    """The estimate a manifest gives: its resources' run time per replica."""
    return f"at most {max_seconds:,} s of computing per replica"

"""An app's manifest: what a third-party (Docker) app is, published with it on the hub.

A manifest is a JSON document: `name`, `version`, `description`, `image` (the image's content
id `sha256:<64 hex>`, which `docker load` of a `docker save` archive reproduces, plus an
optional registry `reference` `repo@sha256:…` and an optional `archive_sha256` of the saved
archive), `params_schema` (the JSON Schema of its params), `inputs` (the named input files),
`result` (its media type), `resources` (cores, memory, run time) and `verifier` (null: a
third-party app's results are checked by replication). On chain it is its canonical JSON
(sorted keys, no spaces, ASCII), at most `MAX_MANIFEST_BYTES`.

    manifest = parse_manifest(path.read_bytes())   # ManifestError with a sentence
    data = canonical_json(manifest)                  # what `publishApp` emits
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from deskgrid.boundedjson import JsonRejected, loads
from deskgrid.chain.listings import schema_hash
from deskgrid.errors import DeskGridError

MAX_MANIFEST_BYTES = 16 * 1024  # the hub's MAX_MANIFEST_BYTES
MAX_FILE_BYTES = 64 * 1024  # a manifest file with indentation, before it is made canonical
MAX_DEPTH = 16
MAX_INPUTS = 16
IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
DOCKER_URI_PREFIX = "docker:"
# The parameter types the request form understands (docs/developer.md, "The parameter schema").
PARAM_TYPES = frozenset({"string", "integer", "number", "boolean", "array"})

Text = Annotated[str, Field(min_length=1, max_length=1000)]


class ManifestError(DeskGridError):
    """A manifest that cannot be published or offered; the message says what to change."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ImageRef(_Strict):
    id: Annotated[str, Field(pattern=IMAGE_ID.pattern)]
    reference: (
        Annotated[
            str,
            Field(max_length=255, pattern=r"^[a-z0-9][a-z0-9._/:-]{0,180}@sha256:[0-9a-f]{64}$"),
        ]
        | None
    ) = None
    archive_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None


class InputFile(_Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    description: Text


class ResultSpec(_Strict):
    media_type: Annotated[
        str, Field(max_length=127, pattern=r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")
    ]
    description: Text


class ManifestResources(_Strict):
    cores: Annotated[int, Field(ge=1, le=256)] = 1
    memory_mb: Annotated[int, Field(ge=16, le=1024 * 1024)] = 256
    max_seconds: Annotated[int, Field(ge=1, le=7 * 24 * 3600)] = 3600


class Manifest(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    version: Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}$")]
    description: Text
    image: ImageRef
    params_schema: dict[str, Any]
    inputs: Annotated[list[InputFile], Field(max_length=MAX_INPUTS)] = []
    result: ResultSpec
    resources: ManifestResources = ManifestResources()
    verifier: Literal[None] = None

    @field_validator("params_schema")
    @classmethod
    def _schema_is_a_flat_object(cls, schema: dict[str, Any]) -> dict[str, Any]:
        check_params_schema(schema)
        return schema

    @model_validator(mode="after")
    def _inputs_are_distinct_and_declared(self) -> Manifest:
        names = [item.name for item in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError("each input file needs a name of its own")
        if file_params(self.params_schema) and not self.inputs:
            raise ValueError(
                "the params name input files (format input-file): describe them in inputs"
            )
        return self

    @property
    def uri(self) -> str:
        """What the hub records as the app's URI: `docker:sha256:<image id hex>`."""
        return DOCKER_URI_PREFIX + self.image.id

    @property
    def params_schema_hash(self) -> bytes:
        return schema_hash(self.params_schema)


def check_params_schema(schema: dict[str, Any]) -> None:
    """A ValueError unless `schema` is the flat object schema the request form understands."""
    if schema.get("type") != "object":
        raise ValueError('the params schema must be an object schema ("type": "object")')
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        raise ValueError("the params schema's properties must be an object")
    for name, prop in properties.items():
        if not isinstance(prop, dict):
            raise ValueError(f"param {name!r} must be described by an object")
        if "enum" not in prop and prop.get("type") not in PARAM_TYPES:
            raise ValueError(
                f"param {name!r} needs a type among {', '.join(sorted(PARAM_TYPES))} or an enum"
            )
    required = schema.get("required", [])
    if not isinstance(required, list) or any(r not in properties for r in required):
        raise ValueError("the params schema's required list must name its own properties")


def file_params(schema: dict[str, Any]) -> list[str]:
    """The params whose value names one of the job's input files."""
    properties = schema.get("properties", {})
    return [n for n, p in properties.items() if p.get("format") == "input-file"]


def canonical_json(manifest: Manifest) -> bytes:
    """The manifest as the hub carries it: sorted keys, no spaces, ASCII."""
    doc = manifest.model_dump(mode="json", exclude_none=False)
    if doc["image"].get("reference") is None:
        doc["image"].pop("reference")
    if doc["image"].get("archive_sha256") is None:
        doc["image"].pop("archive_sha256")
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.encode("ascii")


def parse_manifest(data: bytes | str, *, where: str = "The manifest") -> Manifest:
    """A valid manifest from its JSON text (a file's or an event's), else a ManifestError that
    says what is wrong, and where."""
    return manifest_from(load_document(data, where=where), where=where)


def load_document(data: bytes | str, *, where: str = "The manifest") -> Any:
    """The JSON of a manifest, parsed within bounds (not yet checked as a manifest)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        return loads(raw, max_depth=MAX_DEPTH, max_bytes=MAX_FILE_BYTES)
    except JsonRejected as exc:
        raise ManifestError(f"{where} is not usable JSON: {exc}") from None


def with_image_id(doc: Any, image_id: str, archive_sha256: str | None = None) -> Any:
    """The manifest document `doc` with its `image.id` set to `image_id`, and its
    `image.archive_sha256` to `archive_sha256` when given (the rest as is)."""
    if not isinstance(doc, dict):
        return doc
    image = {**(doc.get("image") if isinstance(doc.get("image"), dict) else {}), "id": image_id}
    if archive_sha256 is not None:
        image["archive_sha256"] = archive_sha256
    return {**doc, "image": image}


def read_manifest_file(path: Path) -> bytes:
    """The bytes of the manifest file `path` (a sentence when it cannot be read, or is far
    larger than any manifest)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ManifestError(f"Cannot read the manifest {path} ({exc.strerror}).") from None
    if len(data) > MAX_FILE_BYTES:
        raise ManifestError(
            f"The manifest {path} is larger than {MAX_FILE_BYTES // 1024} KiB: is it the "
            "right file? A manifest is a short JSON document (docs/developer.md, Publishing)."
        )
    return data


class ImageChoiceError(ManifestError):
    """The image to publish is missing, or is not the one the manifest names."""


def manifest_for_image(doc: Any, image_id: str | None, *, where: str = "The manifest") -> Manifest:
    """`doc` (parsed JSON) checked as the manifest of image `image_id` (None: the image id
    the manifest names). A ManifestError for the manifest itself; an ImageChoiceError when no
    image id is known, or when the manifest names another image than `image_id`."""
    image = doc.get("image") if isinstance(doc, dict) else None
    named = image.get("id") if isinstance(image, dict) else None
    named = named if isinstance(named, str) and IMAGE_ID.match(named) else None
    # the rest of the manifest is checked first, whatever the image
    manifest = manifest_from(with_image_id(doc, image_id or named or _ANY_IMAGE_ID), where=where)
    if image_id is None and named is None:
        raise ImageChoiceError(
            f"{where} names no image id yet: choose the app's image, or type its id "
            "(sha256: and 64 hex digits; docker inspect --format '{{.Id}}' IMAGE prints it)."
        )
    if image_id is not None and named is not None and named != image_id:
        raise ImageChoiceError(
            f"{where} names the image {named}, not the one chosen ({image_id}): choose the "
            "manifest's own image, or correct its image.id."
        )
    return manifest


_ANY_IMAGE_ID = "sha256:" + "0" * 64


def manifest_from(doc: Any, *, where: str = "The manifest") -> Manifest:
    """`doc` (parsed JSON) checked as a manifest, else a ManifestError."""
    if not isinstance(doc, dict):
        raise ManifestError(f"{where} must be a JSON object.")
    try:
        manifest = Manifest.model_validate(doc)
    except ValidationError as exc:
        raise ManifestError(f"{where} is not valid: {_sentences(exc)}.") from None
    size = len(canonical_json(manifest))
    if size > MAX_MANIFEST_BYTES:
        raise ManifestError(
            f"{where} is {size:,} bytes as canonical JSON; the hub takes at most "
            f"{MAX_MANIFEST_BYTES:,}: shorten its descriptions or params schema."
        )
    return manifest


# What a field that does not match its pattern must be, in words.
PATTERN_HINTS: dict[tuple[str | int, ...], str] = {
    ("name",): "must be 1 to 64 lower-case letters, digits, - or _ (starting with a letter or "
    "digit)",
    ("version",): "must be 1 to 32 letters, digits, ., +, _ or - (such as 1.0.2)",
    ("image", "id"): "must be the image's content id, sha256: and 64 hex digits (docker "
    "inspect --format '{{.Id}}' IMAGE prints it), or publish with --image IMAGE to fill it in",
    ("image", "reference"): "must be a registry reference pinned by digest, repo@sha256:<64 hex>",
    ("image", "archive_sha256"): "must be 64 hex digits, the sha256 of the docker save archive",
    ("result", "media_type"): "must be a media type such as application/json",
}


def _sentences(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        loc = tuple(error["loc"])
        where = ".".join(str(p) for p in loc) or "the document"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not a manifest field (remove it)"
        elif error["type"] == "missing":
            message = "is missing"
        elif error["type"] == "literal_error" and loc == ("verifier",):
            message = "must be null: a published app's results are checked by replication"
        elif error["type"] == "string_pattern_mismatch":
            if loc[:1] == ("inputs",):
                message = "must be a plain file name (letters, digits, ., _ or -)"
            else:
                message = PATTERN_HINTS.get(loc, message)
        parts.append(
            f"{where} {message}" if message.startswith(("is ", "must")) else f"{where}: {message}"
        )
    more = len(exc.errors()) - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def image_id_of_uri(uri: str) -> str | None:
    """`sha256:<hex>` of a `docker:sha256:<hex>` URI, else None."""
    rest = uri.removeprefix(DOCKER_URI_PREFIX)
    return rest if uri.startswith(DOCKER_URI_PREFIX) and IMAGE_ID.match(rest) else None

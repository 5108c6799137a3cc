"""What a task of a published app asks for, as the on-chain request's params text.

A built-in app's request carries its params object itself. A published (Docker) app's carries
a document around them:

    {"params": {...}, "inputs": {"text": "<sha256 hex>"}, "result_key": "02…"}

`params` are checked against the app's schema; a file param's value names one of `inputs`;
`inputs` maps each input file's name (one of the manifest's) to the sha256 of its content in
the grid's data store; `result_key`, when present, is the requester's compressed secp256k1
public key (the wallet's): workers encrypt the result to it (`deskgrid.crypto.ecies`), so the
grid, the oracle and the chain hold only ciphertext.

    text = TaskDocument(params, inputs, result_key).to_chain()
    doc = parse_task_document(text, manifest)        # TaskDocumentError with a sentence
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from deskgrid import boundedjson
from deskgrid.errors import DeskGridError
from deskgrid.market.manifest import Manifest, file_params
from deskgrid.market.params_form import ParamsInvalid, build_form

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RESULT_KEY = re.compile(r"^0[23][0-9a-f]{64}$")
KEYS = frozenset({"params", "inputs", "result_key"})


class TaskDocumentError(DeskGridError):
    """A published app's request that cannot be run; the message says what is wrong."""


@dataclass(frozen=True)
class TaskDocument:
    params: dict[str, Any]
    inputs: dict[str, str] = field(default_factory=dict)  # input name -> sha256 hex
    result_key: str | None = None  # compressed public key, hex (no 0x)

    def to_chain(self) -> str:
        """The request's params text: compact JSON, keys sorted."""
        doc: dict[str, Any] = {"params": self.params, "inputs": dict(sorted(self.inputs.items()))}
        if self.result_key is not None:
            doc["result_key"] = self.result_key
        return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def parse_task_document(text: str, manifest: Manifest) -> TaskDocument:
    """The document of a request for the app published with `manifest`, checked: its params
    against the schema, its inputs against the manifest's input names, each file param
    naming a given input, the key's form. Anyone on the chain wrote `text`."""
    try:
        doc = boundedjson.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("params"), dict):
        raise TaskDocumentError(
            'the request must be a JSON object {"params": {...}, "inputs": {...}} for a '
            "published app"
        )
    unknown = sorted(set(doc) - KEYS)
    if unknown:
        raise TaskDocumentError(f"the request has unknown fields: {', '.join(unknown)}")
    inputs = doc.get("inputs", {})
    if not isinstance(inputs, dict):
        raise TaskDocumentError("inputs must map input names to sha256 digests")
    declared = {item.name for item in manifest.inputs}
    for name, digest in inputs.items():
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise TaskDocumentError(f"the app has no input called {name!r} (its inputs: {known})")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise TaskDocumentError(f"input {name!r} must be a sha256 digest (64 hex digits)")
    key = doc.get("result_key")
    if key is not None and (not isinstance(key, str) or not _RESULT_KEY.match(key)):
        raise TaskDocumentError(
            "result_key must be a compressed secp256k1 public key (66 hex digits, 02 or 03 first)"
        )
    try:
        params = build_form(manifest.params_schema).validate(doc["params"])
    except ParamsInvalid as exc:
        raise TaskDocumentError(f"invalid params: {exc}") from None
    for name in file_params(manifest.params_schema):
        value = params.get(name)
        if value is not None and value not in inputs:
            raise TaskDocumentError(
                f"the param {name!r} names the input {value!r}, which the request does not give"
            )
    return TaskDocument(params, dict(inputs), key)

"""VanityGen as a DeskGrid app: params, run, verifier, estimate.

Params: `patterns` (one or several prefixes), `case_insensitive`, `compressed` (default true),
`public_key` (the requester's, hex) for a split-key search. Split-key is the default on the
grid: without a public key the request must say `full_key: true`, accepting that the worker
(and the grid) see the private key.

Result (JSON bytes): `address`, then `partial_private_key` (64 hex digits; see `splitkey`) and
`public_key`, or `wif`; plus `compressed`, `keys_tried` and `seconds`.
"""

from __future__ import annotations

import json
from typing import Any

from deskgrid import boundedjson
from deskgrid.apps.sdk import AppParamsError, AppSpec, Resources, RunContext
from deskgrid.apps.vanity.keys import (
    InvalidKeyError,
    address_from_private_key,
    parse_public_key,
    wif_decode,
    wif_encode,
)
from deskgrid.apps.vanity.parallel import SearchResult, search
from deskgrid.apps.vanity.pattern import PatternSet, compile_patterns, found_probability
from deskgrid.apps.vanity.splitkey import split_address_matches

MAX_PATTERNS = 16
MAX_RESULT_BYTES = 4096
# Keys per second of one core of the reference machine (docs/benchmarks.md), for estimates.
REFERENCE_KEYS_PER_SECOND = 450_000

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "patterns": {
            "type": "array",
            "title": "Address prefixes",
            "description": "The address must start with one of these, e.g. 1LoVE.",
            "items": {"type": "string", "pattern": "^1[1-9A-HJ-NP-Za-km-z]*$", "maxLength": 40},
            "minItems": 1,
            "maxItems": MAX_PATTERNS,
        },
        "case_insensitive": {"type": "boolean", "title": "Ignore case", "default": False},
        "compressed": {"type": "boolean", "title": "Compressed public key", "default": True},
        "public_key": {
            "type": "string",
            "title": "Your public key (split-key search)",
            "description": "Hex, compressed or not. The worker then finds only a partial key; "
            "you add your own secret, so nobody else ever knows the final key.",
        },
        "full_key": {
            "type": "boolean",
            "title": "Let the worker find the whole key (it will know it)",
            "default": False,
        },
    },
    "required": ["patterns"],
    "additionalProperties": False,
}

_KNOWN = set(PARAMS_SCHEMA["properties"]) | {"pattern"}


def _flag(params: dict[str, Any], name: str, default: bool) -> bool:
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise AppParamsError(f"VanityGen needs '{name}' to be true or false.")
    return value


def validate(params: dict[str, Any]) -> dict[str, Any]:
    """Normalised params, or AppParamsError with a sentence."""
    extra = sorted(set(params) - _KNOWN)
    if extra:
        raise AppParamsError(f"VanityGen does not know the parameter(s) {', '.join(extra)}.")
    patterns = params.get("patterns", params.get("pattern"))
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise AppParamsError("VanityGen needs 'patterns': a list of address prefixes.")
    if len(patterns) > MAX_PATTERNS:
        raise AppParamsError(f"VanityGen takes at most {MAX_PATTERNS} patterns at once.")
    case_insensitive = _flag(params, "case_insensitive", False)
    compiled = compile_patterns(patterns, case_insensitive)
    public_key = params.get("public_key")
    full_key = _flag(params, "full_key", False)
    if public_key is not None:
        if not isinstance(public_key, str):
            raise AppParamsError("VanityGen needs 'public_key' as hexadecimal text.")
        try:
            public_key = parse_public_key(public_key).format(compressed=True).hex()
        except InvalidKeyError as exc:
            raise AppParamsError(f"The public key is not usable: {exc}.") from None
        full_key = False
    elif not full_key:
        raise AppParamsError(
            "Give your public key for a split-key search (the worker then never learns the "
            "final key), or set full_key to let the worker find, and know, the whole key."
        )
    return {
        "patterns": list(compiled.patterns),
        "case_insensitive": case_insensitive,
        "compressed": _flag(params, "compressed", True),
        "public_key": public_key,
        "full_key": full_key,
    }


def _compiled(params: dict[str, Any]) -> PatternSet:
    return compile_patterns(params["patterns"], params.get("case_insensitive", False))


def result_document(result: SearchResult, requester_key: str | None) -> dict[str, Any]:
    """The result as a JSON-ready dict (also what `deskgrid vanity --json` prints)."""
    match = result.match
    assert match is not None
    doc: dict[str, Any] = {"address": match.address}
    if match.split:
        doc["partial_private_key"] = f"{match.scalar:064x}"
        doc["public_key"] = requester_key
    else:
        doc["wif"] = wif_encode(match.scalar, match.compressed)
    doc["compressed"] = match.compressed
    doc["keys_tried"] = result.keys_tried
    doc["seconds"] = round(result.seconds, 3)
    return doc


def run(params: dict[str, Any], ctx: RunContext) -> bytes:
    patterns = _compiled(params)
    requester = parse_public_key(params["public_key"]) if params.get("public_key") else None

    def progress(tried: int, rate: float) -> None:
        fraction = round(found_probability(tried, patterns.difficulty), 4)
        ctx.progress(fraction, keys_tried=tried, keys_per_second=round(rate))

    result = search(
        patterns,
        cores=ctx.cores,
        compressed=params.get("compressed", True),
        base=requester,
        on_progress=progress,
    )
    ctx.progress(1.0, keys_tried=result.keys_tried, keys_per_second=round(result.keys_per_second))
    return json.dumps(result_document(result, params.get("public_key"))).encode()


def verify(params: dict[str, Any], result: bytes) -> bool:
    """True when the result's address has a requested prefix and really comes from its key."""
    if len(result) > MAX_RESULT_BYTES:
        return False
    try:
        doc = boundedjson.loads(result, max_depth=8)  # a worker wrote it
        address = doc["address"]
        if not isinstance(address, str) or not _compiled(params).matches(address):
            return False
        compressed = params.get("compressed", True)
        if params.get("public_key"):
            partial = int(doc["partial_private_key"], 16)
            requester = parse_public_key(params["public_key"])
            return split_address_matches(requester, partial, address, compressed)
        key, wif_compressed = wif_decode(doc["wif"])
        return wif_compressed == compressed and address_from_private_key(key, compressed) == address
    except (ValueError, KeyError, TypeError, AppParamsError):
        return False


def estimate(params: dict[str, Any]) -> dict[str, Any]:
    patterns = _compiled(params)
    return {
        "difficulty": patterns.difficulty,
        "reference_keys_per_second": REFERENCE_KEYS_PER_SECOND,
        "expected_seconds_one_core": patterns.difficulty / REFERENCE_KEYS_PER_SECOND,
    }


def secret_result(params: dict[str, Any]) -> str | None:
    """A `full_key` result is the whole private key: in clear, for anyone who reads it."""
    if params.get("full_key"):
        return (
            "a full_key result would be the address's private key in clear, for anyone to "
            "read on the chain; request a split-key search with your public key instead"
        )
    return None


VANITY = AppSpec(
    name="vanity",
    version="1.0",
    description="VanityGen: finds a Bitcoin address that starts with your pattern, e.g. 1LoVE. "
    "With your public key (the default) the worker finds only a partial key.",
    params_schema=PARAMS_SCHEMA,
    validate=validate,
    verify=verify,
    estimate=estimate,
    secret_result=secret_result,
    resources=Resources(cores=1, memory_mb=256, max_seconds=24 * 3600, multicore=True),
    run="deskgrid.apps.vanity.app:run",
)

"""Small apps for tests: echo, sleep, fail, misbehave, digest, spawn, hog and checksum (loaded
through DESKGRID_APP_MODULES).

They exercise the grid and the worker without heavy computing: `echo` is verifiable (the
result must equal the input), `sleep` reports progress, `fail` always fails with a sentence,
`misbehave` returns a wrong result (with a chosen probability) to test replication votes,
`digest` reads its input files, `spawn` leaves a stubborn child behind, `hog` allocates and
holds memory, `checksum` gives a deterministic answer that only computing it again can check.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import sys
import time
from typing import Any

from deskgrid.apps.sdk import AppParamsError, AppRunError, AppSpec, Resources, RunContext

MAX_TEXT = 1 << 20
MAX_SLEEP = 3600.0


def _text(params: dict[str, Any], app: str) -> str:
    text = params.get("text", "")
    if not isinstance(text, str):
        raise AppParamsError(f"The {app} app needs 'text' to be a string.")
    if len(text.encode()) > MAX_TEXT:
        raise AppParamsError(f"The {app} app takes at most {MAX_TEXT} bytes of text.")
    return text


def _no_extra(params: dict[str, Any], allowed: set[str], app: str) -> None:
    extra = sorted(set(params) - allowed)
    if extra:
        raise AppParamsError(f"The {app} app does not know the parameter(s) {', '.join(extra)}.")


# -- echo ---------------------------------------------------------------------------------------
def validate_echo(params: dict[str, Any]) -> dict[str, Any]:
    _no_extra(params, {"text"}, "echo")
    return {"text": _text(params, "echo")}


def run_echo(params: dict[str, Any], ctx: RunContext) -> bytes:
    ctx.progress(1.0)
    return params["text"].encode()


def verify_echo(params: dict[str, Any], result: bytes) -> bool:
    return result == params.get("text", "").encode()


# -- sleep --------------------------------------------------------------------------------------
def validate_sleep(params: dict[str, Any]) -> dict[str, Any]:
    _no_extra(params, {"seconds", "steps"}, "sleep")
    seconds = params.get("seconds", 1.0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise AppParamsError("The sleep app needs 'seconds' to be a number.")
    if not 0 <= seconds <= MAX_SLEEP:
        raise AppParamsError(f"The sleep app sleeps between 0 and {MAX_SLEEP:g} seconds.")
    steps = params.get("steps", 10)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 1000:
        raise AppParamsError("The sleep app needs 'steps' to be a whole number from 1 to 1000.")
    return {"seconds": float(seconds), "steps": steps}


def run_sleep(params: dict[str, Any], ctx: RunContext) -> bytes:
    seconds, steps = params["seconds"], params["steps"]
    for step in range(steps):
        time.sleep(seconds / steps)
        ctx.progress((step + 1) / steps)
    return f"slept {seconds:g} s".encode()


# -- fail ---------------------------------------------------------------------------------------
def validate_fail(params: dict[str, Any]) -> dict[str, Any]:
    _no_extra(params, {"message"}, "fail")
    message = params.get("message", "This app always fails.")
    if not isinstance(message, str) or not message or len(message) > 1000:
        raise AppParamsError("The fail app needs 'message' to be a sentence (1–1000 characters).")
    return {"message": message}


def run_fail(params: dict[str, Any], ctx: RunContext) -> bytes:
    raise AppRunError(params["message"])


# -- misbehave ----------------------------------------------------------------------------------
def validate_misbehave(params: dict[str, Any]) -> dict[str, Any]:
    _no_extra(params, {"text", "wrong_probability"}, "misbehave")
    wrong = params.get("wrong_probability", 1.0)
    if isinstance(wrong, bool) or not isinstance(wrong, int | float) or not 0 <= wrong <= 1:
        raise AppParamsError("The misbehave app needs 'wrong_probability' between 0 and 1.")
    return {"text": _text(params, "misbehave"), "wrong_probability": float(wrong)}


def run_misbehave(params: dict[str, Any], ctx: RunContext) -> bytes:
    """The text (the right answer) or, with the given probability, random bytes."""
    ctx.progress(1.0)
    if secrets.randbelow(1_000_000) < params["wrong_probability"] * 1_000_000:
        return b"wrong:" + secrets.token_hex(16).encode()
    return params["text"].encode()


_SMALL = Resources(cores=1, memory_mb=128, max_seconds=60)

ECHO = AppSpec(
    name="echo",
    version="1.0",
    description="Returns its input text (a verifiable app for tests).",
    params_schema={
        "type": "object",
        "properties": {"text": {"type": "string", "title": "Text", "maxLength": MAX_TEXT}},
        "required": ["text"],
        "additionalProperties": False,
    },
    validate=validate_echo,
    verify=verify_echo,
    resources=_SMALL,
    run="tests.testapps:run_echo",
)

SLEEP = AppSpec(
    name="sleep",
    version="1.0",
    description="Sleeps for a number of seconds, reporting progress.",
    params_schema={
        "type": "object",
        "properties": {
            "seconds": {"type": "number", "title": "Seconds", "minimum": 0, "maximum": MAX_SLEEP},
            "steps": {"type": "integer", "title": "Progress steps", "minimum": 1, "default": 10},
        },
        "required": ["seconds"],
        "additionalProperties": False,
    },
    validate=validate_sleep,
    resources=Resources(cores=1, memory_mb=128, max_seconds=int(MAX_SLEEP) + 60),
    run="tests.testapps:run_sleep",
)

FAIL = AppSpec(
    name="fail",
    version="1.0",
    description="Always fails with the given message (for error handling tests).",
    params_schema={
        "type": "object",
        "properties": {"message": {"type": "string", "title": "Message", "maxLength": 1000}},
        "additionalProperties": False,
    },
    validate=validate_fail,
    resources=_SMALL,
    run="tests.testapps:run_fail",
)

MISBEHAVE = AppSpec(
    name="misbehave",
    version="1.0",
    description="Returns its text, or a wrong random result with a given probability "
    "(for replication and quorum tests).",
    params_schema={
        "type": "object",
        "properties": {
            "text": {"type": "string", "title": "Text", "maxLength": MAX_TEXT},
            "wrong_probability": {
                "type": "number",
                "title": "Probability of a wrong result",
                "minimum": 0,
                "maximum": 1,
                "default": 1,
            },
        },
        "required": ["text"],
        "additionalProperties": False,
    },
    validate=validate_misbehave,
    resources=_SMALL,
    run="tests.testapps:run_misbehave",
)

APPS: tuple[AppSpec, ...] = (ECHO, SLEEP, FAIL, MISBEHAVE)


# -- digest -------------------------------------------------------------------------------------
def validate_digest(params: dict[str, Any]) -> dict[str, Any]:
    _no_extra(params, set(), "digest")
    return {}


def run_digest(params: dict[str, Any], ctx: RunContext) -> bytes:
    """The sha256 and size of every input file, read in chunks (as JSON)."""
    found: dict[str, list[Any]] = {}
    for name, path in sorted(ctx.inputs.items()):
        hasher, size = hashlib.sha256(), 0
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                hasher.update(chunk)
                size += len(chunk)
        found[name] = [hasher.hexdigest(), size]
    ctx.progress(1.0)
    return json.dumps(found, sort_keys=True).encode()


# -- spawn --------------------------------------------------------------------------------------
# A child that ignores SIGTERM and leaves the job's session, and its own child: both would
# outlive the job unless the worker kills the job's whole tree. `tag` is put on their command
# lines so a test can find them.
_STUBBORN = (
    "import os, signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "os.setsid()\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)', sys.argv[1]])\n"
    "time.sleep(3600)\n"
)


def validate_spawn(params: dict[str, Any]) -> dict[str, Any]:
    _no_extra(params, {"tag", "seconds"}, "spawn")
    tag = params.get("tag", "")
    if not isinstance(tag, str) or not tag.isalnum() or len(tag) > 64:
        raise AppParamsError("The spawn app needs 'tag' to be letters and digits.")
    seconds = params.get("seconds", 3600)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise AppParamsError("The spawn app needs 'seconds' to be a number.")
    return {"tag": tag, "seconds": float(min(seconds, MAX_SLEEP))}


def run_spawn(params: dict[str, Any], ctx: RunContext) -> bytes:
    """Start the stubborn child, report progress once, then sleep quietly for `seconds`."""
    subprocess.Popen([sys.executable, "-c", _STUBBORN, params["tag"]])
    ctx.progress(0.0)
    time.sleep(params["seconds"])
    return b"spawned"


DIGEST = AppSpec(
    name="digest",
    version="1.0",
    description="Returns the sha256 and size of each of its input files (for input tests).",
    params_schema={"type": "object", "properties": {}, "additionalProperties": False},
    validate=validate_digest,
    resources=_SMALL,
    run="tests.testapps:run_digest",
)

SPAWN = AppSpec(
    name="spawn",
    version="1.0",
    description="Starts a child that ignores SIGTERM and leaves the job's session, then sleeps "
    "(for process cleanup tests).",
    params_schema={
        "type": "object",
        "properties": {"tag": {"type": "string"}, "seconds": {"type": "number", "minimum": 0}},
        "required": ["tag"],
        "additionalProperties": False,
    },
    validate=validate_spawn,
    resources=Resources(cores=1, memory_mb=128, max_seconds=int(MAX_SLEEP) + 60),
    run="tests.testapps:run_spawn",
)

APPS = (*APPS, DIGEST, SPAWN)


# -- hog ----------------------------------------------------------------------------------------
# Allocates (and touches) a number of MiB, then holds them: for the worker's memory limit.
MIB = 1 << 20
MAX_HOG_MIB = 4096
HOG_NEED_MB = 256  # what the app declares it needs; `mib` may ask for more (a lying app)


def validate_hog(params: dict[str, Any]) -> dict[str, Any]:
    _no_extra(params, {"mib", "seconds", "in_child"}, "hog")
    mib = params.get("mib", 1)
    if isinstance(mib, bool) or not isinstance(mib, int) or not 0 <= mib <= MAX_HOG_MIB:
        raise AppParamsError(f"The hog app needs 'mib' to be a whole number up to {MAX_HOG_MIB}.")
    seconds = params.get("seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise AppParamsError("The hog app needs 'seconds' to be a number.")
    in_child = params.get("in_child", False)
    if not isinstance(in_child, bool):
        raise AppParamsError("The hog app needs 'in_child' to be true or false.")
    return {"mib": mib, "seconds": float(min(seconds, MAX_SLEEP)), "in_child": in_child}


_HOLD = (
    "import sys, time\n"
    "held = [bytearray(b'\\x01') * (1 << 20) for _ in range(int(sys.argv[1]))]\n"
    "time.sleep(float(sys.argv[2]))\n"
)


def run_hog(params: dict[str, Any], ctx: RunContext) -> bytes:
    """Allocate `mib` MiB one at a time, every page written (resident, not just reserved),
    report progress, then hold them for `seconds`; with `in_child`, a child process does it
    (the job's memory is its whole process tree's)."""
    mib, seconds = params["mib"], params["seconds"]
    if params["in_child"]:
        ctx.progress(0.0)
        subprocess.run([sys.executable, "-c", _HOLD, str(mib), str(seconds)], check=True)
        return f"held {mib} MiB in a child".encode()
    held = [bytearray(b"\x01") * MIB for _ in range(mib)]
    ctx.progress(1.0, mib_held=len(held))
    time.sleep(seconds)
    return f"held {len(held)} MiB".encode()


HOG = AppSpec(
    name="hog",
    version="1.0",
    description=f"Allocates and holds a number of MiB (declares {HOG_NEED_MB} MiB; for memory "
    "limit tests).",
    params_schema={
        "type": "object",
        "properties": {
            "mib": {"type": "integer", "minimum": 0, "maximum": MAX_HOG_MIB},
            "seconds": {"type": "number", "minimum": 0},
            "in_child": {"type": "boolean"},
        },
        "required": ["mib"],
        "additionalProperties": False,
    },
    validate=validate_hog,
    resources=Resources(cores=1, memory_mb=HOG_NEED_MB, max_seconds=int(MAX_SLEEP) + 60),
    run="tests.testapps:run_hog",
)

APPS = (*APPS, HOG)


# -- checksum -----------------------------------------------------------------------------------
# A deterministic answer that no verifier can check short of computing it again: the app of
# replicated work (consensus by trust, stake) in tests and in benchmarks/byzantine.py.
def validate_checksum(params: dict[str, Any]) -> dict[str, Any]:
    _no_extra(params, {"text"}, "checksum")
    return {"text": _text(params, "checksum")}


def run_checksum(params: dict[str, Any], ctx: RunContext) -> bytes:
    """The SHA-256 of the text, in hex."""
    ctx.progress(1.0)
    return hashlib.sha256(params["text"].encode()).hexdigest().encode()


CHECKSUM = AppSpec(
    name="checksum",
    version="1.0",
    description="Returns the SHA-256 of its text (deterministic, with no verifier: for "
    "replicated work).",
    params_schema={
        "type": "object",
        "properties": {"text": {"type": "string", "title": "Text", "maxLength": MAX_TEXT}},
        "required": ["text"],
        "additionalProperties": False,
    },
    validate=validate_checksum,
    resources=_SMALL,
    run="tests.testapps:run_checksum",
)

APPS = (*APPS, CHECKSUM)

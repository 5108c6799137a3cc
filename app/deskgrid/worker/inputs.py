"""A lease's input files, fetched from a grid the volunteer does not control.

Nothing a grid sends may exhaust the volunteer's memory or disk: every input is streamed to a
file (never held in memory) with its sha256 checked while it arrives; each input and all of
them together are capped (`max_input_bytes`), and the transfer stops as soon as a cap is
passed, whatever sizes the grid declares; the worker keeps `min_free_disk_bytes` free on the
disk and refuses a lease whose inputs would take it below. Names and data ids are checked
before anything is fetched: a name is a plain file name, never a path. A refused lease is a
RunnerError (`InputsRefused`) whose sentence the worker reports to the grid; the job never
runs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from deskgrid.grid.client import ContentRefused, GridClient
from deskgrid.grid.content import check_sha256
from deskgrid.grid.models import InputFile
from deskgrid.worker.runner import RunnerError, check_input_names

MIB = 2**20
DEFAULT_MAX_INPUT_MB = 256
DEFAULT_MIN_FREE_DISK_MB = 1024
MAX_INPUTS = 64


class InputsRefused(RunnerError):
    """A lease whose inputs this worker will not fetch or keep; the sentence says why."""


@dataclass(frozen=True)
class InputLimits:
    max_input_bytes: int = DEFAULT_MAX_INPUT_MB * MIB  # each input, and all of a lease's
    min_free_disk_bytes: int = DEFAULT_MIN_FREE_DISK_MB * MIB
    max_inputs: int = MAX_INPUTS


def free_disk_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def _mb(n: int) -> str:
    return f"{n / MIB:.0f} MiB" if n >= MIB else f"{n} bytes"


def check_inputs(inputs: list[InputFile], limits: InputLimits) -> int:
    """The declared total size, or InputsRefused: too many inputs, a name that is not a plain
    file name, a data id that is not a sha256, a declared size above the cap."""
    if len(inputs) > limits.max_inputs:
        raise InputsRefused(
            f"The job has {len(inputs)} inputs; this worker takes at most {limits.max_inputs}."
        )
    try:
        check_input_names([item.name for item in inputs])
    except RunnerError as exc:
        raise InputsRefused(exc.message) from None
    total = 0
    for item in inputs:
        try:
            check_sha256(item.sha256)
        except ContentRefused as exc:
            raise InputsRefused(exc.detail) from None
        size = item.size if isinstance(item.size, int) and item.size >= 0 else 0
        total += size
    if total > limits.max_input_bytes:
        raise InputsRefused(
            f"The job's inputs are {_mb(total)}, more than the {_mb(limits.max_input_bytes)} "
            "this worker accepts (--max-input-mb)."
        )
    return total


async def fetch_inputs(
    client: GridClient, inputs: list[InputFile], folder: Path, limits: InputLimits
) -> dict[str, Path]:
    """Download every input into `folder`; name -> path. InputsRefused when the lease's inputs
    are refused (the partial files are deleted); GridClientError when the grid cannot be
    reached."""
    declared = check_inputs(inputs, limits)
    room = free_disk_bytes(folder) - limits.min_free_disk_bytes
    if declared > room:
        raise InputsRefused(
            f"The job's inputs ({_mb(declared)}) would leave less than "
            f"{_mb(limits.min_free_disk_bytes)} free on this computer's disk; free some space "
            "to take such jobs."
        )
    budget = min(limits.max_input_bytes, room)
    paths: dict[str, Path] = {}
    used = 0
    try:
        for item in inputs:
            path = folder / item.name
            try:
                used += await client.download_data_to(
                    item.sha256, path, max_bytes=max(0, budget - used)
                )
            except ContentRefused as exc:
                why = exc.detail
                if room < limits.max_input_bytes and "larger than" in why:
                    why += (
                        f" This computer's disk keeps {_mb(limits.min_free_disk_bytes)} free; "
                        "free some space to take such jobs."
                    )
                raise InputsRefused(f"The job's input {item.name} was refused: {why}") from None
            paths[item.name] = path
    except BaseException:
        for path in paths.values():
            path.unlink(missing_ok=True)
        raise
    return paths

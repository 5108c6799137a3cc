"""The app SDK: what an app declares so that the grid, the worker, the oracle and the GUI can
serve it without knowing it.

An app has a name and version, a parameter schema (JSON Schema; used to validate requests and
to build the GUI form), resource needs, whether its results are verifiable (then one result
that passes `verify` suffices, no replication vote), and how it runs: a built-in app runs as a
Python entry point in a subprocess; a Docker app is an image reference plus a command.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deskgrid.errors import DeskGridError


class AppParamsError(DeskGridError):
    """Parameters an app refuses; the message says what to change."""


class AppRunError(DeskGridError):
    """A run that failed for a reason the app can state (shown to the requester)."""


@dataclass
class RunContext:
    """What a built-in app's run function gets besides its params.

    `workdir` is the job's private directory; `inputs` are the job's input files by name (in
    `workdir`; read them as files: an input may be larger than the job's memory); `cores` is
    how many cores the worker allots; `progress()` reports a fraction in [0, 1] (or None when
    unknown) and any extra figures (e.g. keys_tried, keys_per_second) to the worker.
    """

    workdir: Path
    cores: int = 1
    report: Callable[[dict[str, Any]], None] = field(default=lambda event: None)
    inputs: dict[str, Path] = field(default_factory=dict)

    def input(self, name: str) -> Path:
        """The path of the input file `name`; AppRunError when the job has no such input."""
        try:
            return self.inputs[name]
        except KeyError:
            raise AppRunError(f"The job has no input called {name!r}.") from None

    def progress(self, fraction: float | None = None, **figures: Any) -> None:
        event: dict[str, Any] = {"progress": fraction}
        event.update(figures)
        self.report(event)


RunFunction = Callable[[dict[str, Any], RunContext], bytes]


@dataclass(frozen=True)
class Resources:
    """What one run of the app needs from a worker."""

    cores: int = 1
    # the most memory a run may use (its processes together; a worker stops a run that uses
    # more); a multicore app given more cores than `cores` may use as much more per core
    memory_mb: int = 256
    max_seconds: int = 3600
    docker: bool = False
    multicore: bool = False  # the app can use more cores than `cores` when a worker allots them


@dataclass(frozen=True)
class AppSpec:
    """One app the grid can run.

    `run` is the module path of a built-in app's entry point (`module:function`) executed in a
    worker subprocess; `image`/`command` describe a Docker app instead.
    `validate` raises AppParamsError with a sentence when params are not acceptable and returns
    the normalised params. `verify(params, result)` returns True when a result is correct.
    `estimate(params)`, when present, returns figures for the GUI before a request (e.g. the
    difficulty of a vanity pattern and the expected time).
    `secret_result(params)`, when present, says why a result of these (validated) params
    would be a secret in clear (e.g. a whole private key): such a task is refused on chain,
    where every result is public, and the requester is refunded.
    """

    name: str
    version: str
    description: str
    params_schema: dict[str, Any]
    validate: Callable[[dict[str, Any]], dict[str, Any]]
    resources: Resources = field(default_factory=Resources)
    verify: Callable[[dict[str, Any], bytes], bool] | None = None
    run: str | None = None
    image: str | None = None
    command: tuple[str, ...] = ()
    # a published image's registry reference (`repo@sha256:…`) and the sha256 of its
    # `docker save` archive in a grid's data store: where a worker may fetch `image`
    image_reference: str | None = None
    image_archive: str | None = None
    estimate: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    secret_result: Callable[[dict[str, Any]], str | None] | None = None

    @property
    def verifiable(self) -> bool:
        return self.verify is not None

    @property
    def uri(self) -> str:
        """The on-chain URI: `builtin:<name>@<version>` or `docker:<image>`."""
        if self.image:
            return f"docker:{self.image}"
        return f"builtin:{self.name}@{self.version}"

    def describe(self) -> dict[str, Any]:
        """The catalog entry served by the grid and shown by the GUI."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "params_schema": self.params_schema,
            "verifiable": self.verifiable,
            "uri": self.uri,
            "resources": {
                "cores": self.resources.cores,
                "memory_mb": self.resources.memory_mb,
                "max_seconds": self.resources.max_seconds,
                "docker": self.resources.docker,
                "multicore": self.resources.multicore,
            },
        }

    def load_run_function(self) -> RunFunction:
        """The built-in entry point named by `run` (`package.module:function`)."""
        if not self.run:
            raise AppRunError(f"The app {self.name} has no built-in entry point.")
        import importlib

        module_name, _, func_name = self.run.partition(":")
        return getattr(importlib.import_module(module_name), func_name)


def params_json(params: dict[str, Any]) -> str:
    """The canonical JSON form of params (sorted keys), e.g. for files and digests."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))

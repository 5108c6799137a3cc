"""A published app as the grid, the oracle and the worker run it: its manifest (read from the
hub) made into an `AppSpec`, under a name of its own on every grid (`<name>.<app id>`, since
two developers may publish apps of the same name).

    spec = spec_from_manifest(app_id, manifest)   # spec.name == "wordfreq.3"

What a lease tells a worker of such an app is `deskgrid.grid.docker_apps`.
"""

from __future__ import annotations

from typing import Any

from deskgrid.apps.sdk import AppParamsError, AppSpec, Resources
from deskgrid.market.manifest import Manifest
from deskgrid.market.params_form import ParamsInvalid, build_form

MAX_NAME_PART = 40  # the manifest's name part of a grid app name (names are at most 64)


def published_app_name(app_id: int, manifest: Manifest) -> str:
    """The name a published app has on a grid and in leases: `<manifest name>.<app id>`."""
    return f"{manifest.name[:MAX_NAME_PART]}.{app_id}"


def spec_from_manifest(app_id: int, manifest: Manifest) -> AppSpec:
    """The `AppSpec` of the hub's app `app_id` published with `manifest`: a Docker app whose
    params are checked against the manifest's schema, without a verifier (its results are
    trusted through replication and stake)."""
    form = build_form(manifest.params_schema)

    def validate(params: dict[str, Any]) -> dict[str, Any]:
        try:
            return form.validate(params)
        except ParamsInvalid as exc:
            raise AppParamsError(str(exc)) from None

    resources = manifest.resources
    return AppSpec(
        name=published_app_name(app_id, manifest),
        version=manifest.version,
        description=manifest.description,
        params_schema=manifest.params_schema,
        validate=validate,
        resources=Resources(
            cores=resources.cores,
            memory_mb=resources.memory_mb,
            max_seconds=resources.max_seconds,
            docker=True,
        ),
        image=manifest.image.id,
        image_reference=manifest.image.reference,
        image_archive=manifest.image.archive_sha256,
    )

"""A published (Docker) app in a lease: what the grid tells a worker of the app (`DockerApp`:
its image by content id, where to fetch it, its resources), and the `AppSpec` the worker runs
the lease with.

    lease_app = docker_app(spec)                       # the grid, from its catalog
    spec = spec_from_lease(lease.app, lease.app_version, lease.docker)   # the worker
"""

from __future__ import annotations

from deskgrid.apps.sdk import AppSpec, Resources
from deskgrid.grid.models import DockerApp


def docker_app(spec: AppSpec) -> DockerApp:
    """What a lease of the Docker app `spec` tells its worker."""
    if not spec.image:
        raise ValueError(f"{spec.name} is not a Docker app")
    return DockerApp(
        image_id=spec.image,
        reference=spec.image_reference,
        archive_sha256=spec.image_archive,
        cores=spec.resources.cores,
        memory_mb=spec.resources.memory_mb,
        max_seconds=spec.resources.max_seconds,
    )


def spec_from_lease(name: str, version: str, app: DockerApp) -> AppSpec:
    """The `AppSpec` a worker runs a Docker lease with: the grid checked the params; the
    worker's sandbox, not the spec, is what keeps the app in its place."""
    return AppSpec(
        name=name,
        version=version,
        description=name,
        params_schema={"type": "object"},
        validate=dict,
        resources=Resources(
            cores=app.cores, memory_mb=app.memory_mb, max_seconds=app.max_seconds, docker=True
        ),
        image=app.image_id,
        image_reference=app.reference,
        image_archive=app.archive_sha256,
    )

"""The grid test apps plus `brief`, an app that declares a short maximum run time (2 s), for
the real server processes of the security tests (`--catalog tests.security.apps:catalog`)."""

from __future__ import annotations

from dataclasses import replace

from deskgrid.apps.sdk import AppSpec, Resources
from tests.grid_fixtures import ECHO
from tests.grid_fixtures import catalog as grid_catalog

BRIEF = replace(
    ECHO,
    name="brief",
    description="An echo that may run for 2 seconds at most.",
    resources=Resources(max_seconds=2),
)


def catalog() -> dict[str, AppSpec]:
    return {**grid_catalog(), BRIEF.name: BRIEF}

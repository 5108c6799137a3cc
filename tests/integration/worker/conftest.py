from __future__ import annotations

import sys
from pathlib import Path

import pytest

from deskgrid.apps.sdk import AppSpec, Resources
from deskgrid.worker.native_runner import NativeRunner

HELPER = Path(__file__).with_name("job_helper.py")


def helper_app(name: str, **resources: object) -> AppSpec:
    """An app whose 'run' is a behaviour of job_helper.py."""
    return AppSpec(
        name=name,
        version="0",
        description="test",
        params_schema={"type": "object"},
        validate=lambda p: p,
        resources=Resources(**resources),  # type: ignore[arg-type]
        run="job_helper:main",
    )


@pytest.fixture
def helper_runner() -> NativeRunner:
    return NativeRunner(command=[sys.executable, str(HELPER)])


from tests.live_grid import grid  # noqa: F401, E402 - a fixture

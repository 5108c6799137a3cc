"""Shared fixtures: an isolated data folder per test, and tool requirements.

A test that needs an absent tool is skipped with the reason; under CI (CI set) the same
absence is a failure, because CI installs every tool.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent

# The test apps (echo, sleep, fail, misbehave) are not part of the product: every process the
# tests start (grid servers, workers, app jobs) finds them through these two variables.
os.environ["DESKGRID_APP_MODULES"] = "tests.testapps"
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
)


def require(condition: bool, reason: str) -> None:
    """Skip (or, under CI, fail) when a tool the test needs is absent."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def find_tool(name: str) -> str | None:
    """A tool from PATH or from the contracts' npm packages."""
    local = REPO_ROOT / "contracts" / "node_modules" / ".bin" / name
    if local.exists():
        return str(local)
    return shutil.which(name)


@pytest.fixture(autouse=True)
def deskgrid_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own data folder; nothing touches the user's real one."""
    home = tmp_path_factory.mktemp("deskgrid-home")
    monkeypatch.setenv("DESKGRID_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def _logging_reset() -> Iterator[None]:
    """A test that runs an entry point in this process (`cli.main([...])`) sets up logging
    to its own data folder; the next test starts without it, and with no secrets known."""
    yield
    from deskgrid import logs

    logs.reset_logging()
    logs.forget_secrets()


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("DESKGRID_TEST_POSTGRES_URL")
    require(bool(url), "PostgreSQL: set DESKGRID_TEST_POSTGRES_URL (see .ci/start-postgres)")
    return url  # type: ignore[return-value]

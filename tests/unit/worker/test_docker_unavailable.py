"""Without a Docker daemon the runner says so in a sentence and offers no Docker apps."""

from __future__ import annotations

import pytest

from deskgrid.apps.sdk import AppSpec, Resources
from deskgrid.worker.docker_runner import NO_DAEMON, DockerRunner, docker_available
from deskgrid.worker.runner import Job, RunnerError

APP = AppSpec(
    name="render",
    version="1",
    description="a Docker app",
    params_schema={"type": "object"},
    validate=lambda p: p,
    resources=Resources(docker=True),
    image="example/render:1",
    command=("render",),
)


def no_daemon():
    raise ConnectionError("connection refused")


def test_docker_available_false_without_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    assert docker_available(no_daemon) is False
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert docker_available() is False


async def test_runner_reports_a_sentence() -> None:
    runner = DockerRunner(client_factory=no_daemon)
    assert not runner.available()
    assert not runner.can_run(APP)
    with pytest.raises(RunnerError) as info:
        await runner.start(Job("j", APP, {}))
    assert str(info.value) == NO_DAEMON
    assert "start Docker" in NO_DAEMON


def test_native_apps_are_not_docker_apps() -> None:
    from deskgrid.apps.registry import get_app

    assert not DockerRunner(client_factory=no_daemon).can_run(get_app("echo"))

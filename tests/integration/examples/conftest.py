"""The example apps of examples/apps, built once per session by their own build script."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from deskgrid.apps.sdk import AppSpec, Resources
from deskgrid.worker.docker_runner import docker_available
from tests.conftest import REPO_ROOT, require

EXAMPLES = REPO_ROOT / "examples" / "apps"
APPS = ("montecarlo", "wordfreq")


@dataclass(frozen=True)
class BuiltExamples:
    images: dict[str, str]  # app name -> image tag
    ids: dict[str, str]  # app name -> image id, as the build script printed it
    binaries: Path  # the static binaries, to run them without Docker

    def app(self, name: str) -> AppSpec:
        """The example as the worker sees a Docker app: its image, its schema."""
        schema = json.loads((EXAMPLES / name / "schema.json").read_text(encoding="utf-8"))
        return AppSpec(
            name=name,
            version="1",
            description=schema["description"],
            params_schema=schema,
            validate=lambda params: params,  # the app itself refuses bad params
            resources=Resources(docker=True, memory_mb=128, max_seconds=300),
            image=self.images[name],
        )

    def run_directly(
        self, name: str, job_dir: Path, params: str | None, inputs: tuple[str, ...] = ()
    ) -> subprocess.CompletedProcess[str]:
        """The example's binary run on this computer (no Docker) on a job folder, with
        `params` as the text of its params.json (None: the job folder has it already)."""
        if params is not None:
            (job_dir / "params.json").write_text(params, encoding="utf-8")
        env = {"DESKGRID_JOB_DIR": str(job_dir), "DESKGRID_INPUTS": json.dumps(list(inputs))}
        return subprocess.run(
            [str(self.binaries / name)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="session")
def examples(tmp_path_factory: pytest.TempPathFactory) -> BuiltExamples:
    require(docker_available(), "Docker: a running daemon (start it with .ci/start-docker)")
    require(
        shutil.which("gcc") is not None,
        "gcc and a static C library (Debian: gcc, libc6-dev) to build the example apps",
    )
    binaries = tmp_path_factory.mktemp("example-binaries")
    built = subprocess.run(
        ["bash", str(EXAMPLES / "build.sh"), "--bin-dir", str(binaries)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    images, ids = {}, {}
    for line in built.stdout.splitlines():
        tag, image_id = line.split()
        name = tag.removeprefix("deskgrid-example/").partition(":")[0]
        images[name], ids[name] = tag, image_id
    assert sorted(images) == sorted(APPS)
    return BuiltExamples(images, ids, binaries)

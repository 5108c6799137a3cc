"""Published-app images for tests: built locally FROM scratch with Debian's static busybox (no
registry), saved as a `docker save` archive, and removed from Docker again, so that only the
image cache brings them back. Each `marker` gives an image of its own id."""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from deskgrid.grid.models import DockerApp
from deskgrid.grid.server import GridServer
from deskgrid.grid.transport import file_sha256
from deskgrid.market.app_spec import spec_from_manifest
from deskgrid.worker.docker_runner import docker_available
from tests.conftest import require
from tests.published_apps import example_manifest

BUSYBOX = Path("/bin/busybox")


@dataclass(frozen=True)
class AppImage:
    image_id: str
    archive: Path
    sha256: str  # the archive's
    size: int  # the archive's, bytes

    def docker_app(self, **resources: int) -> DockerApp:
        return DockerApp(image_id=self.image_id, archive_sha256=self.sha256, **resources)


def serve_archive(server: GridServer, app_image: AppImage) -> None:
    """The grid serves a published app of `app_image`, so its workers may fetch its archive."""
    spec = spec_from_manifest(7, example_manifest("wordfreq", app_image.image_id, app_image.sha256))
    assert server.service is not None
    server.service.catalog.set_published({spec.name: spec})


def require_docker() -> None:
    require(docker_available(), "Docker: a running daemon (start it with .ci/start-docker)")
    require(BUSYBOX.exists(), "a static busybox at /bin/busybox (Debian's busybox-static)")


def build_app_image(folder: Path, script: str, marker: str, padding: int = 0) -> AppImage:
    """An image whose command is `sh -c script`, saved into `folder` and removed from Docker;
    `padding` bytes of random data make it bigger."""
    import os

    import docker

    require_docker()
    client = docker.from_env()
    context = folder / f"context-{marker}"
    context.mkdir(parents=True)
    shutil.copy(BUSYBOX, context / "busybox")
    (context / "marker").write_text(marker)
    (context / "padding").write_bytes(os.urandom(padding))
    (context / "Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY marker padding /\n"
        f'CMD ["/bin/busybox", "sh", "-c", {_json(script)}]\n'
    )
    tag = f"deskgrid-test-app:{marker}"
    image, _ = client.images.build(path=str(context), tag=tag, rm=True)
    archive = folder / f"{marker}.tar"
    with archive.open("wb") as out:
        for chunk in client.images.get(image.id).save(named=True):
            out.write(chunk)
    remove_image(image.id, tag)
    return AppImage(image.id, archive, file_sha256(archive), archive.stat().st_size)


def remove_image(image_id: str, *tags: str) -> None:
    import docker

    client = docker.from_env()
    for name in (*tags, image_id):
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(name, force=True)


def image_present(image_id: str) -> bool:
    import docker

    try:
        return docker.from_env().images.get(image_id).id == image_id
    except docker.errors.ImageNotFound:
        return False


def _json(text: str) -> str:
    import json

    return json.dumps(text)

"""The image cache against a real Docker daemon and a real grid's data store: an app's image
archive is fetched by sha256, checked, loaded untagged, reused, and evicted least recently used
first when over the cap (never an image in use, never one the cache did not bring)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskgrid.grid.models import DockerApp
from deskgrid.worker.image_cache import ImageCache, ImageRefused
from deskgrid.worker.runner import jobs_dir
from tests.integration.worker.app_images import (
    AppImage,
    build_app_image,
    image_present,
    remove_image,
    require_docker,
)
from tests.integration.worker.test_docker_runner import IMAGE, image  # noqa: F401

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


@pytest.fixture
def images(tmp_path: Path) -> Iterator[list[AppImage]]:
    """Two app images of their own ids (removed from Docker at the end)."""
    require_docker()
    run = uuid.uuid4().hex[:8]
    built = [build_app_image(tmp_path, "echo hi > /job/result", f"{run}-{n}") for n in "ab"]
    try:
        yield built
    finally:
        for app_image in built:
            remove_image(app_image.image_id)


async def stored(grid, *app_images: AppImage) -> None:
    _, submitter = grid
    for app_image in app_images:
        await submitter.upload_file(app_image.archive)


async def test_an_archive_is_fetched_checked_and_loaded_without_its_tag(
    grid, images, tmp_path: Path
) -> None:
    _, submitter = grid
    first = images[0]
    await stored(grid, first)
    clock = Clock()
    cache = ImageCache(tmp_path / "state", client_factory=_docker, clock=clock)
    assert await cache.ensure(first.docker_app(), submitter) == first.image_id
    assert image_present(first.image_id)
    assert _docker().images.get(first.image_id).tags == []  # the archive's tag was dropped
    loaded = cache.index.images[first.image_id]
    assert 0 < loaded.size and loaded.reference is None
    # present: only touched, and the index is kept for the next start
    await cache.ensure(first.docker_app(), submitter)
    again = ImageCache(tmp_path / "state", client_factory=_docker).index.images[first.image_id]
    assert again.last_used > loaded.last_used
    assert not list(jobs_dir().glob("image-*"))  # no temporary archive left


async def test_an_image_removed_behind_the_caches_back_is_fetched_again(
    grid, images, tmp_path: Path
) -> None:
    _, submitter = grid
    await stored(grid, images[0])
    cache = ImageCache(tmp_path / "state", client_factory=_docker)
    await cache.ensure(images[0].docker_app(), submitter)
    remove_image(images[0].image_id)
    await cache.ensure(images[0].docker_app(), submitter)
    assert image_present(images[0].image_id)


async def test_the_least_recently_used_image_is_evicted_never_one_in_use(
    grid, images, tmp_path: Path
) -> None:
    _, submitter = grid
    first, second = images
    await stored(grid, first, second)
    cap_mb = (first.size + second.size) // 2**20 // 2 + 1  # one fits, both do not
    cache = ImageCache(tmp_path / "state", cap_mb=cap_mb, client_factory=_docker, clock=Clock())
    await cache.ensure(first.docker_app(), submitter)
    await cache.ensure(second.docker_app(), submitter)
    assert not image_present(first.image_id) and image_present(second.image_id)
    assert list(cache.index.images) == [second.image_id]
    async with cache.using(second.docker_app(), submitter):
        await cache.ensure(first.docker_app(), submitter)  # the image just brought stays too
        assert image_present(first.image_id) and image_present(second.image_id)
        assert await cache.evict() == [first.image_id]  # the other one is in use
        await cache.ensure(first.docker_app(), submitter)
    assert await cache.evict() == [second.image_id]  # used least recently, no longer in use
    assert image_present(first.image_id) and not image_present(second.image_id)


async def test_images_the_cache_did_not_bring_are_never_touched(
    grid,
    image: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    _, submitter = grid
    theirs = _docker().images.get(IMAGE).id
    cache = ImageCache(tmp_path / "state", cap_mb=0, client_factory=_docker)
    app = DockerApp(image_id=theirs, archive_sha256="0" * 64)
    assert await cache.ensure(app, submitter) == theirs  # present: nothing fetched
    assert cache.index.images == {}
    assert await cache.evict() == []
    assert image_present(theirs) and IMAGE in _docker().images.get(theirs).tags


async def test_an_archive_of_another_image_is_refused_and_nothing_is_left(
    grid, images, tmp_path: Path
) -> None:
    _, submitter = grid
    first, second = images
    await stored(grid, first, second)
    cache = ImageCache(tmp_path / "state", client_factory=_docker)
    lying = DockerApp(image_id=first.image_id, archive_sha256=second.sha256)
    with pytest.raises(ImageRefused, match="not the image .* the app names; it was not loaded"):
        await cache.ensure(lying, submitter)
    assert not image_present(first.image_id) and not image_present(second.image_id)
    assert cache.index.images == {}


async def test_an_archive_whose_bytes_do_not_match_its_sha256_is_refused(
    grid, images, tmp_path: Path
) -> None:
    server, submitter = grid
    await stored(grid, images[0])
    stored_file = server.service.data.locate(images[0].sha256)
    assert isinstance(stored_file, Path)
    damaged = bytearray(stored_file.read_bytes())
    damaged[len(damaged) // 2] ^= 1
    stored_file.write_bytes(bytes(damaged))  # the grid now serves other bytes
    cache = ImageCache(tmp_path / "state", client_factory=_docker)
    with pytest.raises(ImageRefused, match="has another sha256"):
        await cache.ensure(images[0].docker_app(), submitter)
    assert not image_present(images[0].image_id)


async def test_an_archive_bigger_than_the_cache_is_refused_before_it_is_whole(
    grid, tmp_path: Path
) -> None:
    _, submitter = grid
    big = build_app_image(tmp_path, "true", uuid.uuid4().hex[:8], padding=3 * 2**20)
    try:
        await stored(grid, big)
        cache = ImageCache(tmp_path / "state", cap_mb=2, client_factory=_docker)
        with pytest.raises(ImageRefused, match="more than the 2097152 bytes.*--image-cache-mb"):
            await cache.ensure(big.docker_app(), submitter)
        assert not image_present(big.image_id)
    finally:
        remove_image(big.image_id)


async def test_a_registry_that_cannot_be_reached_is_a_sentence(grid, tmp_path: Path) -> None:
    require_docker()
    _, submitter = grid
    cache = ImageCache(tmp_path / "state", client_factory=_docker)
    app = DockerApp(image_id="sha256:" + "1" * 64, reference="127.0.0.1:9/deskgrid/none:1")
    with pytest.raises(ImageRefused, match="could not be pulled: .*reaches its registry"):
        await cache.ensure(app, submitter)


async def test_an_app_with_nowhere_to_get_its_image_is_a_sentence(grid, tmp_path: Path) -> None:
    require_docker()
    _, submitter = grid
    cache = ImageCache(tmp_path / "state", client_factory=_docker)
    with pytest.raises(ImageRefused, match="names neither an archive nor a registry"):
        await cache.ensure(DockerApp(image_id="sha256:" + "2" * 64), submitter)


def _docker():
    import docker

    return docker.from_env(timeout=60)


async def test_an_archive_that_would_take_the_disk_below_its_floor_is_refused(
    grid, images, tmp_path: Path
) -> None:
    _, submitter = grid
    await stored(grid, images[0])
    floor_mb = shutil.disk_usage(tmp_path).free // 2**20  # the disk is already at its floor
    cache = ImageCache(tmp_path / "state", min_free_disk_mb=floor_mb, client_factory=_docker)
    with pytest.raises(ImageRefused, match=f"keeps {floor_mb} MiB of the disk free"):
        await cache.ensure(images[0].docker_app(), submitter)
    assert not image_present(images[0].image_id)

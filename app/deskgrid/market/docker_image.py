"""The content id of an image in the local Docker daemon (what `docker inspect --format
{{.Id}}` prints), to fill in a manifest's `image.id`; the daemon's tagged images, to choose
one from; an image saved as an archive (`docker save`) for a grid's data store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deskgrid.errors import DeskGridError
from deskgrid.market.manifest import IMAGE_ID


def local_image_id(image: str, client: Any = None) -> str:
    """`sha256:<64 hex>` of `image` (a tag or an id) in the local daemon; a sentence when there
    is no daemon or no such image."""
    import docker
    import docker.errors

    try:
        client = client or docker.from_env()
        found = client.images.get(image)
    except docker.errors.ImageNotFound:
        raise DeskGridError(
            f"Docker has no image '{image}' on this computer: build it first (docker build -t "
            f"{image} .), or give its id in the manifest and leave out --image."
        ) from None
    except docker.errors.DockerException as exc:
        raise DeskGridError(
            f"Cannot ask Docker for image '{image}' ({exc}): start Docker, or give the image "
            "id in the manifest and leave out --image."
        ) from None
    image_id = str(found.id)
    if not IMAGE_ID.match(image_id):
        raise DeskGridError(f"Docker gave image '{image}' the unexpected id '{image_id}'.")
    return image_id


@dataclass(frozen=True)
class LocalImage:
    """A tagged image of the local daemon: its tag (`repo:tag`) and content id."""

    tag: str
    image_id: str


def local_images(client: Any = None) -> list[LocalImage]:
    """The local daemon's tagged images, one per tag, by tag; a sentence when there is no
    daemon to ask."""
    import docker
    import docker.errors

    try:
        client = client or docker.from_env()
        images = client.images.list()
    except docker.errors.DockerException:
        raise DeskGridError(
            "Docker does not answer on this computer: start Docker to choose one of its "
            "images, or type the image id (sha256:…)."
        ) from None
    found = [
        LocalImage(str(tag), str(image.id))
        for image in images
        if IMAGE_ID.match(str(image.id))
        for tag in image.tags
    ]
    return sorted(found, key=lambda item: item.tag)


@dataclass(frozen=True)
class SavedImage:
    """A `docker save` archive of one image: where it is, its sha256 and size."""

    path: Path
    sha256: str
    size: int


def save_image(image_id: str, dest: Path, client: Any = None) -> SavedImage:
    """`docker save` of the image `image_id` into the file `dest`, streamed and hashed (an
    image may be larger than memory); what volunteers who cannot reach a registry load."""
    import docker
    import docker.errors

    digest = hashlib.sha256()
    size = 0
    try:
        client = client or docker.from_env()
        chunks = client.images.get(image_id).save(named=False)
        with dest.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    except docker.errors.DockerException as exc:
        raise DeskGridError(
            f"Cannot save the image {image_id} from Docker ({exc}): start Docker and check "
            "that the image is there (docker image ls)."
        ) from None
    except OSError as exc:
        raise DeskGridError(f"Cannot write the image archive {dest} ({exc.strerror}).") from None
    return SavedImage(dest, digest.hexdigest(), size)

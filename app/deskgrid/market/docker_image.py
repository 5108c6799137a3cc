"""The content id of an image in the local Docker daemon (what `docker inspect --format
{{.Id}}` prints), to fill in a manifest's `image.id`."""

from __future__ import annotations

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

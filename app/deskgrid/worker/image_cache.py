"""The images of published apps on this computer: fetched by content, checked, size-capped.

A published app names its image by content id (`sha256:…`, the digest of the image's config)
and where to get it: a `docker save` archive in the grid's data store (by sha256), or a
registry reference. `ImageCache.ensure(app, client)` makes that image present in the local
Docker daemon and returns its id:

- already there (looked up by id): it is only marked as used now;
- else, with an archive: it is streamed from the grid into a private temporary folder, its
  sha256 checked while it arrives and its size capped by the cache's size and the disk's room
  above the worker's free-space floor (bigger is refused before it is whole). It must be a
  plain tar of uncompressed members (`image_archive`: the image then takes about the archive's
  size) describing exactly one image, whose config hashes to the lease's image id; its tags
  are removed (an archive cannot retag the volunteer's images), and only then is it loaded
  (`docker load`). An image that still does not turn up under its id is removed and refused;
- else, with a reference: `docker pull`, then the same check of the id.

Every refusal is a `RunnerError` with a sentence (the worker reports it to the grid).

The cache tracks only the images it brought (a small JSON index in the worker's folder: id,
size, last use, the reference it pulled) and never touches others. When their total size is
over the cap (`--image-cache-mb`, default 2048), the least recently used are removed, never one
in use by a job. Sizes are Docker's image sizes: layers shared between images count once per
image, so the cap is conservative. One fetch per image at a time; Docker calls run in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import shutil
import tarfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from deskgrid.atomicfile import write_atomic
from deskgrid.grid.client import ContentRefused, GridClient
from deskgrid.grid.models import DockerApp
from deskgrid.worker.docker_runner import NO_DAEMON, _default_client, connect_docker
from deskgrid.worker.image_archive import ArchiveRefused as ImageRefused  # its sentences
from deskgrid.worker.image_archive import check_image_archive
from deskgrid.worker.inputs import DEFAULT_MIN_FREE_DISK_MB, free_disk_bytes
from deskgrid.worker.runner import RunnerError, owned_dir

log = logging.getLogger(__name__)

MIB = 2**20
DEFAULT_IMAGE_CACHE_MB = 2048
INDEX_FILE = "image-cache.json"
MAX_METADATA_BYTES = 16 * MIB  # manifest.json, index.json and an image config in an archive
# Annotations of an OCI index that name (tag) an image when it is loaded.
NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


@dataclass(frozen=True)
class CachedImage:
    image_id: str
    size: int  # bytes, as Docker counts the image
    last_used: float  # time.time()
    reference: str | None = None  # the tag a pull left, removed with the image


class ImageIndex:
    """The cache's bookkeeping: which images it brought, their sizes and last use (a JSON file
    written atomically; an unreadable one is started afresh, forgetting nothing but
    bookkeeping: the images stay in Docker)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.images: dict[str, CachedImage] = self._read()

    def _read(self) -> dict[str, CachedImage]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            entries = [CachedImage(**item) for item in raw["images"]]
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning(
                "The image cache's index %s is unreadable (%s); starting afresh.", self.path, exc
            )
            return {}
        return {entry.image_id: entry for entry in entries}

    def save(self) -> None:
        entries = sorted(self.images.values(), key=lambda e: e.image_id)
        text = json.dumps({"images": [asdict(e) for e in entries]}, indent=1, sort_keys=True)
        write_atomic(self.path, text)

    def add(self, entry: CachedImage) -> None:
        self.images[entry.image_id] = entry
        self.save()

    def touch(self, image_id: str, now: float) -> None:
        entry = self.images.get(image_id)
        if entry is not None:
            self.images[image_id] = CachedImage(entry.image_id, entry.size, now, entry.reference)
            self.save()

    def forget(self, image_id: str) -> None:
        if self.images.pop(image_id, None) is not None:
            self.save()

    def total(self) -> int:
        return sum(entry.size for entry in self.images.values())

    def victims(self, cap_bytes: int, keep: set[str]) -> list[CachedImage]:
        """The least recently used images to remove so that the rest fit in `cap_bytes`,
        never one of `keep` (in use): fewer when those alone are over the cap."""
        total = self.total()
        chosen: list[CachedImage] = []
        for entry in sorted(self.images.values(), key=lambda e: (e.last_used, e.image_id)):
            if total <= cap_bytes:
                break
            if entry.image_id in keep:
                continue
            chosen.append(entry)
            total -= entry.size
        return chosen


class ImageCache:
    """Published apps' images in the local Docker daemon (see the module)."""

    def __init__(
        self,
        folder: Path,
        cap_mb: int = DEFAULT_IMAGE_CACHE_MB,
        min_free_disk_mb: int = DEFAULT_MIN_FREE_DISK_MB,
        client_factory: Callable[[], Any] = _default_client,
        clock: Callable[[], float] = time.time,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.index = ImageIndex(folder / INDEX_FILE)
        self.cap_bytes = cap_mb * MIB
        self.min_free_disk_bytes = min_free_disk_mb * MIB  # an archive never takes the disk below
        self._client_factory = client_factory
        self._client: Any = None
        self._clock = clock
        self._fetching: dict[str, asyncio.Lock] = {}
        self._in_use: dict[str, int] = {}

    # -- the public face ----------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def using(self, app: DockerApp, client: GridClient) -> AsyncIterator[str]:
        """The image of `app`, present (`ensure`) and kept from eviction while in the block."""
        self._in_use[app.image_id] = self._in_use.get(app.image_id, 0) + 1
        try:
            yield await self.ensure(app, client)
        finally:
            left = self._in_use[app.image_id] - 1
            if left:
                self._in_use[app.image_id] = left
            else:
                del self._in_use[app.image_id]

    async def ensure(self, app: DockerApp, client: GridClient) -> str:
        """Make the image of `app` present in Docker and return its id; ImageRefused (with a
        sentence) when it cannot be fetched or is not the image the app names; GridClientError
        when the grid cannot be reached."""
        image_id = app.image_id
        lock = self._fetching.setdefault(image_id, asyncio.Lock())
        async with lock:
            daemon = await asyncio.to_thread(self._docker)
            if await asyncio.to_thread(_present, daemon, image_id):
                self.index.touch(image_id, self._clock())
                return image_id
            self.index.forget(image_id)  # removed behind our back: fetched again
            if app.archive_sha256:
                await self._load_archive(daemon, app, client)
            elif app.reference:
                await asyncio.to_thread(self._pull, daemon, app)
            else:
                raise ImageRefused(
                    f"The app's image {_short(image_id)} is not on this computer and the app "
                    "names neither an archive nor a registry reference to get it from."
                )
        await self.evict(keep=image_id)
        return image_id

    async def evict(self, keep: str | None = None) -> list[str]:
        """Remove the least recently used images over the cap, never one in use nor `keep`
        (the image just ensured); returns the ids removed."""
        kept = set(self._in_use) | ({keep} if keep else set())
        victims = self.index.victims(self.cap_bytes, keep=kept)
        if not victims:
            return []
        daemon = await asyncio.to_thread(self._docker)
        removed = []
        for entry in victims:
            if await asyncio.to_thread(_remove, daemon, entry.image_id, entry.reference):
                self.index.forget(entry.image_id)
                removed.append(entry.image_id)
        return removed

    # -- fetching -----------------------------------------------------------------------

    async def _load_archive(self, daemon: Any, app: DockerApp, client: GridClient) -> None:
        sha256 = app.archive_sha256 or ""
        folder = await asyncio.to_thread(owned_dir, "image-")
        try:
            archive = folder / "image.tar"
            # the archive, its untagged copy and the loaded image: three times its size
            room = (free_disk_bytes(folder) - self.min_free_disk_bytes) // 3
            try:
                await client.download_data_to(
                    sha256, archive, max_bytes=max(0, min(self.cap_bytes, room))
                )
            except ContentRefused as exc:
                raise ImageRefused(
                    f"The app's image archive was refused: {exc.detail} (This worker's image "
                    f"cache holds {self.cap_bytes // MIB} MiB, --image-cache-mb, and keeps "
                    f"{self.min_free_disk_bytes // MIB} MiB of the disk free.)"
                ) from None
            await asyncio.to_thread(check_image_archive, archive)  # nothing that expands
            untagged = folder / "untagged.tar"
            await asyncio.to_thread(untag_archive, archive, untagged, app.image_id)
            archive.unlink()
            size = await asyncio.to_thread(self._load, daemon, untagged, app.image_id)
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)
        self.index.add(CachedImage(app.image_id, size, self._clock()))

    def _load(self, daemon: Any, archive: Path, image_id: str) -> int:
        """`docker load` the archive; the size of the image `image_id` it brought, or
        ImageRefused (and whatever it loaded removed)."""
        import docker.errors

        try:
            with archive.open("rb") as data:
                loaded = daemon.images.load(data)
        except docker.errors.ImageLoadError as exc:
            raise ImageRefused(f"Docker could not load the app's image archive: {exc}") from None
        except docker.errors.APIError as exc:
            raise ImageRefused(
                f"Docker could not load the app's image archive: {exc.explanation or exc}."
            ) from None
        except docker.errors.DockerException:
            raise RunnerError(NO_DAEMON) from None
        ids = {image.id for image in loaded}
        if ids != {image_id} or not _present(daemon, image_id):
            for other in ids:
                _remove(daemon, other, None)
            raise ImageRefused(
                f"The app's image archive loaded {', '.join(map(_short, sorted(ids))) or 'nothing'}"
                f", not the image {_short(image_id)} the app names; it was removed."
            )
        return _size(daemon, image_id)

    def _pull(self, daemon: Any, app: DockerApp) -> None:
        import docker.errors

        reference = app.reference or ""
        try:
            before = {image.id for image in daemon.images.list(all=True)}
            pulled = daemon.images.pull(reference)
        except docker.errors.APIError as exc:
            raise ImageRefused(
                f"The app's image {reference} could not be pulled: "
                f"{exc.explanation or exc}. Check that this computer reaches its registry."
            ) from None
        except docker.errors.DockerException:
            raise RunnerError(NO_DAEMON) from None
        if pulled.id != app.image_id:
            if pulled.id not in before:
                _remove(daemon, pulled.id, reference)
            raise ImageRefused(
                f"The image pulled as {reference} is {_short(pulled.id)}, not the image "
                f"{_short(app.image_id)} the app names; it was not kept."
            )
        size = _size(daemon, app.image_id)
        if size > self.cap_bytes:
            _remove(daemon, app.image_id, reference)
            raise ImageRefused(
                f"The app's image is {size // MIB} MiB, more than this worker's image cache "
                f"({self.cap_bytes // MIB} MiB, --image-cache-mb); it was not kept."
            )
        self.index.add(CachedImage(app.image_id, size, self._clock(), reference))

    def _docker(self) -> Any:
        if self._client is None:
            self._client = connect_docker(self._client_factory)
        return self._client


# -- the archive ------------------------------------------------------------------------


def untag_archive(src: Path, dst: Path, image_id: str) -> None:
    """Copy the `docker save` archive `src` into `dst` without the names it would tag images
    with, after checking that it describes exactly one image whose config hashes to
    `image_id`; ImageRefused otherwise. Nothing is extracted to disk."""
    try:
        with tarfile.open(src, "r:") as archive, tarfile.open(dst, "w:") as out:
            manifest = _json_member(archive, "manifest.json")
            if not isinstance(manifest, list) or len(manifest) != 1:
                count = len(manifest) if isinstance(manifest, list) else 0
                raise ImageRefused(
                    f"The app's image archive describes {count} images; it must hold exactly "
                    "one (docker save of the app's image alone)."
                )
            entry = manifest[0]
            config = entry.get("Config") if isinstance(entry, dict) else None
            digest = _member_sha256(archive, config) if isinstance(config, str) else None
            if digest != image_id:
                raise ImageRefused(
                    f"The app's image archive holds the image {_short(digest or 'unknown')}, "
                    f"not the image {_short(image_id)} the app names; it was not loaded."
                )
            for member in archive:
                if member.name == "repositories":
                    continue
                if member.name == "manifest.json":
                    _add_json(out, member, [{**entry, "RepoTags": None}])
                elif member.name == "index.json":
                    _add_json(out, member, _without_names(_json_member(archive, "index.json")))
                elif member.isfile():
                    out.addfile(member, archive.extractfile(member))
                else:
                    out.addfile(member)
    except tarfile.TarError as exc:
        raise ImageRefused(f"The app's image archive is not a readable tar file ({exc}).") from None


def _json_member(archive: tarfile.TarFile, name: str) -> Any:
    try:
        member = archive.getmember(name)
    except KeyError:
        raise ImageRefused(
            f"The app's image archive has no {name}: it is not a `docker save` archive."
        ) from None
    if not member.isfile() or member.size > MAX_METADATA_BYTES:
        raise ImageRefused(f"The app's image archive's {name} is not a small plain file.")
    handle = archive.extractfile(member)
    try:
        return json.loads(handle.read() if handle is not None else b"")
    except ValueError:
        raise ImageRefused(f"The app's image archive's {name} is not JSON.") from None


def _member_sha256(archive: tarfile.TarFile, name: str) -> str | None:
    try:
        member = archive.getmember(name)
    except KeyError:
        return None
    if not member.isfile() or member.size > MAX_METADATA_BYTES:
        return None
    handle = archive.extractfile(member)
    return "sha256:" + hashlib.sha256(handle.read() if handle is not None else b"").hexdigest()


def _add_json(out: tarfile.TarFile, member: tarfile.TarInfo, value: Any) -> None:
    import io

    data = json.dumps(value).encode()
    info = tarfile.TarInfo(member.name)
    info.size, info.mode, info.mtime = len(data), member.mode, member.mtime
    out.addfile(info, io.BytesIO(data))


def _without_names(index: Any) -> Any:
    """An OCI index without the annotations that would tag its images."""
    if isinstance(index, dict):
        for manifest in index.get("manifests") or []:
            notes = manifest.get("annotations") if isinstance(manifest, dict) else None
            if isinstance(notes, dict):
                for name in NAME_ANNOTATIONS:
                    notes.pop(name, None)
    return index


# -- Docker calls (in threads) ------------------------------------------------------------


def _present(daemon: Any, image_id: str) -> bool:
    import docker.errors

    try:
        return daemon.images.get(image_id).id == image_id
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.DockerException:
        raise RunnerError(NO_DAEMON) from None


def _size(daemon: Any, image_id: str) -> int:
    return int(daemon.images.get(image_id).attrs.get("Size") or 0)


def _remove(daemon: Any, image_id: str, reference: str | None) -> bool:
    """Remove an image the cache brought (and the tag a pull left); False when Docker keeps
    it (e.g. a container still uses it: it is tried again at the next eviction)."""
    import docker.errors

    if reference:
        with contextlib.suppress(docker.errors.DockerException):
            if daemon.images.get(reference).id == image_id:
                daemon.images.remove(reference, noprune=True)
    try:
        daemon.images.remove(image_id)
    except docker.errors.ImageNotFound:
        return True
    except docker.errors.DockerException as exc:
        log.info("The image %s was not removed (%s); trying again later.", image_id, exc)
        return False
    return True


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


_SHARED: dict[Path, ImageCache] = {}


def shared_image_cache(
    folder: Path,
    cap_mb: int = DEFAULT_IMAGE_CACHE_MB,
    min_free_disk_mb: int = DEFAULT_MIN_FREE_DISK_MB,
) -> ImageCache:
    """The image cache of a worker folder, one per folder in a process (the workers of a node
    share theirs: one index, one fetch per image); the last limits asked for apply."""
    key = folder.resolve()
    cache = _SHARED.get(key)
    if cache is None:
        cache = _SHARED[key] = ImageCache(folder, cap_mb, min_free_disk_mb)
    cache.cap_bytes = cap_mb * MIB
    cache.min_free_disk_bytes = min_free_disk_mb * MIB
    return cache

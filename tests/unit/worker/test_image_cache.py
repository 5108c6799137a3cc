"""The image cache's bookkeeping (which images it brought, least recently used first, never one
in use) and its check of an archive before Docker sees it (one image, the named one, untagged)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from deskgrid.worker.image_cache import CachedImage, ImageIndex, ImageRefused, untag_archive

MIB = 2**20


def entry(name: str, size_mb: int, last_used: float) -> CachedImage:
    return CachedImage(f"sha256:{name * 64}"[:71], size_mb * MIB, last_used)


def test_the_index_survives_a_restart_and_forgets_what_it_is_told(tmp_path: Path) -> None:
    index = ImageIndex(tmp_path / "image-cache.json")
    index.add(entry("a", 10, 1.0))
    index.add(CachedImage("sha256:" + "b" * 64, 5, 2.0, "example/app:1"))
    index.touch("sha256:" + "a" * 64, 9.0)
    index.touch("sha256:" + "c" * 64, 9.0)  # not ours: nothing to touch
    again = ImageIndex(tmp_path / "image-cache.json")
    assert again.images == index.images
    assert again.images["sha256:" + "a" * 64].last_used == 9.0
    assert again.images["sha256:" + "b" * 64].reference == "example/app:1"
    again.forget("sha256:" + "a" * 64)
    assert list(ImageIndex(tmp_path / "image-cache.json").images) == ["sha256:" + "b" * 64]


def test_an_unreadable_index_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "image-cache.json"
    path.write_text("{not json")
    assert ImageIndex(path).images == {}
    path.write_text(json.dumps({"images": [{"image_id": "x"}]}))
    assert ImageIndex(path).images == {}


def test_victims_are_the_least_recently_used_until_the_rest_fit(tmp_path: Path) -> None:
    index = ImageIndex(tmp_path / "i.json")
    for name, size, used in [("a", 100, 3.0), ("b", 100, 1.0), ("c", 100, 2.0), ("d", 50, 4.0)]:
        index.add(entry(name, size, used))
    assert index.total() == 350 * MIB
    assert index.victims(400 * MIB, keep=set()) == []
    assert [v.image_id[7] for v in index.victims(300 * MIB, keep=set())] == ["b"]
    assert [v.image_id[7] for v in index.victims(150 * MIB, keep=set())] == ["b", "c"]
    assert [v.image_id[7] for v in index.victims(0, keep=set())] == ["b", "c", "a", "d"]


def test_an_image_in_use_is_never_a_victim(tmp_path: Path) -> None:
    index = ImageIndex(tmp_path / "i.json")
    index.add(entry("a", 100, 1.0))
    index.add(entry("b", 100, 2.0))
    in_use = {"sha256:" + "a" * 64}
    assert [v.image_id[7] for v in index.victims(100 * MIB, keep=in_use)] == ["b"]
    assert [v.image_id[7] for v in index.victims(0, keep=in_use)] == ["b"]  # a stays, over cap
    assert index.victims(0, keep=set(index.images)) == []


# -- the archive ---------------------------------------------------------------------------

CONFIG = json.dumps({"architecture": "amd64", "rootfs": {"diff_ids": []}}).encode()
CONFIG_ID = "sha256:" + hashlib.sha256(CONFIG).hexdigest()


def archive(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:") as out:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return path


def saved(path: Path, manifest: object, **extra: bytes) -> Path:
    files = {f"{CONFIG_ID[7:]}.json": CONFIG, "manifest.json": json.dumps(manifest).encode()}
    return archive(path, {**files, **extra})


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def one_image(**fields: object) -> list[dict[str, object]]:
    return [
        {"Config": f"{CONFIG_ID[7:]}.json", "RepoTags": ["ubuntu:latest"], "Layers": [], **fields}
    ]


def test_an_archive_of_the_named_image_is_copied_without_its_tags(tmp_path: Path) -> None:
    index = {
        "manifests": [{"annotations": {"io.containerd.image.name": "ubuntu:latest", "x": "y"}}]
    }
    src = saved(
        tmp_path / "in.tar",
        one_image(),
        repositories=b'{"ubuntu": {"latest": "abc"}}',
        **{"index.json": json.dumps(index).encode()},
    )
    untag_archive(src, tmp_path / "out.tar", CONFIG_ID)
    out = members(tmp_path / "out.tar")
    assert "repositories" not in out
    assert json.loads(out["manifest.json"])[0]["RepoTags"] is None
    assert json.loads(out["index.json"])["manifests"][0]["annotations"] == {"x": "y"}
    assert out[f"{CONFIG_ID[7:]}.json"] == CONFIG


def test_an_archive_of_another_image_is_refused(tmp_path: Path) -> None:
    src = saved(tmp_path / "in.tar", one_image())
    with pytest.raises(ImageRefused, match="not the image 000000000000 the app names"):
        untag_archive(src, tmp_path / "out.tar", "sha256:" + "0" * 64)


@pytest.mark.parametrize("manifest", [[], one_image() * 2, {"Config": "x"}])
def test_an_archive_of_no_image_or_of_several_is_refused(tmp_path: Path, manifest) -> None:
    src = saved(tmp_path / "in.tar", manifest)
    with pytest.raises(ImageRefused, match="it must hold exactly one"):
        untag_archive(src, tmp_path / "out.tar", CONFIG_ID)


def test_what_is_not_a_docker_save_archive_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageRefused, match="no manifest.json"):
        untag_archive(archive(tmp_path / "a.tar", {"x": b"y"}), tmp_path / "o.tar", CONFIG_ID)
    (tmp_path / "b.tar").write_bytes(b"not a tar file at all" * 100)
    with pytest.raises(ImageRefused, match="not a readable tar file"):
        untag_archive(tmp_path / "b.tar", tmp_path / "o.tar", CONFIG_ID)
    bad = archive(tmp_path / "c.tar", {"manifest.json": b"{oops"})
    with pytest.raises(ImageRefused, match="is not JSON"):
        untag_archive(bad, tmp_path / "o.tar", CONFIG_ID)

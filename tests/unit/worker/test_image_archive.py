"""An image archive is loaded only when it is a plain tar of uncompressed members."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
from pathlib import Path

import pytest

from deskgrid.worker.image_archive import MAX_MEMBERS, ArchiveRefused, check_image_archive


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _layer() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as layer:
        info = tarfile.TarInfo("app")
        info.size = 4
        layer.addfile(info, io.BytesIO(b"\x7fELF"))
    return out.getvalue()


def test_a_plain_archive_of_uncompressed_layers_is_accepted(tmp_path: Path) -> None:
    path = _tar(
        tmp_path / "image.tar",
        {
            "index.json": b'{"schemaVersion": 2}',
            "blobs/sha256/" + "a" * 64: _layer(),
            "empty": b"",
        },
    )
    check_image_archive(path)


@pytest.mark.parametrize(
    ("compress", "kind"),
    [(gzip.compress, "gzip"), (bz2.compress, "bzip2"), (lzma.compress, "xz")],
)
def test_a_compressed_archive_is_refused(tmp_path: Path, compress, kind: str) -> None:
    plain = _tar(tmp_path / "image.tar", {"index.json": b"{}"}).read_bytes()
    path = tmp_path / "image.tar.x"
    path.write_bytes(compress(plain))
    with pytest.raises(ArchiveRefused, match=f"is {kind}-compressed"):
        check_image_archive(path)


def test_a_compressed_layer_inside_is_refused(tmp_path: Path) -> None:
    bomb = gzip.compress(b"\0" * 1_000_000)  # a kilobyte that docker load would make a megabyte
    path = _tar(tmp_path / "image.tar", {"blobs/sha256/" + "b" * 64: bomb})
    with pytest.raises(ArchiveRefused, match="holds a gzip-compressed file"):
        check_image_archive(path)


def test_a_zstd_layer_inside_is_refused(tmp_path: Path) -> None:
    path = _tar(tmp_path / "image.tar", {"layer": b"\x28\xb5\x2f\xfd" + b"\0" * 20})
    with pytest.raises(ArchiveRefused, match="zstd-compressed"):
        check_image_archive(path)


def test_not_a_tar_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.tar"
    path.write_bytes(b"this is not an archive at all" * 40)
    with pytest.raises(ArchiveRefused, match="not a tar file"):
        check_image_archive(path)


def test_an_archive_of_too_many_files_is_refused(tmp_path: Path) -> None:
    path = _tar(tmp_path / "image.tar", {f"f{i}": b"" for i in range(MAX_MEMBERS + 1)})
    with pytest.raises(ArchiveRefused, match="more than 10,000 files"):
        check_image_archive(path)

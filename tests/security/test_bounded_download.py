"""The client's data download against a hostile grid: a real grid server behind a proxy on
loopback that answers `GET /data/<sha>` as the test scripts it."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskgrid.grid import content
from deskgrid.grid.client import ContentRefused, GridClient
from tests.security.hostile import (
    MIB,
    compressed,
    dribble,
    endless,
    huge,
    other_bytes,
    redirect,
)

pytestmark = pytest.mark.integration

CAP = 8 * MIB
# What may cross loopback after the cap before the client hangs up: socket buffers, one chunk.
SLACK = 32 * MIB


async def stored(submitter: GridClient, content: bytes) -> str:
    return (await submitter.upload_data(content)).sha256


def left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_an_honest_answer_is_kept(hostile, tmp_path: Path) -> None:
    server, submitter, proxy = hostile
    sha = await stored(submitter, b"input bytes")
    async with GridClient(proxy.url, token=server.submitter_token) as client:
        size = await client.download_data_to(sha, tmp_path / "in" / "a", max_bytes=CAP)
    assert size == 11 and (tmp_path / "in" / "a").read_bytes() == b"input bytes"
    assert left_in(tmp_path / "in") == ["a"]


async def test_an_endless_body_is_cut_at_the_cap(hostile, tmp_path: Path) -> None:
    server, submitter, proxy = hostile
    sha = await stored(submitter, b"small")
    proxy.data = endless(256 * MIB)
    async with GridClient(proxy.url, token=server.submitter_token) as client:
        with pytest.raises(ContentRefused, match="larger than"):
            await client.download_data_to(sha, tmp_path / "in" / "a", max_bytes=CAP)
    assert left_in(tmp_path / "in") == []  # no partial file, no temporary file
    assert proxy.sent < CAP + SLACK


async def test_a_declared_size_above_the_cap_is_refused_before_the_body(
    hostile, tmp_path: Path
) -> None:
    server, submitter, proxy = hostile
    sha = await stored(submitter, b"small")
    proxy.data = huge(256 * MIB)
    async with GridClient(proxy.url, token=server.submitter_token) as client:
        with pytest.raises(ContentRefused, match=f"more than the {CAP} bytes"):
            await client.download_data_to(sha, tmp_path / "in" / "a", max_bytes=CAP)
    assert left_in(tmp_path / "in") == []
    assert proxy.sent < SLACK


async def test_other_content_is_deleted(hostile, tmp_path: Path) -> None:
    server, submitter, proxy = hostile
    sha = await stored(submitter, b"the real input")
    proxy.data = other_bytes(b"a forged input")
    async with GridClient(proxy.url, token=server.submitter_token) as client:
        with pytest.raises(ContentRefused, match="another sha256"):
            await client.download_data_to(sha, tmp_path / "in" / "a", max_bytes=CAP)
    assert left_in(tmp_path / "in") == []


async def test_a_redirect_is_not_followed(hostile, tmp_path: Path) -> None:
    server, submitter, proxy = hostile
    sha = await stored(submitter, b"the real input")
    # the redirect leads to the right bytes elsewhere: following it would succeed
    proxy.data = redirect(lambda digest: f"{server.url}/api/v1/data/{digest}")
    async with GridClient(proxy.url, token=server.submitter_token) as client:
        with pytest.raises(ContentRefused, match="does not follow redirects"):
            await client.download_data_to(sha, tmp_path / "in" / "a", max_bytes=CAP)
    assert left_in(tmp_path / "in") == []


async def test_a_compressed_body_is_not_unpacked(hostile, tmp_path: Path) -> None:
    server, submitter, proxy = hostile
    content = b"the real input" * 1000
    sha = await stored(submitter, content)
    proxy.data = compressed(content)  # unpacked, it would even match
    async with GridClient(proxy.url, token=server.submitter_token) as client:
        with pytest.raises(ContentRefused, match="compressed"):
            await client.download_data_to(sha, tmp_path / "in" / "a", max_bytes=CAP)
    assert left_in(tmp_path / "in") == []


@pytest.mark.parametrize(
    "bad", ["../../../etc/passwd", "A" * 64, "0" * 63, "0" * 64 + "/../x", "%2e%2e%2f" + "0" * 55]
)
async def test_a_data_id_that_is_not_a_sha256_never_reaches_a_url(
    hostile, tmp_path: Path, bad: str
) -> None:
    server, _submitter, proxy = hostile
    async with GridClient(proxy.url, token=server.submitter_token) as client:
        with pytest.raises(ContentRefused, match="not a sha256"):
            await client.download_data_to(bad, tmp_path / "in" / "a", max_bytes=CAP)
        with pytest.raises(ContentRefused, match="not a sha256"):
            await client.download_data(bad)
    assert proxy.data_requests == 0


async def test_a_download_that_dribbles_is_stopped_at_its_deadline(
    hostile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, submitter, proxy = hostile
    sha = await stored(submitter, b"small")
    # each byte comes before the read timeout, but the whole never would: 60 bytes, 1/s
    monkeypatch.setattr(content, "BASE_SECONDS", 1.0)
    proxy.data = dribble(60, 1.0)
    async with GridClient(proxy.url, token=server.submitter_token, timeout=5) as client:
        with pytest.raises(ContentRefused, match="did not arrive within"):
            await client.download_data_to(sha, tmp_path / "in" / "a", max_bytes=64)
    assert left_in(tmp_path / "in") == []
    assert proxy.sent < 10

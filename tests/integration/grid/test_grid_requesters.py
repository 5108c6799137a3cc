"""Requesters on a real `deskgrid grid serve` process: a wallet signs in, stores its input files
and fetches data back; its token opens nothing else, a worker's token stores nothing, and the
per-wallet quota and the grid's hourly cap refuse with sentences."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from eth_account import Account

from deskgrid.grid.client import GridClient, NotAuthorized
from deskgrid.grid.config import GridConfig
from deskgrid.grid.models import Capabilities
from deskgrid.grid.server import GridServer
from deskgrid.node.requester_data import (
    RequesterDataError,
    download_result,
    readable_inputs,
    upload_inputs,
)
from tests.grid_fixtures import catalog
from tests.integration.grid.processes import TOKEN, start_server

pytestmark = pytest.mark.integration
KIB = 1024


@pytest.fixture
def grid_url(tmp_path: Path):
    """A grid process whose requesters may each upload 3 KiB a day, 5 KiB an hour together."""
    proc, url = start_server(
        f"sqlite:///{tmp_path / 'grid.db'}",
        tmp_path / "data",
        0,
        "--requester-upload-quota-mb",
        str(3 * KIB / 2**20),
        "--requester-upload-mb-per-hour",
        str(5 * KIB / 2**20),
    )
    yield url
    proc.stop()


def _file(folder: Path, name: str, size: int) -> Path:
    path = folder / name
    path.write_bytes(name.encode()[:1] * size)
    return path


async def test_a_wallet_uploads_inputs_and_downloads_them_back(grid_url, tmp_path) -> None:
    wallet = Account.create()
    book = _file(tmp_path, "book.txt", 2 * KIB)
    digests = await upload_inputs(grid_url, wallet, {"text": book})
    assert digests == {"text": hashlib.sha256(book.read_bytes()).hexdigest()}
    async with GridClient(grid_url) as grid:
        login = await grid.sign_in_requester(wallet)
        assert login.token.startswith("dgr_") and login.address == wallet.address
        assert await grid.download_data(digests["text"]) == book.read_bytes()
    out = tmp_path / "out" / "copy.txt"
    written = await download_result(
        grid_url, wallet, digests["text"], out, encrypted=False, context=b""
    )
    assert written == out and out.read_bytes() == book.read_bytes()
    assert sorted(p.name for p in out.parent.iterdir()) == ["copy.txt"]  # no temporary left


async def test_a_missing_or_unreadable_input_is_named_before_anything_is_sent(tmp_path) -> None:
    with pytest.raises(RequesterDataError, match="'text' is .* which is not a file"):
        readable_inputs({"text": tmp_path / "nowhere.txt"})
    with pytest.raises(RequesterDataError, match="'text' is .* which is not a file"):
        readable_inputs({"text": tmp_path})


async def test_data_the_grid_does_not_have_is_a_sentence_and_nothing_is_written(
    grid_url, tmp_path
) -> None:
    out = tmp_path / "results" / "result.json"
    with pytest.raises(RequesterDataError, match="does not have the result"):
        await download_result(
            grid_url, Account.create(), "ab" * 32, out, encrypted=True, context=b"0x12"
        )
    assert list(out.parent.iterdir()) == []


async def test_requester_and_worker_tokens_open_only_their_own_paths(grid_url) -> None:
    async with GridClient(grid_url) as requester, GridClient(grid_url) as worker:
        await requester.sign_in_requester(Account.create())
        await worker.authenticate(Account.create(), capabilities=Capabilities(apps=["echo"]))
        with pytest.raises(NotAuthorized, match="only store and fetch data") as refused:
            await requester.request_work(1)
        assert refused.value.status == 403
        with pytest.raises(NotAuthorized, match="only store and fetch data"):
            await requester.submit("echo", {"message": "hi"})
        with pytest.raises(NotAuthorized, match="only store and fetch data"):
            await requester.workers()
        with pytest.raises(NotAuthorized, match="Workers may not store data"):
            await worker.upload_data(b"a worker's bytes")
        stored = await requester.upload_data(b"a requester's bytes")
        assert await worker.download_data(stored.sha256) == b"a requester's bytes"
    async with GridClient(grid_url, token=TOKEN) as submitter:
        assert (await submitter.upload_data(b"the operator's bytes")).size == 20


async def test_the_daily_quota_and_the_hourly_cap_refuse_with_sentences(grid_url, tmp_path) -> None:
    first, second, third = Account.create(), Account.create(), Account.create()
    await upload_inputs(grid_url, first, {"a": _file(tmp_path, "a", 2 * KIB)})
    with pytest.raises(RequesterDataError, match="today's upload quota") as quota:
        await upload_inputs(grid_url, first, {"b": _file(tmp_path, "b", 2 * KIB)})
    assert "--requester-upload-quota-mb" in str(quota.value)
    await upload_inputs(grid_url, second, {"c": _file(tmp_path, "c", 2 * KIB)})
    with pytest.raises(RequesterDataError, match="of requesters' uploads an hour") as cap:
        await upload_inputs(grid_url, third, {"d": _file(tmp_path, "d", 2 * KIB)})
    assert "Try again in" in str(cap.value) and "--requester-upload-mb-per-hour" in str(cap.value)
    assert "'d'" in str(cap.value)  # which input was refused


async def test_content_that_does_not_match_its_digest_is_refused_and_nothing_written(
    grid_url, tmp_path
) -> None:
    content = b"r" * (100 * KIB)  # large enough to be a file in the grid's data folder
    async with GridClient(grid_url, token=TOKEN) as submitter:
        digest = (await submitter.upload_data(content)).sha256
    [stored] = [p for p in (tmp_path / "data").rglob(digest) if p.is_file()]
    stored.write_bytes(b"s" * len(content))  # the disk changed it under the grid
    out = tmp_path / "results" / "result.bin"
    with pytest.raises(RequesterDataError, match="does not match the digest the chain records"):
        await download_result(grid_url, Account.create(), digest, out, encrypted=False, context=b"")
    assert list(out.parent.iterdir()) == []


async def test_a_requester_token_is_renewed_when_refused(tmp_path) -> None:
    config = GridConfig(data_dir=tmp_path, worker_token_ttl_s=0.3)
    async with GridServer(config, catalog()) as server, GridClient(server.url) as requester:
        await requester.sign_in_requester(Account.create())
        old = requester.token
        await asyncio.sleep(0.4)
        stored = await requester.upload_data(b"after the token expired")
        assert await requester.download_data(stored.sha256) == b"after the token expired"
        assert requester.token != old and requester.token.startswith("dgr_")

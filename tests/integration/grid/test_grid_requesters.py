"""Requesters on a real `deskgrid grid serve` process: a wallet signs in, stores its input files
and fetches data back; its token opens nothing else, a worker's token stores nothing, the
per-wallet quota and the grid's hourly cap refuse with sentences, and a wallet's input is read
by nobody but itself, the operator and the worker leased its job."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from eth_account import Account

from deskgrid.grid.client import GridClient, GridClientError, NotAuthorized
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


@pytest.fixture
def roomy_grid_url(tmp_path: Path):
    """A grid process with the default upload quotas."""
    proc, url = start_server(f"sqlite:///{tmp_path / 'roomy.db'}", tmp_path / "roomy", 0)
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
        assert await requester.download_data(stored.sha256) == b"a requester's bytes"
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
    roomy_grid_url, tmp_path
) -> None:
    content = tmp_path / "input.bin"
    content.write_bytes(b"r" * (100 * KIB))  # large enough to be a file in the data folder
    wallet = Account.create()
    digest = (await upload_inputs(roomy_grid_url, wallet, {"input": content}))["input"]
    [stored] = [p for p in (tmp_path / "roomy").rglob(digest) if p.is_file()]
    stored.write_bytes(b"s" * content.stat().st_size)  # the disk changed it under the grid
    out = tmp_path / "results" / "result.bin"
    with pytest.raises(RequesterDataError, match="does not match the digest the chain records"):
        await download_result(roomy_grid_url, wallet, digest, out, encrypted=False, context=b"")
    assert list(out.parent.iterdir()) == []


async def test_a_result_larger_than_the_disk_allows_is_stopped_and_nothing_written(
    roomy_grid_url, tmp_path
) -> None:
    content = tmp_path / "input.bin"
    content.write_bytes(b"r" * (100 * KIB))
    wallet = Account.create()
    digest = (await upload_inputs(roomy_grid_url, wallet, {"input": content}))["input"]
    out = tmp_path / "results" / "result.bin"
    out.parent.mkdir()
    keep_all = 2**62  # more than any disk holds: not a byte may be written
    with pytest.raises(RequesterDataError, match="larger than the free space of") as refused:
        await download_result(
            roomy_grid_url, wallet, digest, out, encrypted=False, context=b"", keep_free=keep_all
        )
    assert "Nothing was written" in str(refused.value)
    assert list(out.parent.iterdir()) == []
    written = await download_result(
        roomy_grid_url, wallet, digest, out, encrypted=False, context=b""
    )
    assert written.read_bytes() == content.read_bytes()


async def _refused(client: GridClient, digest: str) -> str:
    with pytest.raises(GridClientError) as refused:
        await client.download_data(digest)
    assert refused.value.status == 404
    return refused.value.detail


async def test_a_wallets_input_is_read_only_by_itself_the_operator_and_its_leased_worker(
    grid_url, tmp_path
) -> None:
    alice, bob = Account.create(), Account.create()
    book = _file(tmp_path, "book.txt", KIB)
    digest = (await upload_inputs(grid_url, alice, {"text": book}))["text"]
    async with (
        GridClient(grid_url) as as_bob,
        GridClient(grid_url) as leased,
        GridClient(grid_url) as idle,
        GridClient(grid_url, token=TOKEN) as operator,
    ):
        await as_bob.sign_in_requester(bob)
        for worker in (leased, idle):
            await worker.authenticate(Account.create(), capabilities=Capabilities(apps=["echo"]))
        missing = await _refused(as_bob, "ab" * 32)
        assert await _refused(as_bob, digest) == missing.replace("ab" * 32, digest)
        assert await _refused(leased, digest) == missing.replace("ab" * 32, digest)
        await operator.submit("echo", {"message": "hi"}, inputs=[{"name": "t", "sha256": digest}])
        (lease,) = (await leased.request_work(1)).leases
        assert [item.sha256 for item in lease.inputs] == [digest]
        assert await leased.download_data(digest) == book.read_bytes()
        await _refused(idle, digest)  # a worker not leased the job
        await _refused(as_bob, digest)
        assert await operator.download_data(digest) == book.read_bytes()


async def test_a_requester_token_is_renewed_when_refused(tmp_path) -> None:
    config = GridConfig(data_dir=tmp_path, worker_token_ttl_s=0.3)
    async with GridServer(config, catalog()) as server, GridClient(server.url) as requester:
        await requester.sign_in_requester(Account.create())
        old = requester.token
        await asyncio.sleep(0.4)
        stored = await requester.upload_data(b"after the token expired")
        assert await requester.download_data(stored.sha256) == b"after the token expired"
        assert requester.token != old and requester.token.startswith("dgr_")

"""Worker and submitter tokens: expiry and revocation hold through the cache, a new sign-in
replaces the old token, logout revokes, tokens cannot be mistaken for options, and a client
command reads its token from a file or the environment instead of its command line.

Real grid servers on loopback: embedded (with a clock the test moves) or `deskgrid grid
serve` processes, two of them on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from sqlalchemy import delete, func, select

from deskgrid.grid.auth import CACHE_ENTRIES, new_submitter_token, new_worker_token, token_hash
from deskgrid.grid.client import GridClient, NotAuthorized
from deskgrid.grid.clock import ManualClock
from deskgrid.grid.config import GridConfig
from deskgrid.grid.db import Database
from deskgrid.grid.models import Capabilities
from deskgrid.grid.schema import worker_tokens
from deskgrid.grid.server import GridServer
from tests.conftest import REPO_ROOT
from tests.grid_fixtures import catalog
from tests.integration.grid.conftest import pg_grid_url  # noqa: F401 - a fixture
from tests.integration.grid.processes import Proc, _env, start_server

from .test_signin import start_cli_worker

pytestmark = pytest.mark.integration

CAPS = Capabilities(apps=["echo"])
# A cached answer is re-checked after 5 s (GridConfig.token_cache_s); the tests wait longer,
# bounded, for a revocation made by another server process.
STALENESS_BOUND_S = 30.0


async def me(url: str, token: str) -> httpx.Response:
    """`GET /workers/me` with `token` (no automatic sign-in again)."""
    async with httpx.AsyncClient() as http:
        return await http.get(
            f"{url}/api/v1/workers/me", headers={"Authorization": f"Bearer {token}"}
        )


async def signed_in(url: str, account) -> tuple[GridClient, str]:
    client = GridClient(url)
    login = await client.authenticate(account, capabilities=CAPS)
    return client, login.token


async def refused_within(url: str, token: str, bound: float = STALENESS_BOUND_S) -> httpx.Response:
    """Ask until the token is refused, at most `bound` seconds; the last answer."""
    deadline = time.monotonic() + bound
    while True:
        reply = await me(url, token)
        if reply.status_code == 401 or time.monotonic() > deadline:
            return reply
        await asyncio.sleep(0.2)


@pytest.fixture
async def embedded(tmp_path: Path):
    clock = ManualClock(start=time.time())
    server = GridServer(
        GridConfig(data_dir=tmp_path / "grid", worker_token_ttl_s=100.0), catalog(), clock=clock
    )
    await server.start()
    yield server, clock
    await server.stop()


async def test_an_expired_token_is_refused_even_when_cached(embedded) -> None:
    server, clock = embedded
    client, token = await signed_in(server.url, Account.create())
    async with client:
        assert (await me(server.url, token)).status_code == 200  # now cached
        clock.advance(101.0)
        reply = await me(server.url, token)
    assert reply.status_code == 401 and "expired" in reply.json()["detail"]


async def test_a_token_deleted_from_the_database_is_refused_after_the_cache_time(
    embedded,
) -> None:
    server, _ = embedded
    account = Account.create()
    client, token = await signed_in(server.url, account)
    async with client:
        assert (await me(server.url, token)).status_code == 200  # now cached
        db = Database(server.config.resolved_db_url())
        with db.write() as conn:  # an operator (or another server) revokes it
            conn.execute(delete(worker_tokens).where(worker_tokens.c.address == account.address))
        db.close()
        reply = await refused_within(server.url, token)
    assert reply.status_code == 401 and "revoked" in reply.json()["detail"]


async def test_logout_revokes_the_token_at_once(embedded) -> None:
    server, _ = embedded
    client, token = await signed_in(server.url, Account.create())
    async with client:
        assert (await me(server.url, token)).status_code == 200
        await client.logout()
        assert client.token is None
        assert (await me(server.url, token)).status_code == 401
        with pytest.raises(NotAuthorized):  # logged out: no silent sign-in again
            await client.me()


async def test_signing_in_again_revokes_the_earlier_token(embedded) -> None:
    server, _ = embedded
    account = Account.create()
    first, old = await signed_in(server.url, account)
    assert (await me(server.url, old)).status_code == 200  # now cached
    second, new = await signed_in(server.url, account)
    async with first, second:
        assert old != new
        assert (await me(server.url, new)).status_code == 200
        assert (await me(server.url, old)).status_code == 401


def test_the_token_cache_stays_bounded(tmp_path: Path) -> None:
    """Many valid tokens in use: the cache keeps the most recent CACHE_ENTRIES."""
    from deskgrid.grid.service import GridService

    clock = ManualClock(start=time.time())
    service = GridService(GridConfig(data_dir=tmp_path), catalog(), clock=clock)
    try:
        tokens = [new_worker_token() for _ in range(CACHE_ENTRIES + 100)]
        with service.db.write() as conn:
            conn.execute(
                worker_tokens.insert(),
                [
                    {
                        "token_hash": token_hash(t),
                        "address": f"0x{n:040x}",
                        "created_at": clock.now(),
                        "expires_at": clock.now() + 100,
                    }
                    for n, t in enumerate(tokens)
                ],
            )
        for n, token in enumerate(tokens):
            assert service.auth.worker_address(token) == f"0x{n:040x}"
        assert len(service.auth._cache) == CACHE_ENTRIES
        assert token_hash(tokens[-1]) in service.auth._cache
        assert token_hash(tokens[0]) not in service.auth._cache
    finally:
        service.close()


async def test_revocation_reaches_another_server_process_on_postgresql(
    pg_grid_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    first, url_a = start_server(pg_grid_url, tmp_path / "a")
    second, url_b = start_server(pg_grid_url, tmp_path / "b")
    try:
        account = Account.create()
        client, token = await signed_in(url_a, account)
        async with client:
            assert (await me(url_b, token)).status_code == 200  # cached at B
            await client.logout()  # at A
            assert (await me(url_a, token)).status_code == 401
            assert (await refused_within(url_b, token)).status_code == 401

            client, old = await signed_in(url_a, account)
            assert (await me(url_b, old)).status_code == 200  # cached at B
            again, new = await signed_in(url_a, account)  # a new sign-in at A
            async with again:
                assert (await refused_within(url_b, old)).status_code == 401
                assert (await me(url_b, new)).status_code == 200
            await client.aclose()
    finally:
        first.stop()
        second.stop()


def test_the_worker_logs_out_when_stopped(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'grid.db'}"
    server, url = start_server(db_url, tmp_path / "data")
    try:
        worker = start_cli_worker(url, tmp_path / "worker")
        address = worker.wait_line(r"Worker (0x[0-9a-fA-F]{40}) on", timeout=60).group(1)
        worker.wait_line(r"Waiting for work from the grid", timeout=60)
        db = Database(db_url)
        assert _tokens_of(db, address) == 1
        worker.popen.terminate()  # a clean stop (SIGTERM), as Ctrl-C
        assert worker.popen.wait(timeout=30) == 0
        assert _tokens_of(db, address) == 0
        db.close()
    finally:
        server.stop()


def _tokens_of(db: Database, address: str) -> int:
    with db.read() as conn:
        query = select(func.count()).where(worker_tokens.c.address == address)
        return int(conn.execute(query).scalar() or 0)


def test_tokens_never_look_like_options() -> None:
    worker = [new_worker_token() for _ in range(2000)]
    submitter = [new_submitter_token() for _ in range(2000)]
    assert all(t.startswith("dgw_") and len(t) > 40 for t in worker)
    assert all(t.startswith("dgs_") and len(t) > 40 for t in submitter)
    assert len(set(worker) | set(submitter)) == 4000


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deskgrid.cli", *args],
        cwd=REPO_ROOT, env=(env or _env()), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def serve_with_token_file(tmp_path: Path, *extra: str) -> tuple[Proc, str]:
    command = [
        sys.executable, "-m", "deskgrid.cli", "grid", "serve", "--port", "0",
        "--db", f"sqlite:///{tmp_path / 'grid.db'}", "--data-dir", str(tmp_path / "data"),
        "--catalog", "tests.grid_fixtures:catalog", *extra,
    ]  # fmt: skip
    popen = subprocess.Popen(
        command, cwd=REPO_ROOT, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    proc = Proc(popen)
    return proc, proc.wait_line(r"grid listening on (http://\S+)", timeout=60).group(1)


async def test_a_client_command_reads_its_token_from_a_file_or_the_environment(
    tmp_path: Path,
) -> None:
    server, url = serve_with_token_file(tmp_path)
    try:
        token_file = tmp_path / "data" / "submitter.token"
        token = token_file.read_text().strip()
        assert token.startswith("dgs_") and oct(token_file.stat().st_mode & 0o777) == "0o600"
        account, wallet = Account.create(), Account.create()
        async with GridClient(url) as client:
            await client.authenticate(account, capabilities=CAPS, payout=wallet.address)
        by_file = run_cli("grid", "workers", "--grid", url, "--grid-token-file", str(token_file))
        assert by_file.returncode == 0, by_file.stderr
        assert f"{account.address}  payout {wallet.address}" in by_file.stdout
        assert token not in by_file.stdout + by_file.stderr
        by_env = run_cli(
            "grid", "workers", "--grid", url, env=_env() | {"DESKGRID_GRID_TOKEN": token}
        )
        assert by_env.returncode == 0 and account.address in by_env.stdout, by_env.stderr
        wrong = run_cli("grid", "workers", "--grid", url, env=_env() | {"DESKGRID_GRID_TOKEN": "x"})
        assert wrong.returncode != 0

        missing = run_cli(
            "grid", "workers", "--grid", url, "--grid-token-file", str(tmp_path / "no")
        )
        assert missing.returncode == 2
        assert "Cannot read the grid token file" in missing.stderr
        empty = tmp_path / "empty.token"
        empty.write_text("# nothing here\n")
        reply = run_cli("grid", "workers", "--grid", url, "--grid-token-file", str(empty))
        assert reply.returncode == 2 and "holds no token" in reply.stderr
        shared = tmp_path / "shared.token"
        shared.write_text(token + "\n")
        os.chmod(shared, 0o644)
        reply = run_cli("grid", "workers", "--grid", url, "--grid-token-file", str(shared))
        assert reply.returncode == 0 and "readable by other users" in reply.stderr
    finally:
        server.stop()


def test_an_older_submitter_token_file_keeps_working(tmp_path: Path) -> None:
    old = tmp_path / "old.token"
    old.write_text("-Xq3" + "a" * 40 + "\n")  # an older random token that began with '-'
    os.chmod(old, 0o600)
    server, url = serve_with_token_file(tmp_path, "--token-file", str(old))
    try:
        reply = run_cli("grid", "workers", "--grid", url, "--grid-token-file", str(old))
        assert reply.returncode == 0, reply.stderr
        jobs = httpx.get(f"{url}/api/v1/jobs", headers={"Authorization": "Bearer -Xq3" + "a" * 40})
        assert jobs.status_code == 200
    finally:
        server.stop()


def test_the_oracle_takes_its_grid_token_from_a_file() -> None:
    reply = run_cli(
        "oracle", "--chain", "http://127.0.0.1:1", "--hub", "0x" + "1" * 40,
        "--grid", "http://127.0.0.1:1", "--grid-token-file", "/nonexistent/grid.token",
    )  # fmt: skip
    assert reply.returncode == 2
    assert "Cannot read the grid token file /nonexistent/grid.token" in reply.stderr

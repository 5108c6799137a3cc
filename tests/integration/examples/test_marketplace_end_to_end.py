"""The example apps through the whole marketplace, every part real: the images built FROM
scratch by their build script, published on a local chain (anvil) with their archives uploaded
to a `deskgrid grid serve` process that follows the chain's apps under its operator's policy,
a `deskgrid oracle` process, two `deskgrid worker --docker-apps` processes (two staked
stakeholders, since a published app is trusted through replication) running the images in
Docker, and the requester's `deskgrid run app` paying, sending its input file and getting the
result back, encrypted to its wallet on the way; `deskgrid tasks download` fetches it again."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deskgrid.chain.connection import connect
from deskgrid.chain.contracts import RLCToken
from deskgrid.chain.deployment import Roles, deploy
from deskgrid.chain.keyfile import PASSWORD_ENV, write_key_file
from deskgrid.chain.transactions import TxSender
from deskgrid.crypto.ecies import MAGIC
from deskgrid.grid.client import GridClient
from tests.conftest import REPO_ROOT
from tests.integration.grid.processes import TOKEN, Proc, start_server

from .conftest import EXAMPLES, BuiltExamples
from .test_wordfreq import expected_counts

pytestmark = pytest.mark.integration

PASSWORD = "example-pw"


@dataclass
class Market:
    chain_url: str
    hub: str
    grid_url: str
    developer_key: Path
    requester_key: Path
    folder: Path
    grid_data: Path

    def cli(self, *args: str, home: str = "requester", timeout: float = 300) -> dict:
        """A deskgrid command's JSON answer (it must succeed)."""
        done = subprocess.run(
            [sys.executable, "-m", "deskgrid.cli", *args, "--json"],
            cwd=REPO_ROOT,
            env=_env(self.folder / home),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"{args[:2]} failed:\n{done.stdout}\n{done.stderr}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    def network(self) -> tuple[str, ...]:
        return ("--chain", self.chain_url, "--hub", self.hub)


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, DESKGRID_HOME=str(home), PYTHONUNBUFFERED="1")
    env[PASSWORD_ENV] = PASSWORD
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    return env


def _popen(args: list[str], home: Path) -> Proc:
    popen = subprocess.Popen(
        [sys.executable, "-m", "deskgrid.cli", *args],
        cwd=REPO_ROOT,
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return Proc(popen)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    folder = tmp_path_factory.mktemp("market")
    chain = connect("anvil")
    procs: list[Proc] = []
    try:
        roles = Roles.dev(chain)
        deployment = deploy(chain, roles)  # every development account staked
        developer, requester = chain.dev_accounts[5], chain.dev_accounts[3]
        RLCToken(chain, deployment.rlc).transfer(
            TxSender(chain, roles.faucet), requester.address, 50 * 10**9
        )
        keys = folder / "keys"
        developer_key = write_key_file(developer, keys / "developer.json", PASSWORD)
        requester_key = write_key_file(requester, keys / "requester.json", PASSWORD)
        scheduler_key = write_key_file(roles.scheduler, keys / "scheduler.json", PASSWORD)
        policy = folder / "app-policy.json"
        policy.write_text(json.dumps({"docker_apps": "all"}))
        grid, grid_url = start_server(
            f"sqlite:///{folder / 'grid.db'}",
            folder / "grid",
            0,
            "--chain-rpc", chain.url or "", "--hub", deployment.hub,
            "--app-policy", str(policy),
            # a small pool of known volunteers: two agreeing fresh stakeholders suffice
            "--assume-bad", "0.05",
        )  # fmt: skip
        procs.append(grid)
        procs.append(
            _popen(
                [
                    "oracle",
                    "--chain",
                    chain.url or "",
                    "--hub",
                    deployment.hub,
                    "--grid",
                    grid_url,
                    "--grid-token",
                    TOKEN,
                    "--key-file",
                    str(scheduler_key),
                    "--confirmations",
                    "0",
                    "--poll",
                    "0.2",
                    "--db",
                    str(folder / "oracle.sqlite"),
                ],
                folder / "oracle",
            )  # fmt: skip
        )
        for n, payout in enumerate((chain.dev_accounts[7], chain.dev_accounts[8])):
            procs.append(
                _popen(
                    ["worker", "--grid", grid_url, "--docker-apps", "--payout", payout.address],
                    folder / f"worker{n}",
                )
            )
        yield Market(
            chain.url or "",
            deployment.hub,
            grid_url,
            developer_key,
            requester_key,
            folder,
            folder / "grid",
        )
    finally:
        for proc in reversed(procs):
            proc.stop()
            print(f"--- {' '.join(proc.popen.args[3:5])}\n" + "\n".join(proc.drain()[-40:]))
        chain.close()


def _publish(market: Market, examples: BuiltExamples, app: str) -> int:
    report = market.cli(
        "app", "publish",
        "--manifest", str(EXAMPLES / app / "manifest.json"),
        "--image", examples.images[app],
        "--upload-to", market.grid_url,
        "--price", "1",
        *market.network(), "--key-file", str(market.developer_key), "--yes",
        home="developer",
    )  # fmt: skip
    assert report["uri"] == "docker:" + examples.ids[app]
    assert re.fullmatch(r"[0-9a-f]{64}", report["archive_sha256"])
    app_id = int(report["app_id"])
    _served(market, f"{app}.{app_id}")
    return app_id


def _served(market: Market, name: str, within: float = 120.0) -> None:
    """Wait until the grid, following the chain, serves the app `name` (it reads the hub
    every few seconds; a busy machine may take longer than the oracle's grace)."""

    async def wait() -> None:
        async with GridClient(market.grid_url, token=TOKEN) as grid:
            async with asyncio.timeout(within):
                while name not in {app.name for app in await grid.apps()}:
                    await asyncio.sleep(0.5)

    asyncio.run(wait())


def _stored(market: Market, digest: str) -> bytes:
    """What the grid's data store holds under `digest` (as its operator sees it)."""

    async def download() -> bytes:
        async with GridClient(market.grid_url, token=TOKEN) as grid:
            return await grid.download_data(digest)

    return asyncio.run(download())


def test_wordfreq_counts_a_requesters_file_end_to_end(
    market: Market, examples: BuiltExamples, tmp_path: Path
) -> None:
    app_id = _publish(market, examples, "wordfreq")
    text = "the quick brown fox jumps over the lazy dog; The dog sleeps, the fox runs.\n" * 50
    book = tmp_path / "book.txt"
    book.write_text(text)
    out = tmp_path / "counts.json"
    report = market.cli(
        "run", "app", str(app_id),
        "--input", f"text={book}", "--param", "input=text", "--param", "top=3",
        "--grid", market.grid_url, *market.network(),
        "--key-file", str(market.requester_key), "--to", str(out), "--yes",
        timeout=600,
    )  # fmt: skip
    assert report["status"] == "COMPLETED", report
    result = json.loads(out.read_text())
    assert result["input"] == "text"
    assert {k: result[k] for k in expected_counts(text.encode(), 3)} == expected_counts(
        text.encode(), 3
    )
    # the grid (and the oracle, and the chain) held only ciphertext
    stored = _stored(market, report["result_digest"].removeprefix("0x"))
    assert stored.startswith(MAGIC) and b"fox" not in stored
    again = tmp_path / "again.json"
    market.cli(
        "tasks", "download", report["task_id"], "--grid", market.grid_url, *market.network(),
        "--key-file", str(market.requester_key), "--to", str(again),
    )  # fmt: skip
    assert again.read_bytes() == out.read_bytes()


def test_montecarlo_estimates_pi_end_to_end(
    market: Market, examples: BuiltExamples, tmp_path: Path
) -> None:
    app_id = _publish(market, examples, "montecarlo")
    out = tmp_path / "pi.json"
    report = market.cli(
        "run", "app", str(app_id),
        "--param", "seed=42", "--param", "samples=200000",
        "--grid", market.grid_url, *market.network(),
        "--key-file", str(market.requester_key), "--to", str(out), "--yes",
        timeout=600,
    )  # fmt: skip
    assert report["status"] == "COMPLETED", report
    job = tmp_path / "job"
    job.mkdir()
    direct = examples.run_directly("montecarlo", job, '{"seed": 42, "samples": 200000}')
    assert direct.returncode == 0, direct.stderr
    assert out.read_bytes() == (job / "result").read_bytes()
    assert 3.1 < json.loads(out.read_text())["pi"] < 3.2

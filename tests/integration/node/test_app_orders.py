"""Orders for a published app against real processes: anvil with the marketplace deployed and
wordfreq published, and a `deskgrid grid serve` process.

`deskgrid run app` checks the params and inputs, stores the input file on the grid (signed in
with the wallet), pays for the task document and keeps the order in the journal; stopped while
its task runs, `deskgrid tasks` still lists it. The task is then finalized here as the pool's
scheduler with the digest of a result encrypted to the wallet and stored on the grid, and
`deskgrid tasks download` fetches, checks and decrypts it. Tasks that have no result to fetch
get a sentence each."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from deskgrid.chain.anvil import AnvilNode, find_anvil
from deskgrid.chain.connection import Chain, connect
from deskgrid.chain.contracts import HubContract, RLCToken, TaskRequest, TaskStatus
from deskgrid.chain.deployment import Deployment, Roles, deploy
from deskgrid.chain.keyfile import PASSWORD_ENV, write_key_file
from deskgrid.chain.transactions import TxSender
from deskgrid.cli import main
from deskgrid.crypto import ecies
from deskgrid.grid.client import GridClient
from deskgrid.market.manifest import load_document, parse_manifest, with_image_id
from deskgrid.market.published import publish
from deskgrid.market.task_document import TaskDocument
from deskgrid.money import NRLC_PER_RLC as RLC
from deskgrid.node.requester_data import result_key_of
from tests.conftest import REPO_ROOT, require
from tests.integration.grid.processes import TOKEN, Proc, start_server

pytestmark = pytest.mark.integration
PASSWORD = "a long password"
IMAGE_ID = "sha256:" + "7c" * 32
WORDFREQ = REPO_ROOT / "examples" / "apps" / "wordfreq" / "manifest.json"
ZERO_ADDRESS = "0x" + "00" * 20
BOOK = b"the cat and the hat and the end"
RESULT = b'{"input":"text","top":[["the",3],["and",2]]}\n'


@dataclass
class World:
    chain: Chain
    roles: Roles
    deployment: Deployment
    hub: HubContract
    rlc: RLCToken
    app_id: int
    grid_url: str
    home: Path
    keys: dict[int, Path]

    def account(self, index: int):
        return self.chain.dev_accounts[index]

    def chain_args(self, who: int = 3) -> list[str]:
        url = self.chain.url or ""
        return ["--chain", url, "--hub", self.hub.address, "--key-file", str(self.keys[who])]

    def pay(self, who: int = 3, result_key: str | None = "mine") -> bytes:
        """A wordfreq task paid directly on the hub by dev account `who`."""
        account = self.account(who)
        key = result_key_of(account) if result_key == "mine" else result_key
        document = TaskDocument({"top": 3}, {"text": hashlib.sha256(BOOK).hexdigest()}, key)
        price = self.hub.price_of(self.app_id, self.deployment.pool_id, 2)
        request = TaskRequest(
            self.app_id, self.deployment.pool_id, document.to_chain(), price, 1, trust=2
        )
        return self.hub.pay_and_request(TxSender(self.chain, account), self.rlc, request)

    def finalize(self, task_id: bytes, stored: bytes) -> None:
        """Close the task as the pool's scheduler with the digest of `stored`."""
        scheduler = TxSender(self.chain, self.roles.scheduler)
        self.hub.finalize(scheduler, task_id, hashlib.sha256(stored).digest(), b"", [], [])

    def store(self, content: bytes, who: int = 3) -> None:
        """Put `content` in the grid's data store as the wallet `who`, which may then read it
        back (a real task's result is a lease's, which any requester may read)."""

        async def upload() -> None:
            async with GridClient(self.grid_url) as grid:
                await grid.sign_in_requester(self.account(who))
                await grid.upload_data(content)

        asyncio.run(upload())

    def stored(self, digest: str) -> bytes:
        return asyncio.run(self._submitter("download_data", digest))

    async def _submitter(self, method: str, *args: object):  # noqa: ANN202
        async with GridClient(self.grid_url, token=TOKEN) as grid:
            return await getattr(grid, method)(*args)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    require(find_anvil() is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    folder = tmp_path_factory.mktemp("app-orders")
    anvil = AnvilNode().start()
    grid = None
    try:
        chain = connect(anvil.url)
        roles = Roles.dev(chain)
        deployment = deploy(chain, roles)
        hub, rlc = HubContract(chain, deployment.hub), RLCToken(chain, deployment.rlc)
        doc = with_image_id(load_document(WORDFREQ.read_bytes()), IMAGE_ID)
        manifest = parse_manifest(json.dumps(doc))
        app_id = publish(hub, TxSender(chain, chain.dev_accounts[5]), manifest, RLC // 2).app_id
        faucet = TxSender(chain, roles.faucet)
        keys = {}
        for who in (3, 4):
            rlc.transfer(faucet, chain.dev_accounts[who].address, 50 * RLC)
            keys[who] = write_key_file(chain.dev_accounts[who], folder / f"{who}.json", PASSWORD)
        grid, grid_url = start_server(f"sqlite:///{folder / 'grid.db'}", folder / "grid")
        yield World(chain, roles, deployment, hub, rlc, app_id, grid_url, folder / "home", keys)
    finally:
        if grid is not None:
            grid.stop()
        anvil.stop()


@pytest.fixture
def cli(world, monkeypatch, capsys):
    """`deskgrid …` in this process, with the world's data folder and key password."""
    monkeypatch.setenv("DESKGRID_HOME", str(world.home))
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def seal_for(account, task_id: bytes, *, random: bool = False) -> bytes:
    """RESULT encrypted to `account` as the task's workers encrypt it (convergent, under the
    task's context), or at random."""
    key = ecies.public_key_of(bytes(account.key))
    if random:
        return ecies.encrypt(key, RESULT)
    return ecies.encrypt_convergent(key, RESULT, ecies.encryption_context("0x" + task_id.hex(), ""))


def spawn_run_app(world: World, *args: str) -> Proc:
    env = dict(os.environ, DESKGRID_HOME=str(world.home), **{PASSWORD_ENV: PASSWORD})
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT / "app"), env.get("PYTHONPATH", "")])
    popen = subprocess.Popen(
        [sys.executable, "-m", "deskgrid", "run", "app", str(world.app_id), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    return Proc(popen)


def test_run_app_pays_and_journals_and_tasks_download_fetches_the_result(
    world, cli, tmp_path
) -> None:
    book = tmp_path / "book.txt"
    book.write_bytes(BOOK)
    args = ["--param", "top=2", "--param", "input=text", "--input", f"text={book}"]
    proc = spawn_run_app(
        world, *args, "--grid", world.grid_url, *world.chain_args(), "--yes", "--retry-for", "0"
    )
    try:
        proc.wait_line(r"wordfreq \(app \d+\): price .* result encrypted to your wallet", 60)
        task_hex = proc.wait_line(r"paid .*: task (0x[0-9a-f]{64})", 60).group(1)
        task_id = bytes.fromhex(task_hex[2:])
        task = world.hub.task(task_id)
        assert task.status is TaskStatus.ACTIVE and task.app_id == world.app_id
        digest = hashlib.sha256(BOOK).hexdigest()
        assert json.loads(task.params) == {
            "params": {"input": "text", "top": 2},
            "inputs": {"text": digest},
            "result_key": result_key_of(world.account(3)),
        }
        assert world.stored(digest) == BOOK  # the input is on the grid
        proc.popen.send_signal(signal.SIGINT)  # stopped while the task runs
        assert proc.popen.wait(timeout=30) == 130
        said = "\n".join(proc.drain())
        assert "the task is safe" in said and "deskgrid tasks download" in said, said
    finally:
        proc.stop()

    code, out, err = cli("tasks", "--json", *world.chain_args())
    assert code == 0, err
    [order] = [o for o in json.loads(out) if o["task_id"] == task_hex]
    assert order["kind"] == "app" and order["state"] == "active" and order["encrypted"]
    assert order["app"] == f"wordfreq.{world.app_id}" and "secret" not in order
    assert order["params"]["inputs"] == {"text": hashlib.sha256(BOOK).hexdigest()}
    code, out, err = cli("tasks", *world.chain_args())
    assert code == 0 and re.search(rf"{order['order_id']}  active .* wordfreq\.{world.app_id}", out)

    code, _, err = cli("tasks", "download", order["order_id"], "--grid", world.grid_url,
                       *world.chain_args())  # fmt: skip
    assert code == 2 and "is not finished yet" in err

    sealed = seal_for(world.account(3), task_id)
    world.store(sealed)
    world.finalize(task_id, sealed)
    out_file = tmp_path / "results" / "words.json"
    out_file.parent.mkdir()
    code, out, err = cli("tasks", "download", order["order_id"], "--grid", world.grid_url,
                         "--to", str(out_file), *world.chain_args())  # fmt: skip
    assert code == 0, err
    assert f"result   {out_file}" in out and out_file.read_bytes() == RESULT
    assert sorted(p.name for p in out_file.parent.iterdir()) == ["words.json"]
    code, out, err = cli("tasks", "--json", *world.chain_args())
    [order] = [o for o in json.loads(out) if o["task_id"] == task_hex]
    assert order["state"] == "completed"
    assert order["result_digest"] == hashlib.sha256(sealed).hexdigest()
    assert order["result_path"] == str(out_file.absolute())


def test_tasks_download_says_why_a_task_has_no_result(world, cli, tmp_path) -> None:
    def download(task_id: bytes | str, who: int = 3) -> tuple[int, str]:
        ident = task_id if isinstance(task_id, str) else "0x" + task_id.hex()
        code, _, err = cli("tasks", "download", ident, "--grid", world.grid_url,
                           "--to", str(tmp_path / "out.json"), *world.chain_args(who))  # fmt: skip
        return code, err

    running = world.pay()
    code, err = download(running)
    assert code == 2 and "is not finished yet" in err

    failed = world.pay()
    world.hub.fail(TxSender(world.chain, world.roles.scheduler), failed, "the app crashed")
    code, err = download(failed)
    assert code == 2 and "failed and its price was refunded: the app crashed" in err

    code, err = download("0x" + "ab" * 32)
    assert code == 2 and "There is no task 0xabab" in err

    code, err = download(world.pay(who=4))
    assert code == 2 and "not by this wallet" in err

    missing = world.pay()
    world.finalize(missing, b"never stored on the grid")
    code, err = download(missing)
    assert code == 2 and "does not have the result" in err

    elsewhere = world.pay()  # the document names this wallet, the result is another's
    sealed = seal_for(world.account(4), elsewhere)
    world.store(sealed)
    world.finalize(elsewhere, sealed)
    code, err = download(elsewhere)
    assert code == 2 and "encrypted for another wallet" in err and "Nothing was written" in err

    for random in (False, True):  # not what the task's honest replicas would all upload
        odd = world.pay()
        another_task = b"\x01" * 32
        sealed = seal_for(world.account(3), another_task, random=random)
        world.store(sealed)
        world.finalize(odd, sealed)
        code, err = download(odd)
        assert code == 2 and "was not encrypted the way the task's workers" in err, err
        assert "Nothing was written" in err

    clear = world.pay(result_key=None)  # --no-encrypt: stored in clear
    world.store(RESULT)
    world.finalize(clear, RESULT)
    assert download(clear) == (0, "")
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    assert (tmp_path / "out.json").read_bytes() == RESULT


def test_run_app_refuses_bad_params_and_inputs_before_paying(world, cli, tmp_path) -> None:
    book = tmp_path / "book.txt"
    book.write_bytes(BOOK)
    requester = world.account(3).address
    before = world.hub.next_task_id(requester)
    base = ["run", "app", str(world.app_id), "--grid", world.grid_url, *world.chain_args()]
    cases = [
        (["--param", "top=0", "--input", f"text={book}"], r"top: .*1"),
        (["--param", "colour=red", "--input", f"text={book}"], r"'colour' is not a parameter"),
        (["--input", f"book={book}"], r"has no input called 'book' \(its inputs: text\)"),
        (["--input", f"text={tmp_path / 'none.txt'}"], r"'text' is .*none\.txt.* not a file"),
        (["--param", "input=other", "--input", f"text={book}"], r"names the input 'other'"),
    ]
    for extra, sentence in cases:
        code, _, err = cli(*base, *extra, "--yes")
        assert code == 2 and re.search(sentence, err), (extra, err)
    assert world.hub.next_task_id(requester) == before  # nothing was paid

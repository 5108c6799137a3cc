"""No secret reaches a log: whole demo tasks as real processes, at the most verbose level (-vv),
then every file of `<DESKGRID_HOME>/logs/` and every captured standard error is searched.

1. As the app runs it: the desktop's `NodeBackend` (this process, logging as the app does to
   deskgrid.log) starts the node child (`python -m deskgrid.node.process`: node.log, its
   standard error in node-stderr.log), and `deskgrid -vv run vanity --chain … --key-file …`
   (run.log) pays for a task from a keystore of the node's demo wallet. The secrets are learnt
   from outside: the final key from the command's output, the split-key secret from it and the
   partial key the task published (the candidate whose public key the task was sent with), the
   submitter token from the grid's token file and the worker tokens by the hashes in the grid's
   database (the node's throw-away folder is put under TMPDIR for that), the demo wallet's
   and the development accounts' keys from the node's ready line, the keystore's password.
2. `deskgrid -vv run vanity --demo --json`, a local node inside the command (run.log): the
   final key and the development keys.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import secrets
import sqlite3
import sys
from pathlib import Path

import coincurve
import pytest

from deskgrid import logs
from deskgrid.apps.vanity.keys import wif_decode, wif_encode
from deskgrid.apps.vanity.secp256k1 import MULTIPLIERS, N
from deskgrid.chain.contracts import HubContract
from deskgrid.chain.keyfile import encrypt_keystore
from deskgrid.desktop.node_backend import NodeBackend

pytestmark = pytest.mark.integration

RUN_TIMEOUT = 240.0
TOKEN_RUN = re.compile(r"[A-Za-z0-9_-]{43,}")  # secrets.token_urlsafe(32) is 43 characters


def key_forms(key: int) -> list[str]:
    """A private key as a log could show it: hex (either case, 0x or not), WIF, and decimal
    for a random key (eth-tester's development keys are 1, 2, 3…)."""
    raw = f"{key:064x}"
    forms = [raw, raw.upper(), wif_encode(key, True), wif_encode(key, False)]
    return forms + ([str(key)] if key > 2**128 else [])


def hex_key_forms(hex_key: str) -> list[str]:
    return key_forms(int(hex_key.removeprefix("0x"), 16))


def split_secret(final: int, partial: int, public_key: str) -> int:
    """The requester's secret S: final = m·S + partial (mod N) for one multiplier m, and S·G is
    the public key the task was sent with."""
    for m in MULTIPLIERS:
        secret = (final - partial) * pow(m, -1, N) % N
        if secret and coincurve.PrivateKey(secret.to_bytes(32, "big")).public_key.format(
            compressed=True
        ).hex() == public_key.removeprefix("0x"):
            return secret
    raise AssertionError("no multiplier gives the requester's public key")


def grid_folder(tmp: Path) -> Path:
    found = list(tmp.glob("deskgrid-node-*/grid"))
    assert len(found) == 1, f"the node's grid folder under {tmp}: {found}"
    return found[0]


def worker_token_hashes(grid: Path) -> set[str]:
    with sqlite3.connect(f"file:{grid / 'grid.db'}?mode=ro", uri=True) as db:
        return {row[0] for row in db.execute("SELECT token_hash FROM worker_tokens")}


def tokens_by_hash(text: str, hashes: set[str]) -> list[str]:
    """Every 43-character stretch of token characters whose SHA-256 is a worker token's."""
    found = []
    for run in TOKEN_RUN.findall(text):
        for i in range(len(run) - 42):
            window = run[i : i + 43]
            if hashlib.sha256(window.encode()).hexdigest() in hashes:
                found.append(window)
    return found


def log_texts(home: Path) -> dict[str, str]:
    folder = home / "logs"
    return {p.name: p.read_text(errors="replace") for p in sorted(folder.iterdir()) if p.is_file()}


def assert_no_secret(texts: dict[str, str], named: dict[str, list[str]]) -> None:
    for source, text in texts.items():
        for what, forms in named.items():
            for form in forms:
                assert form not in text, f"{what} is in {source}"


async def deskgrid(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "deskgrid",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_no_secret_reaches_a_log(deskgrid_home, tmp_path, monkeypatch):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))  # the node child's throw-away folder lands here
    logs.setup_logging("deskgrid", verbose=2, console=False)  # the app, at -vv
    backend = NodeBackend(workers=1)
    await backend.start()
    try:
        info = backend.info
        assert info is not None and info.demo_key and info.grid_token
        password = secrets.token_urlsafe(12)
        keystore = tmp_path / "requester.json"
        assert backend.demo_account is not None
        keystore.write_text(
            json.dumps(encrypt_keystore(backend.demo_account, password, scrypt_n=2**12))
        )
        env = dict(os.environ, DESKGRID_KEY_PASSWORD=password)
        code, out, run_err = await deskgrid(
            "-vv", "run", "vanity", "--pattern", "1A", "--chain", info.rpc_url,
            "--hub", info.deployment["hub"], "--key-file", str(keystore), "--json", env=env,
        )  # fmt: skip
        assert code == 0, run_err
        report = json.loads(out.strip().splitlines()[-1])
        assert report["status"] == "COMPLETED"
        final, _compressed = wif_decode(report["wif"])

        assert backend.chain is not None
        task = HubContract(backend.chain, info.deployment["hub"]).task(
            bytes.fromhex(report["task_id"][2:])
        )
        result = json.loads(task.results)
        partial = int(result["partial_private_key"], 16)
        secret = split_secret(final, partial, json.loads(task.params)["public_key"])

        grid = grid_folder(tmp)
        submitter_tokens = [
            line.strip() for line in (grid / "submitter.token").read_text().splitlines()
        ]
        assert info.grid_token in submitter_tokens
        worker_hashes = worker_token_hashes(grid)
        assert worker_hashes, "the local worker logged in"
    finally:
        await backend.stop()
    logs.reset_logging()

    texts = log_texts(deskgrid_home)
    assert set(texts) >= {"deskgrid.log", "node.log", "node-stderr.log", "run.log"}
    texts["stderr of the run command"] = run_err
    named = {
        "the final private key": key_forms(final),
        "the split-key secret": key_forms(secret),
        "the submitter token": submitter_tokens,
        "the demo wallet's key": hex_key_forms(info.demo_key),
        "the keystore password": [password],
        **{f"development key {i}": hex_key_forms(k) for i, k in enumerate(info.dev_keys)},
    }
    assert_no_secret(texts, named)
    for source, text in texts.items():
        assert not tokens_by_hash(text, worker_hashes), f"a worker token is in {source}"

    # Logging went somewhere: each process's lifecycle is in its file.
    for source, lines in {
        "deskgrid.log": ["the local node started (pid"],
        "node.log": [
            "the local node starts",
            "local node: ready",
            "grid server on http://127.0.0.1:",
            f"task {report['task_id']} seen in block",
            f"task {report['task_id']} submitted to the grid: job",
            "[computing] Computing vanity job",
            f"task {report['task_id']} computed: job",
            f"task {report['task_id']} finalized: tx",
            "the local node stopped (exit code 0)",
        ],
        "run.log": ["run starts", "run ended with exit code 0"],
    }.items():
        for line in lines:
            assert line in texts[source], f"{line!r} is not in {source}"
    assert "DEBUG" in texts["node.log"] and "DEBUG" in texts["run.log"]  # -vv reached both

    # 2. The same task with the local node inside the command.
    home = tmp_path / "demo-home"
    env = dict(os.environ, DESKGRID_HOME=str(home))
    code, out, demo_err = await deskgrid(
        "-vv", "run", "vanity", "--pattern", "1A", "--demo", "--json", env=env
    )
    assert code == 0, demo_err
    report = json.loads(out.strip().splitlines()[-1])
    final, _compressed = wif_decode(report["wif"])
    texts = log_texts(home)
    assert set(texts) == {"run.log"}
    texts["stderr of the demo run"] = demo_err
    assert_no_secret(
        texts,
        {
            "the final private key": key_forms(final),
            **{f"development key {i}": hex_key_forms(k) for i, k in enumerate(info.dev_keys)},
        },
    )
    for line in ("local node: ready", f"task {report['task_id']} finalized: tx"):
        assert line in texts["run.log"]

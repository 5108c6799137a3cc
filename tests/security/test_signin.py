"""Worker sign-ins are bound to one grid: a hostile grid can neither relay a volunteer's
sign-in to another grid nor make the worker's key sign text of its choosing.

A real grid server process (B) and a hostile grid on loopback (A) that relays B's
challenges or forges every field it controls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from deskgrid.grid.client import GridClient, GridClientError, NotAuthorized, SignInRefused
from deskgrid.grid.models import Capabilities
from deskgrid.grid.signin import SignInChallenge, sign_in_message
from tests.integration.grid.processes import TOKEN, Proc, start_server

from .hostile_grid import HostileGrid

pytestmark = pytest.mark.integration

SUBMITTER = {"Authorization": f"Bearer {TOKEN}"}
EVIL = "Approve the transfer of all my RLC to 0x000000000000000000000000000000000000dEaD"


class Watched(LocalAccount):
    """A worker key that notes every message it signs."""

    def __init__(self) -> None:
        super().__init__(Account.create()._key_obj, Account)
        self.signed: list[bytes] = []

    def sign_message(self, signable_message):  # noqa: ANN001, ANN201
        self.signed.append(signable_message.body)
        return super().sign_message(signable_message)


@pytest.fixture(scope="module")
def real_grid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("grid-b")
    proc, url = start_server(f"sqlite:///{folder / 'grid.db'}", folder / "data")
    yield url
    proc.stop()


def workers_at(url: str) -> dict[str, dict[str, Any]]:
    reply = httpx.get(f"{url}/api/v1/workers", headers=SUBMITTER)
    reply.raise_for_status()
    return {w["address"]: w for w in reply.json()}


async def sign_in(url: str, account: LocalAccount, payout: str | None = None):
    async with GridClient(url) as client:
        return await client.authenticate(
            account, capabilities=Capabilities(apps=["echo"]), payout=payout
        )


async def test_a_worker_signs_in_at_its_grid_with_a_payout(real_grid: str) -> None:
    me, wallet = Watched(), Account.create()
    login = await sign_in(real_grid, me, payout=wallet.address)
    assert login.address == me.address and login.payout == wallet.address
    assert login.token.startswith("dgw_")
    [text] = me.signed
    assert text.decode().startswith(
        f"DeskGrid sign-in, version 1\nSign in to the DeskGrid grid at {real_grid} as a worker."
    )
    assert f"\nPayout: {wallet.address}\n" in text.decode()
    assert workers_at(real_grid)[me.address]["payout"] == wallet.address


async def test_another_grids_challenge_passed_on_unchanged_is_not_signed(real_grid: str) -> None:
    me = Watched()
    with HostileGrid(lambda challenge: challenge, relay_to=real_grid) as hostile:
        with pytest.raises(SignInRefused) as refused:
            await sign_in(hostile.url, me)
        assert hostile.logins == []
    assert me.signed == []
    assert f"it says it is the grid at '{real_grid}'" in refused.value.detail
    assert "Nothing was signed" in refused.value.detail


@pytest.mark.parametrize("field", ["grid_url", "grid_id"])
async def test_a_signature_relayed_to_another_grid_is_useless_there(
    real_grid: str, field: str
) -> None:
    """The hostile grid passes on B's challenge as its own (its URL, or also its own id);
    the worker signs a sign-in for the hostile grid, which then offers it to B: refused."""
    me = Watched()

    def as_mine(challenge: dict[str, Any]) -> dict[str, Any]:
        mine = challenge | {"grid_url": hostile.url}
        return mine | ({"grid_id": "ef" * 16} if field == "grid_id" else {})

    with HostileGrid(as_mine, relay_to=real_grid) as hostile:
        with pytest.raises(NotAuthorized):
            await sign_in(hostile.url, me)
        [relayed] = hostile.relayed
    assert len(me.signed) == 1  # signed for the hostile grid, which names itself
    assert relayed.status_code == 401, relayed.text
    assert "was not signed by" in relayed.json()["detail"]
    assert me.address not in workers_at(real_grid)


def test_the_payout_cannot_be_changed_after_signing(real_grid: str) -> None:
    """A sign-in for this very grid whose payout is swapped on the way is refused."""
    me, wallet, thief = Account.create(), Account.create(), Account.create()
    reply = httpx.post(f"{real_grid}/api/v1/workers/challenge", json={"address": me.address})
    challenge = SignInChallenge.model_validate(reply.json())
    text = sign_in_message(challenge, wallet.address)
    signature = me.sign_message(encode_defunct(text=text)).signature.hex()
    login = {"address": me.address, "nonce": challenge.nonce, "signature": signature}
    swapped = httpx.post(
        f"{real_grid}/api/v1/workers/login", json=login | {"payout": thief.address}
    )
    assert swapped.status_code == 401, swapped.text
    dropped = httpx.post(f"{real_grid}/api/v1/workers/login", json=login)
    assert dropped.status_code == 401, dropped.text
    kept = httpx.post(f"{real_grid}/api/v1/workers/login", json=login | {"payout": wallet.address})
    assert kept.status_code == 200 and kept.json()["payout"] == wallet.address


def _now() -> int:
    return int(time.time())


FORGERIES = {
    "text to sign": lambda c: c | {"message": EVIL},
    "a statement of its own": lambda c: c | {"statement": EVIL},
    "a payout of its own": lambda c: c | {"payout": "0x000000000000000000000000000000000000dEaD"},
    "newline in the URL": lambda c: c | {"grid_url": c["grid_url"] + "\n" + EVIL},
    "spaces in the URL": lambda c: c | {"grid_url": c["grid_url"] + "/ " + EVIL},
    "a query in the URL": lambda c: c | {"grid_url": c["grid_url"] + "/?approve=all"},
    "a path in the URL": lambda c: c | {"grid_url": c["grid_url"] + "/other"},
    "user info in the URL": lambda c: c | {"grid_url": c["grid_url"].replace("//", "//x@")},
    "another grid's URL": lambda c: c | {"grid_url": "http://127.0.0.1:1"},
    "https for http": lambda c: c | {"grid_url": c["grid_url"].replace("http:", "https:")},
    "newline in the grid id": lambda c: c | {"grid_id": c["grid_id"] + "\n" + EVIL},
    "text as the grid id": lambda c: c | {"grid_id": EVIL},
    "newline in the nonce": lambda c: c | {"nonce": c["nonce"] + "\n" + EVIL},
    "a long nonce": lambda c: c | {"nonce": "ab" * 64},
    "text as the chain id": lambda c: c | {"chain_id": "1\n" + EVIL},
    "a fractional chain id": lambda c: c | {"chain_id": 1.5},
    "a long lifetime": lambda c: c | {"expires_at": c["issued_at"] + 365 * 86400},
    "no lifetime": lambda c: c | {"expires_at": c["issued_at"]},
    "already expired": lambda c: c | {"issued_at": _now() - 7200, "expires_at": _now() - 6900},
    "from the future": lambda c: c | {"issued_at": _now() + 7200, "expires_at": _now() + 7500},
    "past the year 9999": lambda c: c | {"issued_at": 2**40 - 60, "expires_at": 2**40},
    "huge times": lambda c: c | {"issued_at": 2**70, "expires_at": 2**70 + 60},
    "times as text": lambda c: c | {"issued_at": str(c["issued_at"])},
    "another worker's address": lambda c: c | {"address": Account.create().address},
    "a lower-case address": lambda c: c | {"address": c["address"].lower()},
    "another version": lambda c: c | {"version": 2},
    "a missing nonce": lambda c: {k: v for k, v in c.items() if k != "nonce"},
    "not a challenge at all": lambda c: [EVIL],
    "not JSON": lambda c: EVIL.encode(),
}


async def test_the_hostile_grids_plain_challenge_is_signed() -> None:
    """The control: unforged, the hostile grid's challenge is a valid one for it."""
    me = Watched()
    with HostileGrid(lambda challenge: challenge) as hostile:
        with pytest.raises(NotAuthorized):
            await sign_in(hostile.url, me)
        assert len(hostile.logins) == 1
    assert len(me.signed) == 1


@pytest.mark.parametrize("forgery", list(FORGERIES))
async def test_the_worker_signs_nothing_the_grid_forged(forgery: str) -> None:
    me = Watched()
    with HostileGrid(FORGERIES[forgery]) as hostile:
        with pytest.raises(SignInRefused) as refused:
            await sign_in(hostile.url, me)
        assert hostile.logins == []
    assert me.signed == []
    assert refused.value.detail.startswith(f"This worker refused to sign in to {hostile.url}: ")


@pytest.mark.parametrize(
    "answer",
    [
        (200, b"<html>not json</html>"),
        (200, {"token": "dgw_x\r\nX-Evil: 1", "address": "0x" + "0" * 40, "expires_at": 1}),
        (200, {"token": "dgw_fine", "address": Account.create().address, "expires_at": 1}),
        (200, [EVIL]),
    ],
    ids=["not JSON", "a header in the token", "another address", "not an object"],
)
async def test_a_forged_login_answer_is_an_error_not_a_crash(answer) -> None:
    me = Watched()
    with HostileGrid(lambda challenge: challenge, login_reply=answer) as hostile:
        with pytest.raises(GridClientError) as failed:
            await sign_in(hostile.url, me)
    assert "did not answer the sign-in with a token" in failed.value.detail


async def test_a_grid_refusing_every_sign_in_gets_one_refusal_per_call() -> None:
    """Signed in once, then every call and every new challenge refused: the client tries
    one sign-in again and stops there (no endless chain of sign-ins)."""
    me = Watched()
    mode = {"refuse": False}

    def forge(challenge: dict[str, Any]) -> object:
        return (401, {"detail": "no"}) if mode["refuse"] else challenge

    def login(body: dict[str, Any]) -> tuple[int, object]:
        return 200, {"token": "dgw_fine", "address": body["address"], "expires_at": 1}

    with HostileGrid(forge, login_reply=login) as hostile:
        async with GridClient(hostile.url, timeout=10.0) as client, asyncio.timeout(60):
            await client.authenticate(me, capabilities=Capabilities(apps=["echo"]))
            mode["refuse"] = True
            with pytest.raises(NotAuthorized):
                await client.me()
    assert len(me.signed) == 1


def test_the_worker_process_refuses_a_forged_challenge(tmp_path: Path) -> None:
    with HostileGrid(FORGERIES["text to sign"]) as hostile:
        worker = start_cli_worker(hostile.url, tmp_path)
        try:
            worker.wait_line(r"refused to sign in to .*Nothing was signed", timeout=60)
        finally:
            worker.stop()
        assert hostile.logins == []


def test_the_worker_process_names_its_payout(real_grid: str, tmp_path: Path) -> None:
    wallet = Account.create().address
    worker = start_cli_worker(real_grid, tmp_path, "--payout", wallet.lower())
    try:
        line = worker.wait_line(r"Worker (0x[0-9a-fA-F]{40}) on .*, paying (0x\w+)", timeout=60)
        worker.wait_line(r"Waiting for work from the grid", timeout=60)
    finally:
        worker.stop()
    assert line.group(2) == wallet
    assert workers_at(real_grid)[line.group(1)]["payout"] == wallet
    zero = run_cli_worker(real_grid, tmp_path, "--payout", "0x" + "0" * 40)
    assert zero.returncode == 2 and "zero address" in zero.stderr


def run_cli_worker(url: str, state: Path, *extra: str):  # noqa: ANN201
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT
    from tests.integration.grid.processes import _env

    command = [
        sys.executable, "-m", "deskgrid.cli", "worker", "--grid", url,
        "--state-dir", str(state), *extra,
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, timeout=120
    )


def start_cli_worker(url: str, state: Path, *extra: str) -> Proc:
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT
    from tests.integration.grid.processes import _env

    command = [
        sys.executable, "-m", "deskgrid.cli", "worker", "--grid", url,
        "--state-dir", str(state), *extra,
    ]  # fmt: skip
    popen = subprocess.Popen(
        command, cwd=REPO_ROOT, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    return Proc(popen)


def test_a_grid_behind_a_proxy_names_its_public_url(tmp_path: Path) -> None:
    public = "https://grid.example.org"
    proc, url = start_server(
        f"sqlite:///{tmp_path / 'grid.db'}", tmp_path / "data", 0, "--public-url", public + "/"
    )
    try:
        me = Account.create()
        reply = httpx.post(f"{url}/api/v1/workers/challenge", json={"address": me.address})
        challenge = SignInChallenge.model_validate(reply.json())
        assert challenge.grid_url == public
        # reached by another URL than the public one, the worker does not sign in ...
        with pytest.raises(SignInRefused):
            asyncio.run(sign_in(url, me))
        # ... while a sign-in for the public URL (what a worker behind the proxy makes) works
        text = sign_in_message(challenge, None)
        signature = me.sign_message(encode_defunct(text=text)).signature.hex()
        login = httpx.post(
            f"{url}/api/v1/workers/login",
            json={"address": me.address, "nonce": challenge.nonce, "signature": signature},
        )
        assert login.status_code == 200, login.text
    finally:
        proc.stop()

"""Requester sign-in: a wallet signs a message of the requester's own form and gets a `dgr_`
token that stores and fetches data only, within its daily quota and all requesters' hourly cap.
"""

from __future__ import annotations

import hashlib

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from deskgrid.grid.auth import REQUESTER_TOKENS_KEPT
from deskgrid.grid.quota import DAY
from deskgrid.grid.signin import (
    SignInChallenge,
    requester_sign_in_message,
    sign_in_message,
)
from deskgrid.grid.uploads import HOUR

from .conftest import Api, make_api


def _challenge(api: Api, role: str, account) -> dict:
    reply = api.client.post(f"/api/v1/{role}s/challenge", json={"address": account.address})
    assert reply.status_code == 200, reply.text
    return reply.json()


def _signed(account, text: str) -> str:
    return account.sign_message(encode_defunct(text=text)).signature.hex()


def _requester_message(challenge: dict) -> str:
    return requester_sign_in_message(SignInChallenge.model_validate(challenge))


def sign_in_requester(api: Api, account=None) -> tuple[object, dict[str, str]]:
    account = account or Account.create()
    challenge = _challenge(api, "requester", account)
    body = {
        "address": account.address,
        "nonce": challenge["nonce"],
        "signature": _signed(account, _requester_message(challenge)),
    }
    reply = api.client.post("/api/v1/requesters/login", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["token"].startswith("dgr_") and "payout" not in reply.json()
    return account, {"Authorization": f"Bearer {reply.json()['token']}"}


def _put(api: Api, content: bytes, headers: dict[str, str]):
    digest = hashlib.sha256(content).hexdigest()
    return api.client.put(f"/api/v1/data/{digest}", content=content, headers=headers)


def test_a_requester_stores_and_fetches_data(api: Api) -> None:
    _, requester = sign_in_requester(api)
    content = b"the input file of a task"
    digest = hashlib.sha256(content).hexdigest()
    assert _put(api, content, requester).status_code == 201
    assert _put(api, content, requester).status_code == 200  # stored again
    got = api.client.get(f"/api/v1/data/{digest}", headers=requester)
    assert got.status_code == 200 and got.content == content
    head = api.client.head(f"/api/v1/data/{digest}", headers=requester)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(content))


def test_the_two_sign_in_messages_never_coincide(api: Api) -> None:
    account = Account.create()
    challenge = SignInChallenge.model_validate(_challenge(api, "requester", account))
    worker_text, requester_text = (
        sign_in_message(challenge, None),
        requester_sign_in_message(challenge),
    )
    assert worker_text != requester_text
    assert requester_text.startswith("DeskGrid requester sign-in, version 1\n")
    assert f"\nRequester: {account.address}\n" in requester_text
    assert "Worker:" not in requester_text and "Payout:" not in requester_text
    assert "as a requester" in requester_text and "as a worker" in worker_text


def test_a_signed_worker_message_is_no_requester_sign_in(api: Api) -> None:
    account = Account.create()
    for role in ("requester", "worker"):  # the challenge of either kind, signed as a worker's
        challenge = _challenge(api, role, account)
        worker_text = Api.message(challenge)
        body = {
            "address": account.address,
            "nonce": challenge["nonce"],
            "signature": _signed(account, worker_text),
        }
        refused = api.client.post("/api/v1/requesters/login", json=body)
        assert refused.status_code == 401, refused.text


def test_a_signed_requester_message_is_no_worker_sign_in(api: Api) -> None:
    account = Account.create()
    for role in ("worker", "requester"):
        challenge = _challenge(api, role, account)
        body = {
            "address": account.address,
            "nonce": challenge["nonce"],
            "signature": _signed(account, _requester_message(challenge)),
            "capabilities": {"apps": ["echo"]},
        }
        refused = api.client.post("/api/v1/workers/login", json=body)
        assert refused.status_code == 401, refused.text


def test_a_requester_challenge_serves_no_worker_and_the_other_way_round(api: Api) -> None:
    """Even signed in the right form, a challenge is spent only by the sign-in it was for."""
    account = Account.create()
    challenge = _challenge(api, "worker", account)
    body = {
        "address": account.address,
        "nonce": challenge["nonce"],
        "signature": _signed(account, _requester_message(challenge)),
    }
    refused = api.client.post("/api/v1/requesters/login", json=body)
    assert refused.status_code == 401 and "requesters/challenge" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/jobs", {"app": "echo", "params": {"message": "m"}}),
        ("GET", "/api/v1/jobs", None),
        ("GET", "/api/v1/events", None),
        ("GET", "/api/v1/workers", None),
        ("POST", "/api/v1/work", {"max_leases": 1}),
        ("GET", "/api/v1/workers/me", None),
        ("POST", "/api/v1/leases/" + "0" * 32 + "/heartbeat", {}),
    ],
)
def test_a_requester_token_opens_nothing_but_data(api: Api, method, path, body) -> None:
    _, requester = sign_in_requester(api)
    reply = api.client.request(method, path, json=body, headers=requester)
    assert reply.status_code == 403, reply.text
    assert "only store and fetch data" in reply.json()["detail"]


def test_a_worker_token_stores_no_data_and_a_requester_sign_in_keeps_the_worker(
    api: Api,
) -> None:
    account, worker = api.login()
    _, requester = sign_in_requester(api, account)  # the same wallet, as a requester
    refused = _put(api, b"data", worker)
    assert refused.status_code == 403 and "Workers may not store data" in refused.json()["detail"]
    assert api.client.get("/api/v1/workers/me", headers=worker).status_code == 200
    assert _put(api, b"data", requester).status_code == 201


def test_each_wallet_has_its_own_daily_upload_quota(tmp_path) -> None:
    api = make_api(tmp_path, requester_upload_quota_bytes=1000, upload_quota_bytes=100)
    _, first = sign_in_requester(api)
    _, second = sign_in_requester(api)
    assert _put(api, b"a" * 600, first).status_code == 201  # the submitters' quota is not theirs
    refused = _put(api, b"b" * 600, first)
    assert refused.status_code == 429, refused.text
    detail = refused.json()["detail"]
    assert "today's upload quota" in detail and "--requester-upload-quota-mb" in detail
    assert int(refused.headers["Retry-After"]) > DAY - 10
    assert _put(api, b"c" * 400, first).status_code == 201  # what is left still fits
    assert _put(api, b"d" * 600, second).status_code == 201  # another wallet
    api.clock.advance(DAY)
    assert _put(api, b"b" * 600, first).status_code == 201  # a new day


def test_all_requesters_together_are_capped_per_hour(tmp_path) -> None:
    api = make_api(tmp_path, requester_upload_bytes_per_hour=1000)
    wallets = [sign_in_requester(api)[1] for _ in range(3)]
    assert _put(api, b"a" * 600, wallets[0]).status_code == 201
    api.clock.advance(600)
    refused = _put(api, b"b" * 600, wallets[1])
    assert refused.status_code == 429, refused.text
    detail = refused.json()["detail"]
    assert "an hour" in detail and "--requester-upload-mb-per-hour" in detail
    assert "Try again in 50 min" in detail
    assert HOUR - 600 - 2 <= int(refused.headers["Retry-After"]) <= HOUR - 600 + 2
    assert _put(api, b"c" * 400, wallets[2]).status_code == 201  # what is left still fits
    assert _put(api, b"d" * 600, api.submitter).status_code == 201  # submitters: not capped
    api.clock.advance(HOUR)
    assert _put(api, b"b" * 600, wallets[1]).status_code == 201  # a new hour


def test_a_refused_requester_upload_gives_back_both_reservations(tmp_path) -> None:
    api = make_api(
        tmp_path, requester_upload_quota_bytes=1000, requester_upload_bytes_per_hour=1000
    )
    _, requester = sign_in_requester(api)
    wrong = "0" * 64  # the bytes do not hash to the path: 400, nothing stored
    reply = api.client.put(f"/api/v1/data/{wrong}", content=b"x" * 700, headers=requester)
    assert reply.status_code == 400
    _, other = sign_in_requester(api)
    assert _put(api, b"y" * 300, other).status_code == 201  # 700 were counted (sent)
    assert _put(api, b"z", other).status_code == 429


def test_a_requester_token_expires(tmp_path) -> None:
    api = make_api(tmp_path, worker_token_ttl_s=100.0)
    _, requester = sign_in_requester(api)
    assert _put(api, b"early", requester).status_code == 201
    api.clock.advance(101)
    late = _put(api, b"late", requester)
    assert late.status_code == 401 and "requester token expired" in late.json()["detail"]


def test_a_wallet_keeps_its_newest_requester_tokens(tmp_path) -> None:
    api = make_api(tmp_path, login_rate_limit_burst=100.0)
    account, oldest = sign_in_requester(api)
    newer = []
    for _ in range(REQUESTER_TOKENS_KEPT):
        api.clock.advance(1)
        newer.append(sign_in_requester(api, account)[1])
    api.service.auth._cache.clear()  # as another server process would see it
    assert _put(api, b"1", oldest).status_code == 401
    assert _put(api, b"2", newer[0]).status_code == 201
    assert _put(api, b"3", newer[-1]).status_code == 201

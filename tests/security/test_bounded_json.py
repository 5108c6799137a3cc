"""Hostile JSON bodies against a real grid server process: nested 80,000 deep (which used to
kill the process: the decoder recursed until the C stack overflowed), too large, not UTF-8,
lone surrogates, NaN, numbers too large to be numbers, wrong types. Every one gets a 4xx,
and the server then still serves an honest worker."""

from __future__ import annotations

import pytest
from eth_account import Account

from deskgrid import boundedjson
from deskgrid.grid.client import GridClient
from tests.integration.grid.processes import TOKEN

from .netharness import grid_process, honest_round, http_request, port_of, post

pytestmark = pytest.mark.integration

DEEP = b"[" * 80_000  # about 80 KiB; the reported crash used 156 KiB of mixed brackets
DEEP_OBJECT = b'{"a":' * 40_000
ADDRESS = "0x" + "ab" * 20
LEASE = "0" * 32

HOSTILE = {
    "deep array": DEEP,
    "deep object": DEEP_OBJECT,
    "deep inside a valid body": b'{"address": "' + ADDRESS.encode() + b'", "x": ' + DEEP + b"}",
    "deep mixed": b'[{"a":' * 26_000,
    "too large": b'{"address": "' + b"a" * (2 << 20) + b'"}',
    "not utf-8": b'{"address": "\xff\xfe"}',
    "utf-8 encoded surrogate": b'{"address": "\xed\xa0\x80"}',
    "lone surrogate escape": b'{"address": "\\ud800"}',
    "lone low surrogate": b'{"name": "\\udc00x", "address": "' + ADDRESS.encode() + b'"}',
    "huge integer": b'{"address": ' + b"9" * 5000 + b"}",
    "long integer": b'{"address": "' + ADDRESS.encode() + b'", "n": ' + b"9" * 1000 + b"}",
    "huge float": b'{"address": 1e999999}',
    "nan": b'{"address": NaN}',
    "infinity": b'{"address": -Infinity}',
    "wrong type": b'{"address": ["0x", {"a": null}]}',
    "not an object": b"[1, 2, 3]",
    "null": b"null",
    "truncated": b'{"address": "0x',
    "trailing garbage": b'{"address": "0x"} xyz',
    "empty object": b"{}",
}


def test_the_pre_scan_finds_depth_without_recursion() -> None:
    assert boundedjson.nesting_depth(DEEP) == 80_000
    assert boundedjson.nesting_depth(b'["[[[[", {"a": "]]]\\"[["}]') == 2
    with pytest.raises(boundedjson.JsonRejected) as refused:
        boundedjson.loads(DEEP)
    assert refused.value.reason == "too_deep" and "nested deeper" in str(refused.value)
    assert boundedjson.loads(b"[" * 64 + b"]" * 64, max_depth=64) is not None
    with pytest.raises(boundedjson.JsonRejected):
        boundedjson.loads(b"[" * 65 + b"]" * 65, max_depth=64)
    for hostile in (b'"\\ud800"', b"NaN", b"1e400", b"1" * 500, b'"\xff"'):
        with pytest.raises(boundedjson.JsonRejected):
            boundedjson.loads(hostile)
    assert boundedjson.loads(b'"\\ud83d\\ude00 \\\\ud800"') == "\U0001f600 \\ud800"


async def test_deep_and_hostile_json_gets_4xx_and_the_grid_keeps_serving(tmp_path) -> None:
    with grid_process(tmp_path) as (proc, url):
        port = port_of(url)
        async with GridClient(url) as worker:
            await worker.authenticate(Account.create())
            worker_token = worker.token
        routes = [
            ("/api/v1/workers/challenge", None),
            ("/api/v1/workers/login", None),
            ("/api/v1/jobs", TOKEN),
            ("/api/v1/jobs", None),  # no token: refused before the body is read
            (f"/api/v1/jobs/{LEASE}/cancel", TOKEN),
            ("/api/v1/work", worker_token),
            ("/api/v1/work", "not-a-token"),
            (f"/api/v1/leases/{LEASE}/heartbeat", worker_token),
            (f"/api/v1/leases/{LEASE}/error", worker_token),
        ]
        answers = {}
        for path, token in routes:
            for name, body in HOSTILE.items():
                status, _ = http_request(port, post(path, body, token))
                answers[(path, bool(token), name)] = status
                assert proc.popen.poll() is None, f"{path} {name}: the server died"
        bad = {where: status for where, status in answers.items() if not 400 <= status < 500}
        assert not bad, bad
        status, body = http_request(port, post("/api/v1/workers/challenge", DEEP))
        assert status == 422 and b"nested deeper than 64" in body
        # the token is checked before any of the body is read: headers announcing a body
        # that never comes get their 401 at once (else: a wait for the body until it times out)
        for path in ("/api/v1/work", "/api/v1/jobs", f"/api/v1/leases/{LEASE}/heartbeat"):
            head = post(path, b"", "expired-token").replace(
                b"Content-Length: 0", b"Content-Length: 900000"
            )
            status, body = http_request(port, head, wait_s=10.0)
            assert status == 401, (path, status, body)
        assert await honest_round(url) == "COMPLETED"

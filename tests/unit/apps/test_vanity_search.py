"""Real (short) searches, hit resolution, split-key, the verifier and combine."""

from __future__ import annotations

import json

import coincurve
import pytest

from deskgrid.apps.registry import get_app
from deskgrid.apps.sdk import AppParamsError, RunContext
from deskgrid.apps.vanity.hashing import hash160
from deskgrid.apps.vanity.keys import address_from_private_key, wif_decode, wif_encode
from deskgrid.apps.vanity.parallel import search
from deskgrid.apps.vanity.pattern import compile_patterns
from deskgrid.apps.vanity.search import Searcher
from deskgrid.apps.vanity.secp256k1 import N
from deskgrid.apps.vanity.splitkey import combine, final_public_key, split_address_matches
from deskgrid.errors import DeskGridError

SECRET = 0x1D2C3B4A5968778695A4B3C2D1E0F00112233445566778899AABBCCDDEEFF00
REQUESTER = coincurve.PrivateKey.from_int(SECRET).public_key
VANITY = get_app("vanity")


@pytest.mark.parametrize("compressed", [True, False])
def test_full_key_search(compressed: bool) -> None:
    result = search(compile_patterns(["1Ab"]), compressed=compressed)
    match = result.match
    assert match is not None and match.address.startswith("1Ab")
    assert address_from_private_key(match.scalar, compressed) == match.address
    assert result.keys_tried > 0


def test_split_key_search_and_combine() -> None:
    result = search(compile_patterns(["1Ab"]), base=REQUESTER)
    match = result.match
    assert match is not None and match.split
    assert split_address_matches(REQUESTER, match.scalar, match.address)
    final, wif = combine(SECRET, match.scalar, match.address)
    assert address_from_private_key(final) == match.address
    assert wif_decode(wif) == (final, True)
    assert final == (match.multiplier * SECRET + match.scalar) % N


def test_combine_with_the_wrong_secret_is_a_sentence() -> None:
    match = search(compile_patterns(["1A"]), base=REQUESTER).match
    assert match is not None
    with pytest.raises(DeskGridError, match="do not give the address"):
        combine(SECRET + 1, match.scalar, match.address)


def test_case_insensitive_and_several_patterns() -> None:
    match = search(compile_patterns(["1ab"], case_insensitive=True)).match
    assert match is not None and match.address.lower().startswith("1ab")
    match = search(compile_patterns(["1Xy", "1Ab"])).match
    assert match is not None and match.address[:3] in ("1Xy", "1Ab")


def test_two_cores() -> None:
    seen: list[tuple[int, float]] = []
    result = search(compile_patterns(["1Ab"]), cores=2, on_progress=lambda *a: seen.append(a))
    assert result.match is not None and result.match.address.startswith("1Ab")
    assert result.keys_tried > 0


def test_stop_before_a_match() -> None:
    result = search(compile_patterns(["1LoVEyou"]), should_stop=lambda: True)
    assert result.match is None


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("compressed", [True, False])
def test_every_candidate_resolves_to_its_key(split: bool, compressed: bool) -> None:
    """With a pattern every address has, all six candidates of every point are hits; each
    must resolve to a key (or partial key) whose address is the candidate's."""
    base = REQUESTER if split else None
    searcher = Searcher(compile_patterns(["1"]), compressed=compressed, base=base, half_group=3)
    k = 0xABCDEF0123456789 * 2**100
    point = coincurve.PublicKey.from_secret(k.to_bytes(32, "big"))
    if split:
        point = coincurve.PublicKey.combine_keys([REQUESTER, point])
    xs, ys = searcher.group_points(*point.point())
    hits = searcher.scan(xs, ys)
    assert len(hits) == 7 * 6
    addresses = set()
    for t, digest in hits:
        match = searcher.resolve(k, t, digest)
        assert match is not None
        if split:
            pub = final_public_key(REQUESTER, match.scalar, match.multiplier, compressed)
            assert hash160(pub) == digest
            final = (match.multiplier * SECRET + match.scalar) % N
            assert address_from_private_key(final, compressed) == match.address
        else:
            assert address_from_private_key(match.scalar, compressed) == match.address
        addresses.add(match.address)
    assert len(addresses) == 42


# -- the app: params, run, verifier ------------------------------------------------------------
def test_validate_normalises() -> None:
    params = VANITY.validate({"pattern": "1Ab", "public_key": REQUESTER.format(False).hex()})
    assert params == {
        "patterns": ["1Ab"],
        "case_insensitive": False,
        "compressed": True,
        "public_key": REQUESTER.format().hex(),
        "full_key": False,
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"patterns": ["1Ab"]}, "Give your public key"),
        ({"patterns": ["1Ab"], "public_key": "02abc"}, "public key is not usable"),
        ({"patterns": ["1Ab"], "full_key": True, "x": 1}, "does not know the parameter"),
        ({"patterns": 3, "full_key": True}, "a list of address prefixes"),
        ({"patterns": ["1A"] * 17, "full_key": True}, "at most 16 patterns"),
        ({"patterns": ["1O"], "full_key": True}, "invalid character 'O'"),
        ({"patterns": ["1A"], "full_key": "yes"}, "true or false"),
    ],
)
def test_validate_messages(params: dict, message: str) -> None:
    with pytest.raises(AppParamsError, match=message):
        VANITY.validate(params)


def _run(params: dict, tmp_path) -> bytes:
    events: list[dict] = []
    ctx = RunContext(workdir=tmp_path, report=events.append)
    result = VANITY.load_run_function()(VANITY.validate(params), ctx)
    assert events[-1]["progress"] == 1.0
    return result


def test_app_split_key_result_verifies(tmp_path) -> None:
    params = VANITY.validate({"patterns": ["1A"], "public_key": REQUESTER.format().hex()})
    result = _run(params, tmp_path)
    doc = json.loads(result)
    assert set(doc) >= {"address", "partial_private_key", "keys_tried", "seconds"}
    assert "wif" not in doc
    assert VANITY.verify(params, result)
    tampered = dict(doc, partial_private_key=f"{int(doc['partial_private_key'], 16) + 1:064x}")
    assert not VANITY.verify(params, json.dumps(tampered).encode())
    other = VANITY.validate({"patterns": ["1B"], "public_key": REQUESTER.format().hex()})
    assert not VANITY.verify(other, result)  # the address does not have the prefix


def test_app_full_key_result_verifies(tmp_path) -> None:
    params = VANITY.validate({"patterns": ["1A"], "full_key": True, "compressed": False})
    result = _run(params, tmp_path)
    doc = json.loads(result)
    assert VANITY.verify(params, result)
    key, _ = wif_decode(doc["wif"])
    forged = dict(doc, wif=wif_encode(key + 1, compressed=False))
    assert not VANITY.verify(params, json.dumps(forged).encode())
    as_compressed = dict(params, compressed=True)
    assert not VANITY.verify(as_compressed, result)


@pytest.mark.parametrize("junk", [b"", b"not json", b"[]", b'{"address": 5}', b"x" * 5000])
def test_verifier_rejects_junk(junk: bytes) -> None:
    params = VANITY.validate({"patterns": ["1A"], "full_key": True})
    assert not VANITY.verify(params, junk)


def test_estimate() -> None:
    figures = VANITY.estimate({"patterns": ["1LoVE"]})
    assert figures["difficulty"] == 4_476_342
    assert figures["expected_seconds_one_core"] > 0

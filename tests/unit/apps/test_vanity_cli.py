"""`deskgrid vanity` and `deskgrid vanity-combine`."""

from __future__ import annotations

import io
import json

import coincurve
import pytest

from deskgrid.apps.vanity.keys import address_from_private_key, wif_decode, wif_encode
from deskgrid.cli import main


def test_vanity_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vanity", "1Ab", "--json", "--cores", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"address", "wif", "keys_tried", "seconds"}
    key, compressed = wif_decode(doc["wif"])
    assert compressed and address_from_private_key(key) == doc["address"]
    assert doc["address"].startswith("1Ab")


def test_vanity_text_uncompressed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vanity", "1a", "-i", "--uncompressed", "--cores", "1"]) == 0
    out = capsys.readouterr().out
    assert "Address: 1" in out and "Private key (WIF): 5" in out


def test_vanity_invalid_pattern_is_a_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vanity", "1O"]) == 2
    err = capsys.readouterr().err
    assert "invalid character 'O'" in err and "Traceback" not in err


def test_vanity_bad_split_key(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:  # refused while parsing
        main(["vanity", "1A", "--split-key", "0299"])
    assert exit_info.value.code == 2
    assert "--split-key public key is not usable" in capsys.readouterr().err


def test_split_key_then_combine(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = 123456789123456789
    pub = coincurve.PrivateKey.from_int(secret).public_key.format().hex()
    assert main(["vanity", "1A", "--split-key", pub, "--json", "--cores", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"address", "partial_private_key", "keys_tried", "seconds"}
    monkeypatch.setattr("sys.stdin", io.StringIO(wif_encode(secret) + "\n"))
    assert main(["vanity-combine", doc["address"], doc["partial_private_key"], "--json"]) == 0
    final = json.loads(capsys.readouterr().out)
    key, _ = wif_decode(final["wif"])
    assert address_from_private_key(key) == doc["address"]


def test_combine_wrong_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(wif_encode(42) + "\n"))
    address = address_from_private_key(7)
    assert main(["vanity-combine", address, "ab" * 32]) == 2
    assert "do not give the address" in capsys.readouterr().err

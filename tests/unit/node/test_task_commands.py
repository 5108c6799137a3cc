"""`deskgrid tasks` checks its values before connecting to anything, each with a sentence."""

from __future__ import annotations

import pytest

from deskgrid.cli import build_parser

HUB = "0x2946259E0334f33A064106302415aD3391BeD384"
WHERE = ["--chain", "http://127.0.0.1:8545", "--hub", HUB, "--key-file", "k.json"]


@pytest.fixture(autouse=True)
def _key_file(tmp_path, monkeypatch):
    """`--key-file k.json` names an existing file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k.json").write_text("{}")


def parse(capsys, *argv: str):
    return build_parser().parse_args(["tasks", *argv])


def refused(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        parse(capsys, *argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_list_is_the_default_and_ids_are_prefixes(capsys):
    args = parse(capsys, *WHERE)
    assert (args.action, args.id) == ("list", None)
    args = parse(capsys, "show", "0xABCD12", *WHERE, "--json")
    assert (args.action, args.id, args.json) == ("show", "abcd12", True)


def test_bad_values_are_refused_with_a_sentence(capsys):
    assert "at least 4 hex digits" in refused(capsys, "show", "xyz!", *WHERE)
    assert "invalid choice" in refused(capsys, "pay", "abcd", *WHERE)
    bad_url = ["--chain", "ftp://x", "--hub", HUB, "--key-file", "k.json"]
    assert "RPC URL" in refused(capsys, *bad_url)
    bad_hub = ["--chain", "http://127.0.0.1:8545", "--hub", "0x12", "--key-file", "k.json"]
    assert "hub contract address" in refused(capsys, *bad_hub)
    assert "--key-file" in refused(capsys, "--chain", "http://127.0.0.1:8545", "--hub", HUB)

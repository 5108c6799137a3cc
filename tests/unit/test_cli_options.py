"""Every option of every `deskgrid` subcommand that takes a value refuses hostile values at
parse time with a one-line sentence (argparse's exit code 2, no traceback), or accepts them on
purpose (ALLOWED below, each with its reason). The walk covers the whole command tree, so an
option added later without an argparse type (or `choices`) fails here."""

from __future__ import annotations

import argparse
import os

import pytest

from deskgrid.cli import build_parser, walk_parsers

HUB = "0x2946259E0334f33A064106302415aD3391BeD384"

HOSTILE = (
    "-2",
    "0",
    "-1.5",
    "99999",
    "99999999999999999999999",
    "1e309",
    "nan",
    "abc",
    "",
    "   ",
    "notaurl",
    "0xdead",
    "http://127.0.0.1:99999",
    "garbage",
)

# Hostile values some options accept on purpose: any text (a name), a long text (a token).
ANY_NAME = {"abc", "notaurl", "0xdead", "garbage", "99999", "-2", "0", "-1.5", "nan", "1e309"}
ANY_NAME |= {"99999999999999999999999", "http://127.0.0.1:99999"}
LONG_TEXT = {"99999999999999999999999", "http://127.0.0.1:99999"}
RESULT_FILE = ANY_NAME - {"http://127.0.0.1:99999"}
# Options for which 99999 is an ordinary value (a number of seconds, MiB, requests/s, ...):
# 99999 is hostile for ports only.
NUMBERS = {
    "grid serve": (
        "--delay-bound --rate-limit --address-rate-limit --login-rate-limit --job-retention "
        "--event-retention --data-grace --upload-quota --min-free-disk --lease-grace "
        "--quota-max --quota-start --quota-min --max-active-leases --leases-per-core "
        "--max-connections --max-connections-per-address --chain-id --min-body-rate "
        "--requester-upload-quota-mb --requester-upload-mb-per-hour"
    ),
    "worker": "--min-free-disk-mb --max-input-mb --give-up-after --image-cache-mb",
    "oracle": "--pool",
    "wallet send": "--amount",
    "run vanity": "--retry-for",
    "run app": "--retry-for",
    "app publish": "--price",
}
# (subcommand path, option) -> (hostile values accepted, why)
ALLOWED: dict[tuple[str, str], tuple[set[str], str]] = {
    ("grid serve", "--port"): ({"0"}, "0 asks for a free port"),
    ("grid serve", "--submitter-token"): (LONG_TEXT, "any 16+ printable characters"),
    ("grid workers", "--grid-token"): (LONG_TEXT, "any 16+ printable characters"),
    ("oracle", "--grid-token"): (LONG_TEXT, "any 16+ printable characters"),
    ("grid serve", "--host"): (
        {"abc", "notaurl", "0xdead", "garbage", "nan", "1e309"},
        "a host name: whether it resolves is known when listening",
    ),
    ("grid serve", "--data-dir"): (
        {"abc", "notaurl", "0xdead", "garbage", "99999", "-2", "0", "-1.5", "nan", "1e309"}
        | {"99999999999999999999999"},
        "a new folder in the current one is a valid data folder (it is created)",
    ),
    ("grid serve", "--rate-limit"): ({"0"}, "0 turns the per-worker limit off"),
    ("grid serve", "--address-rate-limit"): ({"0"}, "0 turns the limit off"),
    ("grid serve", "--login-rate-limit"): ({"0"}, "0 turns the limit off"),
    ("grid serve", "--job-retention"): ({"0"}, "0 removes finished jobs at once"),
    ("grid serve", "--event-retention"): ({"0"}, "0 keeps no events"),
    ("grid serve", "--data-grace"): ({"0"}, "0: no grace for unreferenced data"),
    ("grid serve", "--spot-check-rate"): ({"0"}, "0: no spot checks"),
    ("grid serve", "--lease-grace"): ({"0"}, "0: a lease ends with its app's max run time"),
    ("grid serve", "--upload-quota"): ({"0"}, "0: no quota"),
    ("grid serve", "--min-free-disk"): ({"0"}, "0: no floor"),
    ("grid serve", "--min-body-rate"): ({"0"}, "0 turns the body rate floor off"),
    ("worker", "--state-dir"): (
        ANY_NAME - {"http://127.0.0.1:99999"},
        "a new folder in the current one is a valid state folder (it is created)",
    ),
    ("worker", "--min-free-disk-mb"): ({"0"}, "0 turns the floor off"),
    ("worker", "--give-up-after"): ({"0"}, "0: retry for ever"),
    ("oracle", "--confirmations"): ({"0"}, "0: take tasks from the newest block"),
    ("wallet create", "--name"): (ANY_NAME, "any printable text is a wallet name"),
    ("wallet import", "--name"): (ANY_NAME, "any printable text is a wallet name"),
    ("wallet send", "--from"): (ANY_NAME, "a wallet's name: looked up when sending"),
    ("wallet stake", "--from"): (ANY_NAME, "a wallet's name: looked up when staking"),
    ("wallet unstake", "--from"): (ANY_NAME, "a wallet's name: looked up when unstaking"),
    ("demo", "--workers"): ({"0"}, "0: no local worker (a remote one may join)"),
    ("demo", "--port"): ({"0"}, "0 asks for a free port"),
    ("run vanity", "--pattern"): (
        ANY_NAME,
        "checked against the app's alphabet before paying (a sentence, exit 2: see test_node_cli)",
    ),
    ("run vanity", "--retry-for"): ({"0"}, "0: no retry"),
    ("run app", "--retry-for"): ({"0"}, "0: no retry"),
    ("run app", "--to"): (RESULT_FILE, "a new file in the current folder is a valid result file"),
    ("tasks", "--to"): (RESULT_FILE, "a new file in the current folder is a valid result file"),
    ("grid serve", "--requester-upload-quota-mb"): ({"0"}, "0: no quota"),
    ("grid serve", "--requester-upload-mb-per-hour"): ({"0"}, "0: no cap"),
    ("app publish", "--price"): ({"0"}, "0: a free app"),
    ("app publish", "--image"): (
        {"abc", "notaurl", "0xdead", "garbage", "99999", "0", "nan", "1e309"}
        | {"99999999999999999999999"},
        "a Docker image name: whether the daemon has it is known when publishing",
    ),
}

# Valid values for the options a subcommand requires (or needs beside the tested one).
GOOD: dict[str, str] = {
    "--chain": "http://127.0.0.1:8545",
    "--hub": HUB,
    "--grid": "http://127.0.0.1:8750",
    "--to": HUB,
    "--amount": "1",
    "--from": "Main",
    "--pattern": "1A",
    "--prompt": "private-key",
    "--price": "1",
}
POSITIONALS: dict[str, list[str]] = {
    "vanity": ["1A"],  # `deskgrid vanity PATTERN`
    "vanity-combine": ["1Address", "00"],
    "wallet stake": ["1"],  # `deskgrid wallet stake AMOUNT`
    "wallet unstake": ["all"],
    "app show": ["1"],  # `deskgrid app show ID`
    "app set-price": ["1", "2.5"],
    "app retire": ["1"],
    "run app": ["1"],  # `deskgrid run app ID`
}


def commands() -> list[tuple[str, argparse.ArgumentParser]]:
    """(path, parser) for every subcommand that runs something: the leaves, and a command
    whose actions are optional (`worker` runs; `worker withdraw` is another command)."""
    found: list[tuple[str, argparse.ArgumentParser]] = []

    def walk(path: list[str], parser: argparse.ArgumentParser) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or not subs[0].required:
            found.append((" ".join(path), parser))
        if not subs:
            return
        for name, sub in subs[0].choices.items():
            if sub not in [p for _, p in found]:
                walk([*path, name], sub)

    walk([], build_parser())
    return [(path, parser) for path, parser in found if path]


def valued_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if a.option_strings and a.nargs != 0 and not isinstance(a, argparse._HelpAction)
    ]


FILE_OPTIONS = {"--key-file", "--private-key-file", "--mnemonic-file", "--keystore", "--manifest"}


def base_line(parser: argparse.ArgumentParser, path: str, tested: argparse.Action, key_file):
    """A valid command line for `path`: its positionals, its required options and one member
    of each required group (`tested` itself when it is one), each with a good value."""

    def good(action: argparse.Action) -> list[str]:
        option = action.option_strings[-1]
        return [option, str(key_file) if option in FILE_OPTIONS else GOOD[option]]

    line = path.split() + POSITIONALS.get(path, [])
    for group in parser._mutually_exclusive_groups:
        if group.required:
            members = group._group_actions
            line += good(tested if tested in members else members[-1])
    for action in parser._actions:
        if action.option_strings and action.required:
            line += good(action)
    return line


CASES = [
    (path, action.option_strings[-1])
    for path, parser in commands()
    for action in valued_options(parser)
]


def test_the_walk_sees_every_subcommand():
    paths = {path for path, _ in commands()}
    assert {"grid serve", "grid workers", "worker", "oracle", "chain deploy", "demo"} <= paths
    assert {"run vanity", "tasks", "wallet send", "wallet import", "vanity"} <= paths
    assert len(CASES) > 60


@pytest.mark.parametrize(("path", "option"), CASES, ids=[f"{p} {o}" for p, o in CASES])
def test_every_option_refuses_hostile_values_with_a_sentence(
    path, option, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)  # relative paths point into an empty folder
    key_file = tmp_path / "key.json"
    key_file.write_text("{}")
    parser = dict(commands())[path]
    [action] = [a for a in valued_options(parser) if option in a.option_strings]
    assert action.type is not None or action.choices is not None, (
        f"`deskgrid {path} {option}` has no argparse type: give it one from deskgrid.argtypes"
    )
    allowed, _reason = ALLOWED.get((path, option), (set(), ""))
    if option in NUMBERS.get(path, "").split():
        allowed = allowed | {"99999"}
    base = base_line(parser, path, action, key_file)
    build_parser().parse_args(base)  # the line without the tested option is valid
    capsys.readouterr()
    for value in HOSTILE:
        try:
            build_parser().parse_args([*base, option, value])
        except SystemExit as exc:
            code = exc.code
        else:
            assert value in allowed, f"`deskgrid {path} {option} {value!r}` was accepted"
            continue
        err = capsys.readouterr().err
        assert code == 2, f"{path} {option} {value!r}: {err}"
        errors = [line for line in err.splitlines() if "error:" in line]
        assert len(errors) == 1 and "Traceback" not in err, err
        message = errors[0].split("error:", 1)[1].strip()
        assert message.startswith(f"argument {option}"), message
        assert len(message) > len(f"argument {option}: ") + 10, message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.json"]  # nothing was created


def test_the_allow_list_names_only_real_options():
    assert set(ALLOWED) <= set(CASES)
    assert {(path, o) for path, options in NUMBERS.items() for o in options.split()} <= set(CASES)


def test_nothing_is_created_by_refused_paths(tmp_path, monkeypatch, capsys):
    """`oracle --db garbage` is refused and leaves no file named garbage behind."""
    monkeypatch.chdir(tmp_path)
    line = ["oracle", "--chain", GOOD["--chain"], "--hub", HUB, "--grid", GOOD["--grid"]]
    for value in ("garbage", "nowhere/oracle.sqlite", str(tmp_path)):
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args([*line, "--db", value])
        assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "a new one ending in .sqlite" in err and "does not exist" in err
    assert list(tmp_path.iterdir()) == []
    args = build_parser().parse_args([*line, "--db", "oracle.sqlite"])
    assert args.db.name == "oracle.sqlite"


def test_cores_beyond_this_computer_are_refused(capsys):
    too_many = str((os.cpu_count() or 1) + 1)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["worker", "--grid", GOOD["--grid"], "--cores", too_many])
    assert "this computer's at most" in capsys.readouterr().err
    args = build_parser().parse_args(["worker", "--grid", GOOD["--grid"], "--cores", "1"])
    assert args.cores == 1


def test_every_help_shows_the_defaults():
    for parser in walk_parsers(build_parser()):
        formatter = parser._get_formatter()
        for action in valued_options(parser):
            if action.default in (None, [], argparse.SUPPRESS) or action.help is None:
                continue
            if action.help == argparse.SUPPRESS:
                continue
            shown = formatter._get_help_string(action) % {"default": action.default}
            assert "default" in shown, (parser.prog, action.option_strings)


def test_the_operator_commands_describe_themselves(capsys):
    for command in ("oracle", "demo"):
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args([command, "--help"])
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        description = text.split("\n\n")[1]  # after the usage
        assert not description.startswith("options:") and len(description) > 100, text
        assert "(default: " in text


def test_every_positional_argument_has_a_type_too():
    for path, parser in commands():
        for action in parser._actions:
            if action.option_strings or isinstance(action, argparse._SubParsersAction):
                continue
            assert action.type is not None or action.choices is not None, (path, action.dest)


def test_run_vanity_takes_a_trust_level_named_in_its_help(capsys):
    line = ["run", "vanity", "--pattern", "1A", "--demo"]
    assert build_parser().parse_args(line).trust == 1  # VanityGen results are verified
    assert build_parser().parse_args([*line, "--trust", "4"]).trust == 4
    for bad in ("0", "6", "2.5", "high"):
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args([*line, "--trust", bad])
        assert exit_info.value.code == 2
        assert "argument --trust: " in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args([*line, "--trust", "6"])
    assert "Give a trust level from 1 to 5, not 6." in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "vanity", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "1 verified, 2 standard, 3 high, 4 very high, 5 maximum" in text
    assert "table of trust levels" in text and "level x the pool fee" in text

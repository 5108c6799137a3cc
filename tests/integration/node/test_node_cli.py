"""The local node from the command line: `deskgrid run vanity --demo --json` and
`deskgrid demo --headless`, as real processes."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest

from deskgrid.apps.vanity.keys import address_from_private_key, wif_decode

pytestmark = pytest.mark.integration


def deskgrid(*args: str, home, env_extra: dict | None = None, **kw) -> subprocess.Popen:
    env = dict(os.environ, DESKGRID_HOME=str(home), **(env_extra or {}))
    return subprocess.Popen(
        [sys.executable, "-m", "deskgrid.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kw,
    )


def test_run_vanity_demo_pays_and_returns_a_key_only_the_requester_knows(tmp_path):
    proc = deskgrid("run", "vanity", "--pattern", "1Ab", "--demo", "--json", home=tmp_path)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert set(report) >= {"task_id", "status", "address", "wif", "cost_nrlc", "seconds"}
    assert report["status"] == "COMPLETED"
    assert report["cost_nrlc"] == 5_000_000_000
    assert report["address"].startswith("1Ab")
    key, compressed = wif_decode(report["wif"])
    assert address_from_private_key(key, compressed) == report["address"]


def test_run_vanity_shows_the_price_of_the_trust_level_before_paying_it(tmp_path):
    proc = deskgrid("run", "vanity", "--pattern", "1Ab", "--demo", "--trust", "3", home=tmp_path)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("paid "):
                break
    finally:
        proc.send_signal(signal.SIGINT)  # what happens next is the grid's and the oracle's
        _out, err = proc.communicate(timeout=60)
    [price] = [line for line in lines if line.startswith("price ")]
    assert lines.index(price) < len(lines) - 1, "".join(lines) + err
    assert price.startswith(
        "price 7 RLC (4 RLC for the app + 3 x 1 RLC pool fee (trust level 3, high)); "
        "network fee up to "
    ), price
    assert lines[-1].startswith("paid 7 RLC: task 0x"), "".join(lines) + err
    assert "Traceback" not in err


def test_run_vanity_refuses_an_impossible_pattern_before_paying(tmp_path):
    proc = deskgrid("run", "vanity", "--pattern", "1O0", "--demo", home=tmp_path)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "Base58" in err and "Traceback" not in err


def test_demo_headless_starts_and_stops_on_ctrl_c(tmp_path):
    proc = deskgrid("demo", "--headless", home=tmp_path)
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("ready"):
            break
    text = "".join(lines)
    assert "ready" in text, proc.stderr.read()
    assert "hub        0x" in text and "grid       http://127.0.0.1:" in text
    assert "rpc        http://127.0.0.1:" in text
    # the command it prints to paste works as printed: a paid task over its RPC URL
    [printed] = [line.strip() for line in lines if "deskgrid run vanity" in line]
    assignment, command = printed.split(" ", 1)
    name, value = assignment.split("=", 1)
    argv = shlex.split(command)
    assert argv[0] == "deskgrid"
    run = subprocess.run(
        [sys.executable, "-m", "deskgrid", *argv[1:], "--json"],
        capture_output=True,
        text=True,
        timeout=240,
        env=dict(os.environ, DESKGRID_HOME=str(tmp_path / "elsewhere"), **{name: value}),
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["status"] == "COMPLETED" and report["address"].startswith("1Ab")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped" in out


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (("demo", "--headless", "--port", "99999"), "a port (0 for any free one) from 0 to 65535"),
        (("demo", "--headless", "--workers", "-2"), "from 0 to 64, not -2"),
        (("run", "vanity", "--pattern", "1A", "--demo", "--workers", "0"), "from 1 to 64"),
        (("run", "vanity", "--pattern", "1A", "--chain", "notaurl"), "must be an http://"),
        (("run", "vanity", "--pattern", "1A", "--chain", "http://h", "--hub", "0xdead"), "0x"),
        (("run", "vanity", "--pattern", " ", "--demo"), "Give an address prefix"),
        (("run", "vanity", "--pattern", "1A", "--demo", "--trust", "6"), "a trust level from 1"),
    ],
)
def test_bad_values_are_refused_with_a_sentence_before_anything_starts(tmp_path, args, sentence):
    proc = deskgrid(*args, home=tmp_path)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert sentence in err and "Traceback" not in err

"""Commands that cannot do their work end with one or two sentences on standard error and a
non-zero exit code, never a traceback and never a loop without end: each is a real
`python -m deskgrid …` process."""

from __future__ import annotations

import socket

import pytest

from deskgrid.chain.anvil import AnvilNode, find_anvil
from tests.conftest import require

from .test_node_cli import deskgrid

pytestmark = pytest.mark.integration

NOWHERE = "0x2946259E0334f33A064106302415aD3391BeD384"  # no contract there on a new chain


def finished(proc, timeout: float = 120) -> tuple[str, list[str]]:
    """Standard output and the lines of standard error."""
    out, err = proc.communicate(timeout=timeout)
    assert "Traceback" not in err, err
    return out, [line for line in err.splitlines() if line]


@pytest.fixture(scope="module")
def anvil():
    require(find_anvil() is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    node = AnvilNode().start()
    yield node
    node.stop()


def test_a_worker_whose_grid_never_answers_gives_up_with_a_sentence(tmp_path):
    proc = deskgrid("worker", "--grid", "http://127.0.0.1:1", "--give-up-after", "3", home=tmp_path)
    out, said = finished(proc)
    assert proc.returncode != 0
    assert "Cannot reach the grid at http://127.0.0.1:1" in out  # what it waits for
    assert "Trying again in" in out
    assert len(said) == 1, said
    assert said[0].startswith("deskgrid: No grid answered at http://127.0.0.1:1 for ")
    assert "start the worker again" in said[0]


def test_a_worker_refuses_a_grid_that_is_not_a_url_before_starting(tmp_path):
    proc = deskgrid("worker", "--grid", "notaurl", home=tmp_path)
    out, said = finished(proc, 60)
    assert proc.returncode == 2 and out == ""
    assert "argument --grid: The grid URL must be an http:// or https:// address" in said[-1]


def test_oracle_with_no_hub_at_the_address_says_so(tmp_path, anvil):
    proc = deskgrid(
        "oracle", "--chain", anvil.url, "--hub", NOWHERE, "--grid", "http://127.0.0.1:1",
        "--db", str(tmp_path / "oracle.sqlite"), home=tmp_path,
    )  # fmt: skip
    _out, said = finished(proc)
    assert proc.returncode != 0
    assert len(said) == 1, said
    assert f"no hub contract at {NOWHERE} on chain 31337" in said[0]
    assert not (tmp_path / "oracle.sqlite").exists()


def test_run_vanity_with_no_hub_at_the_address_says_so_before_paying(tmp_path, anvil):
    key = tmp_path / "key.json"
    key.write_text("{}")
    proc = deskgrid(
        "run", "vanity", "--pattern", "1A", "--chain", anvil.url, "--hub", NOWHERE,
        "--key-file", str(key), home=tmp_path,
    )  # fmt: skip
    _out, said = finished(proc)
    assert proc.returncode != 0
    assert len(said) == 1, said
    assert f"no hub contract at {NOWHERE} on chain 31337" in said[0]


def test_oracle_refuses_a_database_path_that_is_no_database(tmp_path):
    proc = deskgrid(
        "oracle", "--chain", "http://127.0.0.1:1", "--hub", NOWHERE, "--grid",
        "http://127.0.0.1:1", "--db", "garbage", home=tmp_path, cwd=tmp_path,
    )  # fmt: skip
    _out, said = finished(proc, 60)
    assert proc.returncode == 2
    assert "argument --db: The oracle database must be an existing file or a new one" in said[-1]
    assert not (tmp_path / "garbage").exists()


@pytest.mark.parametrize("command", [("grid", "serve"), ("demo", "--headless")])
def test_a_port_in_use_gets_a_sentence(tmp_path, command):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = deskgrid(*command, "--port", str(port), home=tmp_path)
        _out, said = finished(proc, 180)
    assert proc.returncode != 0
    errors = [line for line in said if not line.startswith("…")]
    assert errors == [
        f"deskgrid: Cannot listen on 127.0.0.1:{port} (Address already in use); "
        "choose another --port."
    ]

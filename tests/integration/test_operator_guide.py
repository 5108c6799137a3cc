"""docs/operator.md's walk-through, run as written: every ```bash block after a
`<!-- walkthrough … -->` comment, in order, with bash, as a reader would paste them.

The markers:
- `<!-- walkthrough: every terminal -->`: lines the reader pastes in every terminal first;
  they run at the start of every later block.
- `<!-- walkthrough -->`: a step that ends by itself; it must exit 0.
- `<!-- walkthrough: background, ready "TEXT" -->`: a long-running step ("in a new
  terminal"); the walk-through goes on once a line of its output holds TEXT. The last step
  ("Stopping") is Ctrl-C in each terminal, the last one started first: the test sends SIGINT to
  each in that order and each must stop.

Each block runs in a bash of its own (a new terminal) in one temporary folder, with a
temporary DESKGRID_HOME, `deskgrid` and anvil on PATH and free ports in CHAIN_PORT and
GRID_PORT (the guide reads them with the usual ports as defaults). A wrong command, a
missing option or a ready line that never comes fails the test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from deskgrid.apps.vanity.keys import address_from_private_key, wif_decode
from deskgrid.chain.anvil import find_anvil, free_port
from tests.conftest import REPO_ROOT, require
from tests.integration.grid.processes import Proc

pytestmark = pytest.mark.integration

GUIDE = REPO_ROOT / "docs" / "operator.md"
BLOCK = re.compile(
    r"<!-- walkthrough(?::\s*(?P<spec>[^>]*?))?\s*-->\n```bash\n(?P<body>.*?)\n```", re.S
)
BACKGROUND = re.compile(r'background, ready "(?P<ready>[^"]+)"')
STEP_TIMEOUT_S = 120
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30


@dataclass(frozen=True)
class Step:
    script: str
    ready: str | None = None  # a background step's ready text


def walkthrough(text: str) -> tuple[str, list[Step]]:
    """The every-terminal lines and the steps, in the guide's order."""
    prefix = ""
    steps: list[Step] = []
    for match in BLOCK.finditer(text):
        spec, body = (match["spec"] or "").strip(), match["body"]
        if spec == "every terminal":
            prefix += body + "\n"
        elif spec == "":
            steps.append(Step(body))
        elif background := BACKGROUND.fullmatch(spec):
            steps.append(Step(body, background["ready"]))
        else:
            raise AssertionError(f"unknown walk-through marker in {GUIDE.name}: {spec!r}")
    return prefix, steps


def test_the_guide_has_a_walkthrough_of_every_part() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    prefix, steps = walkthrough(text)
    section = text.split("## Walk-through", 1)[1].split("\n## ", 1)[0]
    assert section.count("```bash") == len(BLOCK.findall(section)), "a bash block is unmarked"
    assert "DESKGRID_KEY_PASSWORD" in prefix
    started = [s.script.split()[0] for s in steps if s.ready]
    assert started == ["anvil", "deskgrid", "deskgrid", "deskgrid"]
    commands = " ".join(s.script for s in steps)
    for command in (
        "deskgrid chain deploy",
        "deskgrid grid serve",
        "deskgrid oracle",
        "deskgrid worker",
        "deskgrid wallet create",
        "deskgrid wallet send",
        "deskgrid run vanity",
    ):
        assert command in commands, f"the walk-through never runs {command}"


@pytest.fixture
def shell_env(tmp_path: Path, deskgrid_home: Path) -> dict[str, str]:
    """A reader's environment: `deskgrid` and anvil on PATH, free ports, nothing else of
    the tests' (no test apps, no key password, never the real keyring)."""
    anvil = find_anvil()
    require(anvil is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "deskgrid"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m deskgrid "$@"\n')
    shim.chmod(0o755)
    (bin_dir / "anvil").symlink_to(anvil)
    env = dict(os.environ)
    for name in ("DESKGRID_APP_MODULES", "DESKGRID_KEY_PASSWORD", "DESKGRID_GRID_TOKEN"):
        env.pop(name, None)
    env.update(
        PATH=os.pathsep.join([str(bin_dir), env.get("PATH", "")]),
        DESKGRID_HOME=str(deskgrid_home),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PYTHONUNBUFFERED="1",
        CHAIN_PORT=str(free_port()),
        GRID_PORT=str(free_port()),
    )
    return env


def bash(script: str) -> list[str]:
    return ["bash", "-euo", "pipefail", "-c", script]


def test_the_walkthrough_runs_as_written(tmp_path: Path, shell_env: dict[str, str]) -> None:
    prefix, steps = walkthrough(GUIDE.read_text(encoding="utf-8"))
    folder = tmp_path / "walkthrough"
    folder.mkdir()
    running: list[Proc] = []
    outputs: list[tuple[Step, str]] = []
    try:
        for step in steps:
            if step.ready is None:
                done = subprocess.run(
                    bash(prefix + step.script),
                    cwd=folder,
                    env=shell_env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=STEP_TIMEOUT_S,
                )
                assert done.returncode == 0, (
                    f"this step failed ({done.returncode}):\n{step.script}\n"
                    f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
                )
                outputs.append((step, done.stdout))
                continue
            proc = Proc(
                subprocess.Popen(
                    bash(prefix + step.script),
                    cwd=folder,
                    env=shell_env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    start_new_session=True,  # its own process group, as a terminal's job
                )
            )
            running.append(proc)
            proc.wait_line(re.escape(step.ready), timeout=READY_TIMEOUT_S)

        funded = output_of(outputs, "deskgrid wallet show Requester --chain")
        assert "50 RLC, 1 ETH" in funded, funded  # as the guide says step 6 shows
        vanity = output_of(outputs, "deskgrid run vanity")
        address = check_vanity_key(vanity, pattern=_pattern(steps))
        listed = output_of(outputs, "deskgrid tasks")
        assert re.search(rf"completed .* {address}$", listed, re.M), listed
        volunteer = output_of(outputs, "deskgrid wallet show Volunteer --chain")
        earned = re.search(r"escrow ([\d.,]+) RLC free", volunteer)
        assert earned and earned[1] != "0", volunteer  # the worker's payout address was paid
        oracle = next(p for p in running if "deskgrid oracle" in " ".join(p.popen.args))
        oracle.wait_line(r"finalized: tx 0x", timeout=READY_TIMEOUT_S)

        for proc in reversed(running):  # step 8: Ctrl-C, the last one started first
            os.killpg(proc.popen.pid, signal.SIGINT)
            try:
                code = proc.popen.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pytest.fail(f"did not stop on Ctrl-C: {proc.popen.args[-1]}\n{proc.drain()}")
            assert code in (0, -signal.SIGINT, 128 + signal.SIGINT), (code, proc.drain())
    finally:
        for proc in running:  # stragglers of a failed run
            if proc.popen.poll() is None:
                try:
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                except ProcessLookupError:  # it ended meanwhile
                    continue
                proc.popen.wait(timeout=STOP_TIMEOUT_S)


def output_of(outputs: list[tuple[Step, str]], command: str) -> str:
    return next(out for step, out in outputs if command in step.script)


def _pattern(steps: list[Step]) -> str:
    step = next(s for s in steps if "deskgrid run vanity" in s.script)
    match = re.search(r"--pattern (\S+)", step.script)
    assert match, step.script
    return match[1]


def check_vanity_key(output: str, *, pattern: str) -> str:
    """The task's outcome: an address with the pattern, and a key that gives it."""
    address = re.search(r"^address\s+(\S+)$", output, re.M)
    wif = re.search(r"^wif\s+(\S+)$", output, re.M)
    assert address and wif, output
    assert address[1].startswith(pattern), output
    key, compressed = wif_decode(wif[1])
    assert address_from_private_key(key, compressed) == address[1]
    return address[1]

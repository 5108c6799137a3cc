"""`deskgrid run vanity --chain URL` when the chain stops answering after the payment: the
run retries with backoff, one line per retry, then says the task is safe and prints the
command that resumes it; with the chain reachable again, that command recovers the key.

Every part is a real process: `deskgrid demo --headless` (the chain, its RPC server, a grid
and an oracle; no local worker, so nothing is computed while the path is down), a TCP relay
in front of the chain's RPC port that is killed after the payment and started again, the
run, a worker, and `deskgrid tasks combine`."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from deskgrid.apps.vanity.keys import address_from_private_key, wif_decode
from deskgrid.chain.anvil import free_port

from .test_node_cli import deskgrid

pytestmark = pytest.mark.integration

RELAY = Path(__file__).with_name("tcp_relay.py")


def start_relay(listen: int, target: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, str(RELAY), str(listen), str(target)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "relaying"
    return proc


def read_until(proc: subprocess.Popen, marker: str) -> list[str]:
    """Lines of standard output up to the one starting with `marker` (or the end)."""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(marker):
            return lines
    raise AssertionError(f"no {marker!r} line in {''.join(lines)}{proc.stderr.read()}")


def test_a_chain_lost_after_paying_is_retried_then_the_task_is_resumed(tmp_path):
    procs: list[subprocess.Popen] = []
    try:
        demo = deskgrid("demo", "--headless", "--workers", "0", home=tmp_path / "demo")
        procs.append(demo)
        text = "".join(read_until(demo, "ready"))
        rpc_port = int(re.search(r"rpc +http://127\.0\.0\.1:(\d+)", text).group(1))
        grid_url = re.search(r"grid +(http://\S+)", text).group(1)
        [printed] = [line.strip() for line in text.splitlines() if "deskgrid run vanity" in line]
        assignment, command = printed.split(" ", 1)
        name, password = assignment.split("=", 1)
        argv = shlex.split(command)[1:]
        relay_port = free_port()
        relayed = f"http://127.0.0.1:{relay_port}"
        argv[argv.index("--chain") + 1] = relayed
        relay = start_relay(relay_port, rpc_port)
        procs.append(relay)

        env = {name: password}
        run = deskgrid(*argv, "--retry-for", "4", home=tmp_path / "me", env_extra=env)
        procs.append(run)
        read_until(run, "paid ")
        relay.kill()  # the chain's RPC path goes away after the payment
        relay.wait()
        out, err = run.communicate(timeout=120)
        assert run.returncode != 0
        assert "Traceback" not in err
        said = [line for line in err.splitlines() if line.startswith("deskgrid: ")]
        retries = [line for line in said if "does not answer" in line]
        assert len(retries) >= 2 and f"the chain at {relayed} does not answer" in retries[0]
        assert "retry 1 in 1 s" in retries[0] and "retry 2 in 2 s" in retries[1]
        final = said[-1]
        assert f"The chain at {relayed} has not answered for " in final
        assert "the task is safe: order " in final
        resume = shlex.split(final.split("get its key with: ", 1)[1])
        assert resume[:3] == ["deskgrid", "tasks", "combine"]
        assert resume[resume.index("--chain") + 1] == relayed

        procs.append(start_relay(relay_port, rpc_port))  # the chain answers again
        procs.append(deskgrid("worker", "--grid", grid_url, "--quiet", home=tmp_path / "w"))
        combine = deskgrid(*resume[1:], home=tmp_path / "me", env_extra=env)
        procs.append(combine)
        out, err = combine.communicate(timeout=240)
        assert combine.returncode == 0, err
        [address] = re.findall(r"^address +(\S+)$", out, re.M)
        [wif] = re.findall(r"^wif +(\S+)$", out, re.M)
        assert address.startswith("1Ab")
        key, compressed = wif_decode(wif)
        assert address_from_private_key(key, compressed) == address
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

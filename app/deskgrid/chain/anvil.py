"""A local anvil node on a free loopback port, started and stopped by us."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx

from deskgrid.chain.reverts import ChainError

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
ANVIL_CHAIN_ID = 31337


def find_anvil() -> str | None:
    """The anvil binary: $DESKGRID_ANVIL, then PATH, then the contracts' npm packages."""
    override = os.environ.get("DESKGRID_ANVIL")
    if override:
        return override if Path(override).exists() else None
    found = shutil.which("anvil")
    if found:
        return found
    checkout = Path(__file__).resolve().parents[3]
    local = checkout / "contracts" / "node_modules" / ".bin" / "anvil"
    return str(local) if local.exists() else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AnvilNode:
    """An anvil process; `url` is its JSON-RPC endpoint on 127.0.0.1."""

    def __init__(self, port: int | None = None, *, block_time: float | None = None) -> None:
        binary = find_anvil()
        if binary is None:
            raise ChainError(
                "anvil was not found; install it with `npm ci --prefix contracts` "
                "(the @foundry-rs/anvil package) or put it on PATH, or use --chain embedded."
            )
        self.binary = binary
        self.port = port or free_port()
        self.block_time = block_time
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> AnvilNode:
        args = [
            self.binary,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(ANVIL_CHAIN_ID),
            "--mnemonic",
            ANVIL_MNEMONIC,
            "--silent",
        ]
        if self.block_time:
            args += ["--block-time", str(self.block_time)]
        self._process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = (
                    self._process.stderr.read().decode(errors="replace")
                    if self._process.stderr
                    else ""
                )
                raise ChainError(f"anvil stopped at start ({err.strip()[:300]}); check the port.")
            try:
                reply = httpx.post(
                    self.url,
                    json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                    timeout=1.0,
                )
                if reply.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise ChainError(f"anvil did not answer on {self.url} within {timeout:.0f} s.")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

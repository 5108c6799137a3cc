"""Slow connections against a grid server: honest workers' latency with and without them.

Starts a real `deskgrid grid serve` process on loopback (SQLite in a temporary folder, the
default network limits, request rate limits off: this measures connection handling), submits
echo jobs, then:

1. baseline: --workers honest workers (GridClient, one process) lease and complete jobs for
   --phase seconds; every request's latency is recorded;
2. attack: an attacker process opens --slow connections from 40 loopback addresses
   (127.0.0.2-41): half send a request's headers a line per second and never finish them,
   half send headers and then a body at 10 bytes/s; a connection the server closes is
   reopened, until --attack seconds have passed. The honest workers work again meanwhile.

    python benchmarks/slow_connections.py [--slow 1000] [--workers 4] [--phase 10]
        [--attack 40] [--server-flag=--header-timeout=10 ...] [--json]

Prints JSON: the grid's RSS (peak during the attack, after it), its open file descriptors
(peak, after), the honest requests' p50/p99 latency and count in each phase, and what became
of the slow connections (opened, refused at once, closed by the server later).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the echo test app and its expected results live in tests/
os.environ.setdefault("DESKGRID_APP_MODULES", "tests.testapps")
TOKEN = "benchmark-submitter-token"
ADDRESSES = 40


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# ---------------------------------------------------------------- the attacker process


async def attack(port: int, count: int, seconds: float) -> dict[str, int]:
    stop_at = time.monotonic() + seconds
    stats = {"opened": 0, "refused": 0, "closed_by_server": 0}
    header = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    body_head = (
        b"POST /api/v1/workers/challenge HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
    )

    async def one(n: int) -> None:
        source = f"127.0.0.{2 + n % ADDRESSES}"
        slow_body = n % 2 == 1
        while time.monotonic() < stop_at:
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", port, local_addr=(source, 0)
                )
                writer.write(body_head if slow_body else header)
                await writer.drain()
            except OSError:
                stats["refused"] += 1
                await asyncio.sleep(1.0)
                continue
            stats["opened"] += 1
            opened_at = time.monotonic()
            try:
                while time.monotonic() < stop_at:
                    writer.write(b" " * 10 if slow_body else b"X-Slow: 1\r\n")
                    await writer.drain()
                    try:
                        data = await asyncio.wait_for(reader.read(4096), 1.0)
                    except TimeoutError:
                        continue
                    if not data or data.startswith(b"HTTP/1.1 4"):
                        raise ConnectionResetError
            except OSError:
                if time.monotonic() - opened_at < 0.5:
                    stats["refused"] += 1
                else:
                    stats["closed_by_server"] += 1
                await asyncio.sleep(0.5)
            finally:
                writer.close()

    await asyncio.gather(*(one(n) for n in range(count)))
    return stats


# ---------------------------------------------------------------- the honest side


async def honest(url: str, workers: int, seconds: float) -> list[float]:
    from eth_account import Account

    from deskgrid.grid.client import GridClient, GridClientError
    from deskgrid.grid.models import Capabilities
    from tests.grid_fixtures import echo_result

    latencies: list[float] = []
    stop_at = time.monotonic() + seconds

    async def one() -> None:
        async with GridClient(url, timeout=60.0) as client:
            await client.authenticate(Account.create(), capabilities=Capabilities(apps=["echo"]))
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    reply = await client.request_work(max_leases=1)
                    latencies.append(time.perf_counter() - started)
                    for lease in reply.leases:
                        started = time.perf_counter()
                        await client.upload_result(lease.lease_id, echo_result(lease.params))
                        latencies.append(time.perf_counter() - started)
                    if not reply.leases:
                        await asyncio.sleep(0.05)
                except GridClientError:
                    latencies.append(float("inf"))
                    await asyncio.sleep(0.1)

    await asyncio.gather(*(one() for _ in range(workers)))
    return latencies


async def submit(url: str, jobs: int) -> None:
    from deskgrid.grid.client import GridClient

    async with GridClient(url, token=TOKEN) as client:
        for start in range(0, jobs, 8):
            await asyncio.gather(
                *(
                    client.submit("echo", {"message": f"m{n}"})
                    for n in range(start, min(jobs, start + 8))
                )
            )


def summary(latencies: list[float]) -> dict[str, float | int]:
    done = [x for x in latencies if x != float("inf")]
    return {
        "requests": len(done),
        "failed": len(latencies) - len(done),
        "p50_ms": round(percentile(done, 0.5) * 1000, 2),
        "p99_ms": round(percentile(done, 0.99) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=1000, help="slow connections")
    parser.add_argument("--workers", type=int, default=4, help="honest workers")
    parser.add_argument("--phase", type=float, default=10.0, help="seconds of baseline")
    parser.add_argument("--attack", type=float, default=40.0, help="seconds of attack")
    parser.add_argument("--server-flag", action="append", default=[], help="extra serve flag")
    parser.add_argument("--json", action="store_true", help="JSON only")
    parser.add_argument("--attacker", help=argparse.SUPPRESS)  # internal: PORT
    args = parser.parse_args()
    if args.attacker:
        stats = asyncio.run(attack(int(args.attacker), args.slow, args.attack))
        print(json.dumps(stats), flush=True)
        return

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable, "-m", "deskgrid.cli", "grid", "serve",
            "--db", f"sqlite:///{tmp}/grid.db", "--data-dir", tmp, "--port", "0",
            "--submitter-token", TOKEN, "--catalog", "tests.grid_fixtures:catalog",
            "--rate-limit", "0",
            *[flag for given in args.server_flag for flag in given.split("=", 1)],
        ]  # fmt: skip
        server = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            assert server.stdout is not None
            url = ""
            for line in server.stdout:
                if found := re.search(r"grid listening on (http://\S+)", line):
                    url = found.group(1)
                    break
            if not url:
                raise SystemExit("the grid server did not start")
            port = int(url.rsplit(":", 1)[1])
            pid = server.pid
            jobs = 10_000
            asyncio.run(submit(url, jobs))
            idle = {"rss_kib": rss_kib(pid), "fds": fds(pid)}
            baseline = asyncio.run(honest(url, args.workers, args.phase))

            attacker = subprocess.Popen(
                [sys.executable, __file__, "--attacker", str(port), "--slow", str(args.slow),
                 "--attack", str(args.attack)],
                cwd=REPO, env=env, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            peak = {"rss_kib": 0, "fds": 0}

            async def watch() -> None:
                while attacker.poll() is None:
                    peak["rss_kib"] = max(peak["rss_kib"], rss_kib(pid))
                    peak["fds"] = max(peak["fds"], fds(pid))
                    await asyncio.sleep(0.25)

            async def during_attack() -> list[float]:
                watcher = asyncio.create_task(watch())
                await asyncio.sleep(3.0)  # let the slow connections pile up first
                measured = await honest(url, args.workers, min(args.phase, args.attack - 6))
                await watcher
                return measured

            attacked = asyncio.run(during_attack())
            out, _ = attacker.communicate(timeout=120)
            slow = json.loads(out.strip().splitlines()[-1])
            time.sleep(2.0)
            after = {"rss_kib": rss_kib(pid), "fds": fds(pid)}
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = {
        "slow_connections": args.slow,
        "attack_s": args.attack,
        "honest_workers": args.workers,
        "server_flags": args.server_flag,
        "grid_rss_mib": {
            "idle": round(idle["rss_kib"] / 1024, 1),
            "peak_during_attack": round(peak["rss_kib"] / 1024, 1),
            "after": round(after["rss_kib"] / 1024, 1),
        },
        "grid_open_fds": {"idle": idle["fds"], "peak": peak["fds"], "after": after["fds"]},
        "honest_without_attack": summary(baseline),
        "honest_during_attack": summary(attacked),
        "slow_connection_outcomes": slow,
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()

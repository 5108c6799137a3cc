"""Grid throughput: simulated workers pull trivial jobs through the real HTTP API.

Starts a real `deskgrid grid serve` process (SQLite in a temporary folder by default, or
--db URL; with --servers N, N processes on one PostgreSQL database, the worker processes
spread over them), submits --jobs jobs, then lets --workers simulated workers (spread over
--processes processes) lease, "compute" (nothing) and upload until the queue is empty.
The workers log in with GridClient, then work over one lean keep-alive HTTP connection each
(same API, less client CPU taken from the server on a small machine); at the end the
server's count of completed jobs is read back and the latest results are checked.

    python benchmarks/grid_throughput.py [--db URL] [--servers N] [--workers N] [--jobs N]
        [--json]

Prints submitted/s, leases/s, jobs completed/s and lease latency percentiles
(keys `jobs_per_s`, `lease_p50_ms`, `lease_p99_ms`, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from deskgrid.grid.client import inline_results

REPO = Path(__file__).resolve().parent.parent
# The jobs are the test app `echo`, which lives with the tests, not in the product.
os.environ.setdefault("DESKGRID_APP_MODULES", "tests.testapps")
TOKEN = "benchmark-submitter-token"
# The server and the workers run this checkout's package (not another one installed in the
# environment) and import the test apps from its root.
PYTHONPATH = os.pathsep.join([str(REPO / "app"), str(REPO)])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process used so far (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ---------------------------------------------------------------- worker process


class LeanHttp:
    """One keep-alive HTTP/1.1 connection with as little client work as possible, so that
    the simulated workers leave the CPU to the server. It talks to the same API as
    GridClient (which logs the workers in) and refuses any answer but 200."""

    def __init__(self, url: str, token: str) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.auth = f"Authorization: Bearer {token}\r\nHost: {parsed.netloc}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes, headers: str = "") -> bytes:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"{method} /api/v1{path} HTTP/1.1\r\n{self.auth}{headers}"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        if status_line.split()[1] != b"200":
            raise RuntimeError(f"{method} {path}: {status_line.decode().strip()} {data[:300]!r}")
        return data

    async def work(self, max_leases: int, results: dict[str, bytes]) -> dict:
        body = {"max_leases": max_leases}
        if results:
            body["results"] = inline_results(results)
        headers = "Content-Type: application/json\r\n"
        return json.loads(await self.request("POST", "/work", json.dumps(body).encode(), headers))

    async def upload(self, lease_id: str, content: bytes) -> None:
        headers = (
            "Content-Type: application/octet-stream\r\n"
            f"X-Content-SHA256: {hashlib.sha256(content).hexdigest()}\r\n"
        )
        await self.request("PUT", f"/leases/{lease_id}/result", content, headers)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def worker_process(url: str, workers: int, max_leases: int, inline: bool) -> None:
    from eth_account import Account

    from deskgrid.grid.client import GridClient
    from deskgrid.grid.models import Capabilities

    caps = Capabilities(apps=["echo"], cores=max_leases)
    clients = []
    for _ in range(workers):  # log in with the real client, then work over a lean one
        async with GridClient(url, timeout=60.0) as grid:
            await grid.authenticate(Account.create(), capabilities=caps)
            clients.append(LeanHttp(url, grid.token or ""))
    print("READY", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # wait for GO
    cpu_start = time.process_time()
    latencies: list[float] = []
    counts = {"leases": 0, "uploads": 0}

    async def run(client: LeanHttp) -> None:
        done: dict[str, bytes] = {}
        while True:
            start = time.perf_counter()
            reply = await client.work(max_leases, done)
            latencies.append((time.perf_counter() - start) * 1000)
            counts["uploads"] += sum(r["accepted"] for r in reply["results"])
            done = {}
            if not reply["leases"]:
                return
            counts["leases"] += len(reply["leases"])
            for lease in reply["leases"]:
                result = hashlib.sha256(lease["params"]["message"].encode()).hexdigest().encode()
                if inline:
                    done[lease["lease_id"]] = result
                else:
                    await client.upload(lease["lease_id"], result)
                    counts["uploads"] += 1
            if done and len(reply["leases"]) < max_leases:  # the queue is draining: report now
                reply = await client.work(0, done)
                counts["uploads"] += sum(r["accepted"] for r in reply["results"])
                done = {}

    await asyncio.gather(*(run(c) for c in clients))
    for client in clients:
        await client.close()
    cpu = time.process_time() - cpu_start
    print(json.dumps({"latencies": latencies, "cpu_s": cpu, **counts}), flush=True)


# ---------------------------------------------------------------- driver


def start_server(
    db_url: str, data_dir: Path, *extra: str, catalog: str = "tests.grid_fixtures:catalog"
) -> tuple[subprocess.Popen, str]:
    """A `deskgrid grid serve` process on a free loopback port and its URL; `extra` are more
    options of `grid serve` (other benchmarks start theirs with this too)."""
    command = [
        sys.executable, *os.environ.get("GRID_BENCH_SERVER", "-m deskgrid.cli").split(),
        "grid", "serve", "--db", db_url,
        "--port", "0", "--data-dir", str(data_dir), "--submitter-token", TOKEN,
        "--catalog", catalog, "--rate-limit", "0",
        "--idle-retry", "0.05", *extra,
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=PYTHONPATH, DESKGRID_HOME=str(data_dir))
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("grid listening on "):
            return proc, line.split()[-1]
    raise RuntimeError("the grid server did not start")


async def submit_all(url: str, jobs: int, concurrency: int = 16) -> float:
    from deskgrid.grid.client import GridClient

    async with GridClient(url, token=TOKEN, timeout=60.0) as grid:
        queue = iter(range(jobs))

        async def submitter() -> None:
            for n in queue:
                await grid.submit("echo", {"message": f"job {n}"})

        start = time.perf_counter()
        await asyncio.gather(*(submitter() for _ in range(concurrency)))
        return time.perf_counter() - start


async def completed(url: str, check: bool = True) -> int:
    """Jobs the server says are COMPLETED; `check`: the canonical results of the latest 200
    are checked against what an honest worker returns."""
    from deskgrid.grid.client import GridClient

    async with GridClient(url, token=TOKEN) as grid:
        page = await grid.list_jobs(state="COMPLETED", limit=200 if check else 1)
        for job in page.jobs:
            result = hashlib.sha256(job.params["message"].encode()).hexdigest().encode()
            if check and job.result_sha256 != hashlib.sha256(result).hexdigest():
                raise RuntimeError(f"job {job.id} completed with a wrong result")
        return (await grid.metrics()).jobs_by_state["COMPLETED"]


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        db_url = args.db or f"sqlite:///{data / 'grid.db'}"
        servers: list[subprocess.Popen] = []
        try:
            urls = []
            for _ in range(args.servers):  # one database, one data folder, as operators do
                server, url = start_server(db_url, data)
                servers.append(server)
                urls.append(url)
            url = urls[0]
            before = asyncio.run(completed(url, check=False))  # a --db may hold earlier runs
            submit_s = asyncio.run(submit_all(url, args.jobs))
            per_process = max(1, args.workers // args.processes)
            env = dict(os.environ, PYTHONPATH=PYTHONPATH)
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--role",
                        "worker",
                        "--url",
                        urls[n % len(urls)],  # worker processes spread over the servers
                        "--workers",
                        str(per_process),
                        "--max-leases",
                        str(args.max_leases),
                        "--report",
                        args.report,
                    ],
                    cwd=REPO,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )  # fmt: skip
                for n in range(args.processes)
            ]
            for proc in procs:
                assert proc.stdout is not None
                assert proc.stdout.readline().strip() == "READY"
            start = time.perf_counter()
            server_cpu = sum(cpu_seconds(server.pid) for server in servers)
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write("GO\n")
                proc.stdin.flush()
            reports = [json.loads(proc.communicate()[0].strip().splitlines()[-1]) for proc in procs]
            work_s = time.perf_counter() - start
            server_cpu = sum(cpu_seconds(server.pid) for server in servers) - server_cpu
            done = asyncio.run(completed(url)) - before
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    latencies = [x for r in reports for x in r["latencies"]]
    leases = sum(r["leases"] for r in reports)
    return {
        "db": "postgresql" if args.db and args.db.startswith("postgres") else "sqlite",
        "jobs": args.jobs,
        "servers": args.servers,
        "workers": per_process * args.processes,
        "worker_processes": args.processes,
        "max_leases_per_request": args.max_leases,
        "report": args.report,
        "completed": done,
        "submitted_per_s": round(args.jobs / submit_s, 1),
        "leases_per_s": round(leases / work_s, 1),
        "jobs_per_s": round(done / work_s, 1),
        "lease_p50_ms": round(percentile(latencies, 0.50), 2),
        "lease_p99_ms": round(percentile(latencies, 0.99), 2),
        "lease_mean_ms": round(statistics.fmean(latencies), 2) if latencies else 0.0,
        # CPU time per completed job while the workers ran (less sensitive to other load)
        "server_cpu_us_per_job": round(server_cpu / max(done, 1) * 1e6),
        "workers_cpu_us_per_job": round(sum(r["cpu_s"] for r in reports) / max(done, 1) * 1e6),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a SQLite file in a temp folder)")
    parser.add_argument("--workers", type=int, default=8, help="simulated workers")
    parser.add_argument("--processes", type=int, default=2, help="processes running them")
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="grid server processes on the one database (several: PostgreSQL only)",
    )
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--max-leases", type=int, default=8, help="leases asked per request")
    parser.add_argument(
        "--report",
        choices=["inline", "upload"],
        default="inline",
        help="inline: results ride on the next work request (BOINC style); "
        "upload: one PUT per result",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line only")
    parser.add_argument("--role", default="driver", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "worker":
        asyncio.run(
            worker_process(args.url, args.workers, args.max_leases, args.report == "inline")
        )
        return
    if args.servers > 1 and not (args.db or "").startswith("postgres"):
        parser.error("several servers share a PostgreSQL database: give --db postgresql://…")
    figures = run(args)
    if args.json:
        print(json.dumps(figures))
    else:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

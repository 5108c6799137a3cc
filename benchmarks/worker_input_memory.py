"""The worker's peak memory while it receives a large input (streamed to disk, never held).

Starts a grid server (in this process, data folder in a temporary folder, its data cap raised
to hold the input) and a real `deskgrid worker` process with --max-input-mb raised above the
input; stores an input of --mb MiB (random bytes), submits one job of the test app `digest`
(which reads its input file in chunks and returns its sha256), and reads the worker
process's peak resident memory (VmHWM, Linux /proc) when it is idle and after the job.

    python benchmarks/worker_input_memory.py [--mb 1024] [--cap-mb 2048]

Prints JSON: the input's size, the worker's peak RSS idle and after the job, the growth, and
the seconds from submission to the completed job.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("DESKGRID_APP_MODULES", "tests.testapps")  # the `digest` test app
MIB = 2**20


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def write_input(path: Path, size: int) -> str:
    hasher = hashlib.sha256()
    block = os.urandom(MIB)
    with path.open("wb") as handle:
        for _ in range(size // MIB):
            handle.write(block)
            hasher.update(block)
    return hasher.hexdigest()


async def wait_for(proc: subprocess.Popen, text: str, seconds: float = 120.0) -> None:
    """Read the worker's lines (in a thread) until one contains `text`."""
    assert proc.stdout is not None

    def read() -> None:
        end = time.monotonic() + seconds
        for line in proc.stdout:  # type: ignore[union-attr]
            if text in line:
                return
            if time.monotonic() > end:
                break
        raise SystemExit(f"the worker never said {text!r}")

    await asyncio.to_thread(read)


async def measure(mb: int, cap_mb: int) -> dict[str, object]:
    from deskgrid.grid.client import GridClient
    from deskgrid.grid.config import GridConfig
    from deskgrid.grid.server import GridServer

    with tempfile.TemporaryDirectory(prefix="deskgrid-bench-") as tmp:
        folder = Path(tmp)
        config = GridConfig(
            data_dir=folder / "grid", idle_retry_s=0.1, max_data_bytes=(mb + 1) * MIB
        )
        server = GridServer(config)
        url = await server.start()
        env = dict(os.environ, DESKGRID_HOME=str(folder / "home"), PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO / "app"), str(REPO), env.get("PYTHONPATH", "")])
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "deskgrid", "worker", "--grid", url,
             "--state-dir", str(folder / "worker"), "--max-input-mb", str(cap_mb)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            async with GridClient(url, token=server.submitter_token) as submitter:
                await wait_for(worker, "Waiting for work")
                idle = peak_rss(worker.pid)
                source = folder / "input.bin"
                digest = await asyncio.to_thread(write_input, source, mb * MIB)
                ref = await submitter.upload_file(source)
                source.unlink()
                started = time.monotonic()
                job = await submitter.submit(
                    "digest", {}, inputs=[{"name": "input.bin", "sha256": ref.sha256}]
                )
                done = await submitter.wait_job(job.id, timeout=3600, poll=0.5)
                seconds = time.monotonic() - started
                peak = peak_rss(worker.pid)
                result = json.loads(await submitter.download_result(job.id))
            if done.state != "COMPLETED" or result["input.bin"][0] != digest:
                raise SystemExit(f"the job did not complete as expected: {done.state} {result}")
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            await server.stop()
    return {
        "input_mb": mb,
        "max_input_mb": cap_mb,
        "worker_peak_rss_idle_mb": round(idle / MIB, 1),
        "worker_peak_rss_after_mb": round(peak / MIB, 1),
        "worker_peak_rss_growth_mb": round((peak - idle) / MIB, 1),
        "seconds_to_completed": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024, help="the input's size in MiB")
    parser.add_argument("--cap-mb", type=int, default=2048, help="the worker's --max-input-mb")
    args = parser.parse_args()
    if not sys.platform.startswith("linux"):
        raise SystemExit("This benchmark reads /proc (Linux).")
    print(json.dumps(asyncio.run(measure(args.mb, args.cap_mb)), indent=2))


if __name__ == "__main__":
    main()

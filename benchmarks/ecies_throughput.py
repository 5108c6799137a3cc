"""Throughput of results encrypted to a wallet's key (`deskgrid.crypto.ecies`), file to file.

Writes a file of --mb MiB of random bytes in a temporary folder, then encrypts it to a fresh
key with `encrypt_file` and decrypts it with `decrypt_file`, --runs times each, at one or more
chunk sizes; the figures are the best run's (the machine is shared), in MB/s of plaintext
(1 MB = 10^6 bytes), the temporary folder's disk included. At the default chunk size, also the
convergent mode a worker seals a result with (`encrypt_convergent_file`: the file is read twice,
once to hash it) and the requester's check of it (`check_convergent`: decrypt and derive).
Also the single-shot `encrypt` / `decrypt` of the same size in memory (the cipher without the
disk), and of 1 KiB (a typical small result: the fixed cost, one ECDH and one HKDF).

    python benchmarks/ecies_throughput.py [--mb 64] [--runs 3] [--chunk-kib 256 64 1024]

Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "app"))

from deskgrid.crypto.ecies import (  # noqa: E402
    DEFAULT_CHUNK_SIZE,
    MAX_CHUNK_SIZE,
    check_convergent,
    decrypt,
    decrypt_file,
    encrypt,
    encrypt_convergent_file,
    encrypt_file,
    public_key_of,
)

MIB = 2**20


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def chunk_kib(text: str) -> int:
    value = positive(text)
    if value * 1024 > MAX_CHUNK_SIZE:
        raise argparse.ArgumentTypeError(f"at most {MAX_CHUNK_SIZE // 1024} KiB, not {value}")
    return value


def best_seconds(runs: int, call) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def per_call_ms(runs: int, call, count: int = 200) -> float:
    seconds = best_seconds(runs, lambda: [call() for _ in range(count)])
    return round(seconds / count * 1e3, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=positive, default=64, help="file size in MiB")
    parser.add_argument("--runs", type=positive, default=3, help="runs of each; the best counts")
    parser.add_argument(
        "--chunk-kib",
        type=chunk_kib,
        nargs="+",
        default=[DEFAULT_CHUNK_SIZE // 1024, 64, 1024],
        help="chunk sizes to measure, in KiB (the first is the default one)",
    )
    args = parser.parse_args()

    private_key = os.urandom(32)
    public_key = public_key_of(private_key)
    size = args.mb * MIB
    report: dict = {
        "file_mib": args.mb,
        "runs": args.runs,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
        "chunks": [],
    }
    with tempfile.TemporaryDirectory() as folder:
        plain, sealed, opened = (Path(folder) / name for name in ("plain", "sealed", "opened"))
        with plain.open("wb") as handle:
            for _ in range(args.mb):
                handle.write(os.urandom(MIB))
        for kib in args.chunk_kib:
            chunk = kib * 1024
            enc = best_seconds(
                args.runs, lambda c=chunk: encrypt_file(public_key, plain, sealed, chunk_size=c)
            )
            dec = best_seconds(args.runs, lambda: decrypt_file(private_key, sealed, opened))
            report["chunks"].append(
                {
                    "chunk_kib": kib,
                    "encrypt_mb_s": round(size / enc / 1e6, 1),
                    "decrypt_mb_s": round(size / dec / 1e6, 1),
                    "overhead_bytes": sealed.stat().st_size - size,
                }
            )
        context = b"0x" + b"ab" * 32  # a task id
        seal = best_seconds(
            args.runs, lambda: encrypt_convergent_file(public_key, plain, sealed, context)
        )
        check = best_seconds(args.runs, lambda: check_convergent(private_key, sealed, context))
        report["convergent_default_chunk"] = {
            "seal_mb_s": round(size / seal / 1e6, 1),
            "check_mb_s": round(size / check / 1e6, 1),
        }
    payload = os.urandom(size)  # the same size in memory: the cipher without the disk
    sealed_bytes = encrypt(public_key, payload)
    report["in_memory_default_chunk"] = {
        "encrypt_mb_s": round(
            size / best_seconds(args.runs, lambda: encrypt(public_key, payload)) / 1e6, 1
        ),
        "decrypt_mb_s": round(
            size / best_seconds(args.runs, lambda: decrypt(private_key, sealed_bytes)) / 1e6, 1
        ),
    }
    small = os.urandom(1024)
    blob = encrypt(public_key, small)
    report["small_1kib_ms"] = {
        "encrypt": per_call_ms(args.runs, lambda: encrypt(public_key, small)),
        "decrypt": per_call_ms(args.runs, lambda: decrypt(private_key, blob)),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

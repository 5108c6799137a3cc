"""VanityGen speed: keys/s of the batch search on 1 core and on 2 cores, a naive coincurve
loop for comparison (one libsecp256k1 key derivation per key), and the expected time for
`1LoVE`. When a `VanitySearch` binary is on PATH it is run with `-t 1` too.

    python benchmarks/vanity_speed.py [--seconds N] [--json]

Every hashed and checked address counts as one key (as VanitySearch counts).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import ssl
import subprocess
import time

import coincurve

from deskgrid.apps.vanity.hashing import _hashlib_ripemd160, hash160
from deskgrid.apps.vanity.parallel import search
from deskgrid.apps.vanity.pattern import compile_patterns
from deskgrid.apps.vanity.secp256k1 import N

PATTERN = "1LoVEDeskGrid"  # never found in a benchmark's time


def batch_speed(seconds: float, cores: int, compressed: bool = True) -> float:
    """Steady-state keys/s: measured between progress reports, so process start-up (imports,
    tables) is not counted."""
    samples: list[tuple[float, int]] = []

    def progress(tried: int, _rate: float) -> None:
        if tried:
            samples.append((time.monotonic(), tried))

    def stop() -> bool:
        return bool(samples) and samples[-1][0] - samples[0][0] >= seconds

    search(
        compile_patterns([PATTERN]),
        cores=cores,
        compressed=compressed,
        on_progress=progress,
        should_stop=stop,
    )
    (t0, n0), (t1, n1) = samples[0], samples[-1]
    return (n1 - n0) / (t1 - t0)


def coincurve_speed(seconds: float, incremental: bool) -> float:
    """One key per libsecp256k1 operation, hashed and compared: a full derivation per key
    (naive) or one point addition per key (incremental, P + G each step)."""
    patterns = compile_patterns([PATTERN])
    low, high = patterns.hash_lows[0], patterns.hash_highs[-1]
    k = secrets.randbelow(N - 1) + 1
    point = coincurve.PublicKey.from_secret(k.to_bytes(32, "big"))
    generator = coincurve.PublicKey.from_secret((1).to_bytes(32, "big"))
    tried = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        for _ in range(1000):
            if incremental:
                point = coincurve.PublicKey.combine_keys([point, generator])
            else:
                point = coincurve.PublicKey.from_secret(k.to_bytes(32, "big"))
                k += 1
            digest = hash160(point.format())
            if low <= digest < high and patterns.hash_may_match(digest):
                pass
        tried += 1000
    return tried / (time.monotonic() - start)


def vanitysearch_speed(seconds: float) -> float | None:
    binary = shutil.which("VanitySearch")
    if not binary:
        return None
    try:
        proc = subprocess.run(
            [binary, "-t", "1", PATTERN], capture_output=True, text=True, timeout=seconds
        )
        output = proc.stdout
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode(errors="replace") if exc.stdout else ""
    speeds = re.findall(r"\[([\d.]+) ([KMG])key/s\]", output)
    if not speeds:
        return None
    value, unit = speeds[-1]
    return float(value) * {"K": 1e3, "M": 1e6, "G": 1e9}[unit]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true", help="JSON only (the default output)")
    args = parser.parse_args()
    one = batch_speed(args.seconds, 1)
    figures: dict = {
        "pattern": PATTERN,
        "seconds_per_measure": args.seconds,
        "keys_per_s_per_core": round(one),
        "keys_per_s_uncompressed_per_core": round(batch_speed(args.seconds, 1, compressed=False)),
        "keys_per_s_2_cores": round(batch_speed(args.seconds, 2)),
        "keys_per_s_coincurve_naive": round(coincurve_speed(args.seconds, incremental=False)),
        "keys_per_s_coincurve_incremental": round(coincurve_speed(args.seconds, True)),
    }
    figures["speedup_vs_coincurve_naive"] = round(
        figures["keys_per_s_per_core"] / figures["keys_per_s_coincurve_naive"], 2
    )
    love = compile_patterns(["1LoVE"]).difficulty
    figures["difficulty_1LoVE"] = love
    figures["expected_seconds_1LoVE_1_core"] = round(love / one, 1)
    figures["expected_seconds_1LoVE_2_cores"] = round(love / figures["keys_per_s_2_cores"], 1)
    reference = vanitysearch_speed(args.seconds)
    if reference:
        figures["keys_per_s_vanitysearch_1_thread"] = round(reference)
        figures["ratio_vs_vanitysearch"] = round(one / reference, 4)
    figures["machine"] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "ripemd160": "hashlib" if _hashlib_ripemd160() else "pycryptodome",
        "openssl": ssl.OPENSSL_VERSION,
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

"""`--load` for the benchmarks: one CPU-bound process beside the measurement.

A separate interpreter (not a fork), so it is safe to start from a process that has loaded Qt.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

LOAD_LABEL = "one CPU-bound process beside it"


@contextmanager
def cpu_load(enabled: bool) -> Iterator[str]:
    """Run one busy loop in a child interpreter for the duration of the block when `enabled`;
    yields the label the benchmark prints under "load"."""
    if not enabled:
        yield "none added"
        return
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield LOAD_LABEL
    finally:
        burner.kill()
        burner.wait()

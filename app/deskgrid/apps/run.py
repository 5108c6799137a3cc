"""The entry point a worker runs for one job of a built-in app, in a subprocess:

    python -m deskgrid.apps.run APP --params FILE --workdir DIR --result FILE [--cores N]
                                [--input NAME ...]

It validates the params, runs the app in DIR (the input files NAME are there, given to the
app as paths), writes the result bytes to FILE (atomically) and
exits 0. Progress goes to standard output as one JSON object per line, e.g.
`{"progress": 0.42, "keys_tried": 1000000, "keys_per_second": 500000.0}` (anything the app
itself prints goes to standard error instead). On error the last line of standard error is a
sentence and the exit code is 2 for parameters the app refuses, 1 for a failed run, 3 when the
app ran out of memory (the worker's limit on its address space; the worker says which limit).

    python -m deskgrid.apps.run --warm

starts a process ahead of its job (the worker's warm runner, for DeskGrid's own apps): it
imports the apps, then reads one line on standard input, the job as JSON: `argv` (the
arguments above), `workdir` (its HOME and TMPDIR from then on) and `rlimits` (address space,
CPU seconds, file size: soft and hard, set before anything of the job is read); standard
input then points at /dev/null and the job runs exactly as above, under its guard. End of
input without a job: exit 0. One job per process: the worker starts the next one after it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from deskgrid import boundedjson
from deskgrid.apps import guard
from deskgrid.apps.registry import builtin_apps, extra_app_names, get_app
from deskgrid.apps.sdk import AppParamsError, RunContext
from deskgrid.atomicfile import write_atomic
from deskgrid.errors import DeskGridError

EXIT_OK, EXIT_FAILED, EXIT_PARAMS, EXIT_MEMORY = 0, 1, 2, 3
WARM_FLAG = "--warm"
MAX_JOB_LINE = 1 << 20


def _progress_stream() -> TextIO:
    """The real standard output for progress lines; fd 1 then points at standard error."""
    stream = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return stream


def main(argv: Sequence[str] | None = None) -> int:
    """Run the job; on Linux under its guard (`apps.guard`), so nothing it starts outlives
    it or the worker."""
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == [WARM_FLAG]:
        return warm()
    if guard.supported():
        return guard.run_guarded(lambda: run_app(argv))
    return run_app(argv)


def warm() -> int:
    """Import DeskGrid's own apps, wait for one job on standard input, run it (see above).
    POSIX only: the worker starts warm processes on Linux."""
    import resource

    kinds = {"as": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU, "fsize": resource.RLIMIT_FSIZE}
    for name, app in builtin_apps().items():
        if name not in extra_app_names():
            app.load_run_function()  # the imports the job would do
    line = sys.stdin.buffer.readline(MAX_JOB_LINE)
    if not line.strip():
        return EXIT_OK  # a spare the worker no longer needs
    job = boundedjson.loads(line, max_depth=8, max_bytes=MAX_JOB_LINE)
    quiet = os.open(os.devnull, os.O_RDONLY)
    os.dup2(quiet, 0)
    os.close(quiet)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - the process's own stdin
    for name, (soft, hard) in job["rlimits"].items():
        resource.setrlimit(kinds[name], (int(soft), int(hard)))
    workdir = str(job["workdir"])
    os.environ.update(HOME=workdir, TMPDIR=workdir, TEMP=workdir, TMP=workdir)
    tempfile.tempdir = None  # found again from TMPDIR
    os.chdir(workdir)
    return main([str(arg) for arg in job["argv"]])


def run_app(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deskgrid.apps.run")
    parser.add_argument("app")
    parser.add_argument("--params", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--cores", type=int, default=1)
    parser.add_argument("--input", action="append", default=[], dest="inputs", metavar="NAME")
    args = parser.parse_args(argv)
    progress = _progress_stream()

    def report(event: dict[str, Any]) -> None:
        progress.write(json.dumps(event) + "\n")

    try:
        app = get_app(args.app)
        try:
            raw = boundedjson.loads(args.params.read_bytes(), max_depth=128, max_bytes=None)
        except (OSError, ValueError) as exc:
            raise AppParamsError(f"The parameters file cannot be read as JSON ({exc}).") from None
        if not isinstance(raw, dict):
            raise AppParamsError("The parameters must be a JSON object.")
        params = app.validate(raw)
        func = app.load_run_function()
        ctx = RunContext(
            workdir=args.workdir,
            cores=max(1, args.cores),
            report=report,
            inputs={name: args.workdir / name for name in args.inputs},
        )
        os.chdir(args.workdir)
        result = func(params, ctx)
        write_atomic(args.result, result, mode=0o644)
    except AppParamsError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_PARAMS
    except DeskGridError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_FAILED
    except MemoryError:
        print("The app ran out of memory (the worker's memory limit).", file=sys.stderr)
        return EXIT_MEMORY
    except Exception as exc:  # the app's bug: a sentence for the requester, not a traceback
        if os.environ.get("DESKGRID_DEBUG"):
            raise
        print(f"The app {args.app} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        progress.flush()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

"""The `deskgrid` command.

Each capability contributes its subcommands from its own `commands` module, which exposes
`register(subparsers)`; the module list below is the only place that names them.

Hidden entries serve frozen builds (PyInstaller), where `sys.executable` is the deskgrid
program itself rather than a Python interpreter: `deskgrid --run-app APP ...` is what
`python -m deskgrid.apps.run APP ...` is from source (the worker's native runner uses it);
`[sys.executable, "-m", "deskgrid.MODULE", ...]`, the way the code starts its own child
processes, runs that module there too (interpreter flags such as -s before -m are ignored);
and multiprocessing's child processes are dispatched by `multiprocessing.freeze_support()`.

Every entry point logs through `deskgrid.logs` before its handler runs: the app and `--tray`
to `deskgrid.log`, `--self-test` to `self-test.log`, each subcommand to a file named after it
(`grid.log`, `run.log`, …) in the data folder's `logs/`; standard error gets warnings, `-v`
adds INFO and `-vv` DEBUG (before or after the subcommand). `--run-app` (a worker's job, in a
sandbox) sets up no logging.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import multiprocessing
import runpy
import sys
from collections.abc import Sequence

from deskgrid import __version__, logs
from deskgrid.apps import RUN_APP_FLAG
from deskgrid.errors import DeskGridError

log = logging.getLogger("deskgrid.cli")

INTERPRETER_FLAGS = frozenset({"-s", "-u", "-B", "-E", "-I", "-O", "-OO"})

COMMAND_MODULES: tuple[str, ...] = (
    "deskgrid.chain.commands",
    "deskgrid.apps.commands",
    "deskgrid.grid.commands",
    "deskgrid.worker.commands",
    "deskgrid.oracle.commands",
    "deskgrid.node.commands",
    "deskgrid.node.task_commands",
    "deskgrid.desktop.wallet_commands",
    "deskgrid.node.market_commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskgrid",
        description="DeskGrid: pay in RLC for computing done on a volunteer desktop grid. "
        "Without a command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"deskgrid {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="say more on standard error: -v for progress (INFO), -vv for details (DEBUG); "
        "the log file in the data folder's logs/ always has INFO",
    )
    parser.add_argument(
        "--tray", action="store_true", help="start in the system tray (volunteer mode)"
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run one small task end to end on a throw-away local node and report each step",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    _add_verbose(subparsers)
    for sub in walk_parsers(parser):
        sub.formatter_class = DefaultsHelpFormatter
    return parser


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Each option's help ends with its default, unless it names the default already or has
    none worth showing (a flag, an empty list)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default in (None, False, [], argparse.SUPPRESS)
            or action.option_strings == []
            or action.nargs == 0
        ):
            return action.help
        return f"{text} (default: %(default)s)"


def walk_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """`parser` and every subcommand's parser under it, each once."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found.extend(walk_parsers(sub))
    return found


def _add_verbose(subparsers: argparse._SubParsersAction) -> None:
    """`-v` after a subcommand too (`deskgrid grid serve -v`), at every level. Its own
    destination, absent unless given: a subcommand's default would overwrite the top level's
    count."""
    for sub in set(subparsers.choices.values()):
        sub.add_argument(
            "-v",
            "--verbose",
            dest="sub_verbose",
            action="count",
            default=argparse.SUPPRESS,
            help="say more on standard error (-v INFO, -vv DEBUG)",
        )
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                _add_verbose(action)


def log_name(args: argparse.Namespace) -> str:
    """The log file's name for a command line: the subcommand, `self-test`, or `deskgrid`
    (the app, with or without --tray)."""
    if getattr(args, "command", None):
        return str(args.command)
    return "self-test" if getattr(args, "self_test", False) else "deskgrid"


def frozen_module(arguments: Sequence[str]) -> tuple[str, list[str]] | None:
    """`[-s] -m deskgrid.MODULE ARGS...` → (module, args); None for anything else."""
    i = 0
    while i < len(arguments) and arguments[i] in INTERPRETER_FLAGS:
        i += 1
    if arguments[i : i + 1] != ["-m"] or len(arguments) < i + 2:
        return None
    module = arguments[i + 1]
    if module != "deskgrid" and not module.startswith("deskgrid."):
        return None
    return module, list(arguments[i + 2 :])


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if getattr(sys, "frozen", False):
        multiprocessing.freeze_support()  # a multiprocessing child runs here and exits
        found = frozen_module(arguments)
        if found is not None and found[0] == "deskgrid":
            arguments = found[1]  # `python -m deskgrid ARGS` is this command
        elif found is not None:  # as `python -m deskgrid.MODULE ARGS` would
            module, rest = found
            sys.argv = [sys.executable, *rest]
            runpy.run_module(module, run_name="__main__", alter_sys=True)
            return 0
    if arguments[:1] == [RUN_APP_FLAG]:  # a worker's job, before any heavy import
        from deskgrid.apps.run import main as run_app

        return run_app(arguments[1:])
    parser = build_parser()
    args = parser.parse_args(arguments)
    handler = getattr(args, "handler", None)
    if handler is None and args.self_test:
        from deskgrid.node.self_test import run_self_test

        handler = run_self_test
    if handler is None:  # no subcommand: the desktop app
        from deskgrid.ui.app import run_gui

        handler = run_gui
    args.verbose = args.verbose + getattr(args, "sub_verbose", 0)
    name = log_name(args)
    logs.setup_logging(name, verbose=args.verbose)
    log.info("deskgrid %s: %s starts (Python %s)", __version__, name, sys.version.split()[0])
    try:
        code = int(handler(args) or 0)
    except DeskGridError as exc:
        log.error("%s stopped: %s", name, exc, extra=logs.FILE_ONLY)
        print(f"deskgrid: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        log.info("%s interrupted", name)
        return 130
    log.info("%s ended with exit code %d", name, code)
    return code


if __name__ == "__main__":
    sys.exit(main())

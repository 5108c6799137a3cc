"""The `deskgrid` command.

Each capability contributes its subcommands from its own `commands` module, which exposes
`register(subparsers)`; the module list below is the only place that names them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from deskgrid import __version__
from deskgrid.errors import DeskGridError

COMMAND_MODULES: tuple[str, ...] = (
    "deskgrid.chain.commands",
    "deskgrid.apps.commands",
    "deskgrid.grid.commands",
    "deskgrid.worker.commands",
    "deskgrid.oracle.commands",
    "deskgrid.node_commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskgrid",
        description="DeskGrid: pay in RLC for computing done on a volunteer desktop grid. "
        "Without a command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"deskgrid {__version__}")
    parser.add_argument(
        "--tray", action="store_true", help="start in the system tray (volunteer mode)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:  # no subcommand: the desktop app
        from deskgrid.ui.app import run_gui

        handler = run_gui
    try:
        return int(handler(args) or 0)
    except DeskGridError as exc:
        print(f"deskgrid: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

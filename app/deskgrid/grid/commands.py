"""`deskgrid grid …` subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deskgrid.errors import DeskGridError
from deskgrid.grid.catalog import load_catalog
from deskgrid.grid.config import MIB, GridConfig, JobDefaults
from deskgrid.grid.service import GridService


def register(subparsers: argparse._SubParsersAction) -> None:
    grid = subparsers.add_parser("grid", help="run the desktop-grid server")
    sub = grid.add_subparsers(dest="grid_command", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="serve the grid API (jobs, leases, data) over HTTP")
    serve.add_argument(
        "--db", help="database URL: sqlite:///FILE or postgresql://… (default: SQLite file)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8750, help="port (0: a free one)")
    serve.add_argument("--data-dir", type=Path, help="data folder (default: DeskGrid's /grid)")
    serve.add_argument(
        "--submitter-token",
        action="append",
        default=[],
        help="a token the operator / oracle uses to submit jobs (repeatable)",
    )
    serve.add_argument(
        "--token-file", type=Path, help="file of submitter tokens, one a line (made if absent)"
    )
    serve.add_argument(
        "--catalog",
        help="MODULE:ATTRIBUTE giving the apps (a mapping name -> AppSpec, or a function "
        "returning one); default: DeskGrid's built-in apps",
    )
    serve.add_argument("--delay-bound", type=float, help="default lease length in seconds")
    serve.add_argument("--rate-limit", type=float, help="requests/s per worker (0: none)")
    serve.add_argument("--idle-retry", type=float, help="seconds a worker waits when idle")
    serve.add_argument("--reap-interval", type=float, help="seconds between lease checks")
    limits = serve.add_argument_group("storage and lease limits")
    limits.add_argument(
        "--job-retention",
        metavar="S",
        type=float,
        help="seconds finished jobs are kept (default 7 days)",
    )
    limits.add_argument(
        "--event-retention",
        metavar="S",
        type=float,
        help="seconds events are kept (default 7 days)",
    )
    limits.add_argument(
        "--data-grace",
        metavar="S",
        type=float,
        help="seconds unreferenced data is kept after it was stored (default 1 day)",
    )
    limits.add_argument(
        "--upload-quota",
        metavar="MIB",
        type=float,
        help="MiB of data each submitter token may upload a day (default 2048; 0: no quota)",
    )
    limits.add_argument(
        "--min-free-disk",
        metavar="MIB",
        type=float,
        help="MiB of free disk below which uploads are refused (default 1024; 0: no floor)",
    )
    limits.add_argument(
        "--leases-per-core",
        metavar="N",
        type=int,
        help="leases in progress per declared core (default 2)",
    )
    limits.add_argument(
        "--max-active-leases",
        metavar="N",
        type=int,
        help="leases in progress per worker, at most (64)",
    )
    limits.add_argument(
        "--quota-start",
        metavar="N",
        type=int,
        help="leases a day for a new worker identity (default 8)",
    )
    limits.add_argument(
        "--quota-max", metavar="N", type=int, help="largest daily lease quota (default 100000)"
    )
    limits.add_argument(
        "--quota-min", metavar="N", type=int, help="smallest daily lease quota (default 1)"
    )
    limits.add_argument(
        "--lease-grace",
        metavar="S",
        type=float,
        help="seconds a lease may outlive its app's max run time (default 300)",
    )
    serve.add_argument("--log-level", default="warning", help="uvicorn log level")
    serve.set_defaults(handler=_serve)


def config_from_args(args: argparse.Namespace) -> GridConfig:
    defaults = JobDefaults()
    if args.delay_bound is not None:
        defaults = JobDefaults(delay_bound=args.delay_bound)
    fields: dict[str, object] = {
        "db_url": args.db,
        "host": args.host,
        "port": args.port,
        "data_dir": args.data_dir,
        "submitter_tokens": tuple(args.submitter_token),
        "token_file": args.token_file,
        "defaults": defaults,
    }
    for name, key in (
        ("rate_limit", "rate_limit_per_s"),
        ("idle_retry", "idle_retry_s"),
        ("reap_interval", "reap_interval_s"),
        ("job_retention", "job_retention_s"),
        ("event_retention", "event_retention_s"),
        ("data_grace", "data_grace_s"),
        ("leases_per_core", "max_active_leases_per_core"),
        ("max_active_leases", "max_active_leases_per_worker"),
        ("quota_start", "worker_quota_start"),
        ("quota_max", "worker_quota_max"),
        ("quota_min", "worker_quota_min"),
        ("lease_grace", "lease_grace_s"),
    ):
        value = getattr(args, name)
        if value is not None:
            if value < 0:
                raise DeskGridError(f"--{name.replace('_', '-')} cannot be negative.")
            fields[key] = value
    for name, key in (
        ("upload_quota", "upload_quota_bytes"),
        ("min_free_disk", "min_free_disk_bytes"),
    ):
        value = getattr(args, name)
        if value is not None:
            if value < 0:
                raise DeskGridError(f"--{name.replace('_', '-')} cannot be negative.")
            fields[key] = int(value * MIB)
    config = GridConfig(**fields)  # type: ignore[arg-type]
    if not 1 <= config.worker_quota_min <= config.worker_quota_start <= config.worker_quota_max:
        raise DeskGridError(
            "The lease quotas must keep 1 <= --quota-min <= --quota-start <= --quota-max."
        )
    return config


def _serve(args: argparse.Namespace) -> int:
    from deskgrid.grid.server import serve

    if not 0 <= args.port <= 65535:
        raise DeskGridError("--port must be between 0 and 65535.")
    config = config_from_args(args)
    catalog = load_catalog(args.catalog)

    def ready(url: str, service: GridService) -> None:
        where = service.token_file or "the command line"
        print(f"grid listening on {url}", flush=True)
        print(f"database: {service.db.dialect}, schema version {service.schema_version}")
        print(f"apps: {', '.join(sorted(service.catalog)) or 'none'}")
        print(f"submitter token: from {where}", flush=True)

    serve(config, catalog, on_ready=ready, log_level=args.log_level)
    print("grid stopped", file=sys.stderr)
    return 0

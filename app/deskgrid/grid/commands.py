"""`deskgrid grid …` subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from deskgrid import argtypes
from deskgrid.argtypes import argument_type
from deskgrid.errors import DeskGridError
from deskgrid.grid.catalog import LiveCatalog, load_catalog
from deskgrid.grid.chain_catalog import DEFAULT_REFRESH_S
from deskgrid.grid.clientaddr import TrustedProxies
from deskgrid.grid.config import MIB, GridConfig, JobDefaults
from deskgrid.grid.service import GridService
from deskgrid.grid.stakes import StakeBook

if TYPE_CHECKING:
    from deskgrid.chain.contracts import HubContract
    from deskgrid.grid.chain_catalog import ChainCatalog

MIN_TOKEN = 16


def _token_check(text: str) -> str:
    value = text.strip()
    odd = any(not c.isprintable() or c.isspace() for c in value)
    if odd or not MIN_TOKEN <= len(value) <= 512:
        raise DeskGridError(
            f"A submitter token is {MIN_TOKEN} to 512 characters without spaces "
            "(the grid's own are dgs_…); give the one from the grid's submitter.token."
        )
    return value


def _grid_token_file_check(text: str) -> Path:
    path = Path(text.strip()).expanduser()
    if not text.strip() or not path.is_file():
        why = "it is a folder" if path.is_dir() else "no such file"
        raise DeskGridError(
            f"Cannot read the grid token file {text} ({why}); give the file the grid server "
            "wrote (submitter.token in its data folder) or a file with the token on one line."
        )
    return path


def _database_url_check(text: str) -> str:
    value = text.strip()
    if value.startswith("sqlite:///"):
        target = Path(value.removeprefix("sqlite:///")).expanduser()
        if target.suffix.lower() not in argtypes.DATABASE_SUFFIXES or not target.parent.is_dir():
            raise DeskGridError(
                "A SQLite database URL is sqlite:///FILE where FILE ends in .db, .sqlite or "
                f".sqlite3 and its folder exists, not {value}."
            )
        return value
    if value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        from urllib.parse import urlparse

        try:
            parsed = urlparse(value)
            parsed.port  # noqa: B018 - raises ValueError on a port out of range
        except ValueError:
            parsed = None
        if parsed is not None and (parsed.hostname or "host=" in parsed.query):
            return value
    raise DeskGridError(
        "The database must be a URL such as sqlite:////srv/grid/grid.db or "
        f"postgresql://user@host/deskgrid, not '{value}'."
    )


def _catalog_check(text: str) -> str:
    import re

    value = text.strip()
    dotted = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
    if not re.fullmatch(rf"{dotted}(:[A-Za-z_][A-Za-z0-9_]*)?", value):
        raise DeskGridError(
            f"The catalog must be MODULE:ATTRIBUTE such as mypackage.apps:catalog, not '{value}'."
        )
    load_catalog(value)  # a sentence when it cannot be imported or is no catalog
    return value


def _public_url_check(text: str) -> str:
    return _public_url(text) or ""


_token = argument_type(_token_check, "token")
_database_url = argument_type(_database_url_check, "database URL")
_catalog = argument_type(_catalog_check, "catalog")
_public_url_type = argument_type(_public_url_check, "URL")
_lease_seconds = argtypes.seconds("a lease length in seconds", high=30 * 86400.0)
_short_seconds = argtypes.seconds("a number of seconds", high=3600.0)
_long_seconds = argtypes.seconds("a number of seconds", zero=True)
_rate = argtypes.decimal_number(0.0, 1e6, "a rate per second (0: no limit)")
_mib = argtypes.decimal_number(0.0, 2.0**50, "a number of MiB (0: none)")
_count0 = argtypes.whole_number(0, 2**31, "a number")
_count1 = argtypes.whole_number(1, 2**31, "a number")


def register(subparsers: argparse._SubParsersAction) -> None:
    grid = subparsers.add_parser("grid", help="run the desktop-grid server")
    sub = grid.add_subparsers(dest="grid_command", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="serve the grid API (jobs, leases, data) over HTTP")
    serve.add_argument(
        "--db",
        type=_database_url,
        help="database URL: sqlite:///FILE or postgresql://… (default: SQLite file)",
    )
    serve.add_argument(
        "--host", type=argtypes.host(), default="127.0.0.1", help="address to listen on"
    )
    serve.add_argument(
        "--port", type=argtypes.port(allow_zero=True), default=8750, help="port (0: a free one)"
    )
    serve.add_argument(
        "--data-dir",
        type=argtypes.folder("data folder"),
        help="data folder (default: DeskGrid's /grid)",
    )
    serve.add_argument(
        "--public-url",
        type=_public_url_type,
        metavar="URL",
        help="the URL workers use to reach this grid (behind a proxy: the proxy's, e.g. "
        "https://grid.example.org); worker sign-ins name it. Default: http://HOST:PORT",
    )
    serve.add_argument(
        "--chain-id",
        type=argtypes.whole_number(1, 2**53, "a chain id"),
        help="id of the chain this grid's work is paid on (signed in)",
    )
    serve.add_argument(
        "--submitter-token",
        action="append",
        type=_token,
        default=[],
        help="a token the operator / oracle uses to submit jobs (repeatable)",
    )
    serve.add_argument(
        "--token-file",
        type=argtypes.new_or_existing_file("token file", (".token", ".txt")),
        help="file of submitter tokens, one a line (made if absent)",
    )
    serve.add_argument(
        "--catalog",
        type=_catalog,
        help="MODULE:ATTRIBUTE giving the apps (a mapping name -> AppSpec, or a function "
        "returning one); default: DeskGrid's built-in apps",
    )
    serve.add_argument(
        "--delay-bound", type=_lease_seconds, help="default lease length in seconds (300)"
    )
    serve.add_argument(
        "--rate-limit", type=_rate, help="requests/s per worker (0: none; default 50)"
    )
    serve.add_argument(
        "--idle-retry", type=_short_seconds, help="seconds a worker waits when idle (5)"
    )
    serve.add_argument(
        "--reap-interval", type=_short_seconds, help="seconds between lease checks (1)"
    )
    net = serve.add_argument_group("network limits (see docs/operator.md)")
    net.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDR_OR_CIDR",
        type=argtypes.network("a proxy's address"),
        help="a reverse proxy whose X-Forwarded-For is believed (repeatable); without one, "
        "the client is the socket's peer",
    )
    net.add_argument(
        "--address-rate-limit", type=_rate, help="requests/s per client address (default 200)"
    )
    net.add_argument(
        "--login-rate-limit",
        type=_rate,
        help="challenges and logins/s per client address and per worker (default 2)",
    )
    net.add_argument("--header-timeout", type=_short_seconds, help="seconds to send headers (10)")
    net.add_argument("--body-timeout", type=_short_seconds, help="longest pause in a body, s (30)")
    net.add_argument(
        "--min-body-rate", type=_count0, help="bytes/s a body must average after that (4096)"
    )
    net.add_argument(
        "--send-timeout", type=_short_seconds, help="seconds a reply may go unread (60)"
    )
    net.add_argument("--keep-alive", type=_short_seconds, help="idle seconds before closing (5)")
    net.add_argument("--max-connections", type=_count1, help="open connections in all (2048)")
    net.add_argument("--max-connections-per-address", type=_count1, help="per client address (128)")
    limits = serve.add_argument_group("storage and lease limits")
    limits.add_argument(
        "--job-retention",
        metavar="S",
        type=_long_seconds,
        help="seconds finished jobs are kept (default 7 days)",
    )
    limits.add_argument(
        "--event-retention",
        metavar="S",
        type=_long_seconds,
        help="seconds events are kept (default 7 days)",
    )
    limits.add_argument(
        "--data-grace",
        metavar="S",
        type=_long_seconds,
        help="seconds unreferenced data is kept after it was stored (default 1 day)",
    )
    limits.add_argument(
        "--upload-quota",
        metavar="MIB",
        type=_mib,
        help="MiB of data each submitter token may upload a day (default 2048; 0: no quota)",
    )
    limits.add_argument(
        "--requester-upload-quota-mb",
        metavar="MIB",
        type=_mib,
        help="MiB of input files each requester wallet may upload a day (default 1024; 0: no "
        "quota)",
    )
    limits.add_argument(
        "--requester-upload-mb-per-hour",
        metavar="MIB",
        type=_mib,
        help="MiB all requester wallets together may upload an hour (default 4096; 0: no cap)",
    )
    limits.add_argument(
        "--min-free-disk",
        metavar="MIB",
        type=_mib,
        help="MiB of free disk below which uploads are refused (default 1024; 0: no floor)",
    )
    limits.add_argument(
        "--leases-per-core",
        metavar="N",
        type=_count1,
        help="leases in progress per declared core (default 2)",
    )
    limits.add_argument(
        "--max-active-leases",
        metavar="N",
        type=_count1,
        help="leases in progress per worker, at most (64)",
    )
    limits.add_argument(
        "--quota-start",
        metavar="N",
        type=_count1,
        help="leases a day for a new worker identity (default 8)",
    )
    limits.add_argument(
        "--quota-max", metavar="N", type=_count1, help="largest daily lease quota (default 100000)"
    )
    limits.add_argument(
        "--quota-min", metavar="N", type=_count1, help="smallest daily lease quota (default 1)"
    )
    limits.add_argument(
        "--lease-grace",
        metavar="S",
        type=_long_seconds,
        help="seconds a lease may outlive its app's max run time (default 300)",
    )
    trust = serve.add_argument_group(
        "consensus by credibility and stake (jobs with a trust level, see docs/operator.md)"
    )
    trust.add_argument(
        "--assume-bad",
        metavar="F",
        type=argtypes.decimal_number(0.0, 0.999, "a share of bad voters", above_low=True),
        help="share of bad results assumed when weighing votes, 0 < F < 1 (default 0.3)",
    )
    trust.add_argument(
        "--min-agree",
        metavar="N",
        type=argtypes.whole_number(1, 20, "a number of stakeholders"),
        help="distinct stakeholders that must agree on a trust job's outcome when its "
        "policy names none (default 2; levels 4 and 5 need at least 3)",
    )
    trust.add_argument(
        "--spot-check-rate",
        metavar="R",
        type=argtypes.decimal_number(0.0, 1.0, "a share of jobs"),
        help="share of trust jobs given one more hidden replica after they agree, and of "
        "trusted workers' leases that stay replicated (default 0.1)",
    )
    trust.add_argument(
        "--chain-rpc",
        metavar="URL",
        type=argtypes.url("chain RPC URL"),
        help="JSON-RPC URL of the chain whose hub holds the stakes (with --hub); without "
        "it nobody has stake and jobs that need stake are never leased",
    )
    trust.add_argument(
        "--hub",
        metavar="ADDRESS",
        type=_hub_address,
        help="the hub contract's address (with --chain-rpc)",
    )
    published = serve.add_argument_group(
        "published apps (Docker apps of the hub's developers, see docs/operator.md)"
    )
    published.add_argument(
        "--app-policy",
        metavar="FILE",
        type=argtypes.existing_file("app policy file"),
        help='JSON file of the published apps served: {"docker_apps": "none"}, "all", or '
        '"allow-list" with "apps" (ids), "owners" (addresses), "images" (image ids); read '
        "again when it changes. Needs --chain-rpc and --hub. Without it: none",
    )
    published.add_argument(
        "--catalog-refresh",
        metavar="S",
        type=argtypes.seconds("a number of seconds", high=3600.0),
        default=DEFAULT_REFRESH_S,
        help=f"seconds between reads of the hub's published apps and the policy file "
        f"(default {DEFAULT_REFRESH_S:g})",
    )
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=("critical", "error", "warning", "info", "debug", "trace"),
        help="uvicorn log level",
    )
    serve.set_defaults(handler=_serve)
    workers = sub.add_parser(
        "workers", help="list a grid's workers: address, payout address, results (submitter)"
    )
    workers.add_argument(
        "--grid",
        required=True,
        type=argtypes.url("grid URL"),
        metavar="URL",
        help="the grid server's URL",
    )
    add_grid_token_options(workers)
    workers.set_defaults(handler=_workers)


def add_grid_token_options(parser: argparse.ArgumentParser) -> None:
    """`--grid-token` and `--grid-token-file` (else $DESKGRID_GRID_TOKEN) for a command that
    calls a grid as a submitter."""
    parser.add_argument(
        "--grid-token",
        type=_token,
        help="submitter token of the grid server (other users can see it in the process "
        "list: prefer --grid-token-file or $DESKGRID_GRID_TOKEN)",
    )
    parser.add_argument(
        "--grid-token-file",
        type=argument_type(_grid_token_file_check, "grid token file"),
        metavar="FILE",
        help="file holding the submitter token (e.g. the grid's submitter.token)",
    )


def config_from_args(args: argparse.Namespace) -> GridConfig:
    defaults = JobDefaults()
    if args.delay_bound is not None:
        defaults = JobDefaults(delay_bound=args.delay_bound)
    fields: dict[str, object] = {
        "db_url": args.db,
        "host": args.host,
        "port": args.port,
        "public_url": _public_url(args.public_url),
        "chain_id": args.chain_id,
        "data_dir": args.data_dir,
        "submitter_tokens": tuple(args.submitter_token),
        "token_file": args.token_file,
        "defaults": defaults,
        "trusted_proxies": tuple(TrustedProxies(args.trusted_proxy).specs()),
    }
    for name, key in (
        ("rate_limit", "rate_limit_per_s"),
        ("idle_retry", "idle_retry_s"),
        ("reap_interval", "reap_interval_s"),
        ("address_rate_limit", "address_rate_limit_per_s"),
        ("login_rate_limit", "login_rate_limit_per_s"),
        ("header_timeout", "header_timeout_s"),
        ("body_timeout", "body_timeout_s"),
        ("min_body_rate", "min_body_rate"),
        ("send_timeout", "send_timeout_s"),
        ("keep_alive", "keep_alive_s"),
        ("max_connections", "max_connections"),
        ("max_connections_per_address", "max_connections_per_address"),
        ("job_retention", "job_retention_s"),
        ("event_retention", "event_retention_s"),
        ("data_grace", "data_grace_s"),
        ("leases_per_core", "max_active_leases_per_core"),
        ("max_active_leases", "max_active_leases_per_worker"),
        ("quota_start", "worker_quota_start"),
        ("quota_max", "worker_quota_max"),
        ("quota_min", "worker_quota_min"),
        ("lease_grace", "lease_grace_s"),
        ("assume_bad", "assume_bad"),
        ("min_agree", "min_agree"),
        ("spot_check_rate", "spot_check_rate"),
    ):
        value = getattr(args, name)  # ranges checked by the options' argparse types
        if value is not None:
            fields[key] = value
    for name, key in (
        ("upload_quota", "upload_quota_bytes"),
        ("min_free_disk", "min_free_disk_bytes"),
        ("requester_upload_quota_mb", "requester_upload_quota_bytes"),
        ("requester_upload_mb_per_hour", "requester_upload_bytes_per_hour"),
    ):
        value = getattr(args, name)
        if value is not None:
            fields[key] = int(value * MIB)
    config = GridConfig(**fields)  # type: ignore[arg-type]
    if not 1 <= config.worker_quota_min <= config.worker_quota_start <= config.worker_quota_max:
        raise DeskGridError(
            "The lease quotas must keep 1 <= --quota-min <= --quota-start <= --quota-max."
        )
    return config


def hub_from_args(args: argparse.Namespace) -> HubContract | None:
    """The hub of --chain-rpc and --hub (None without them; a sentence when only one is
    given, or when --app-policy is given without them)."""
    if (args.chain_rpc is None) != (args.hub is None):
        raise DeskGridError(
            "Give both --chain-rpc and --hub to lease staked jobs by the hub's stakes, or neither."
        )
    if args.chain_rpc is None:
        if getattr(args, "app_policy", None) is not None:
            raise DeskGridError(
                "--app-policy needs --chain-rpc and --hub: the published apps are read from "
                "the hub on its chain."
            )
        return None
    from deskgrid.chain.arguments import open_hub
    from deskgrid.chain.connection import connect

    return open_hub(connect(args.chain_rpc), args.hub)


def stake_book_from_args(
    args: argparse.Namespace, hub: HubContract | None = None
) -> StakeBook | None:
    """The hub's stakes with --chain-rpc and --hub; None (nobody has stake) without them."""
    hub = hub or hub_from_args(args)
    if hub is None:
        return None
    from deskgrid.grid.stakes import HubStakes

    return HubStakes(hub)


def catalog_follower(
    args: argparse.Namespace, catalog: LiveCatalog, hub: HubContract | None
) -> ChainCatalog | None:
    """With --app-policy: what keeps `catalog`'s published apps those of the hub the policy
    allows, read once now (a bad policy file or an unreadable chain is a sentence)."""
    if args.app_policy is None or hub is None:
        return None
    from deskgrid.grid.chain_catalog import ChainCatalog

    follower = ChainCatalog(catalog, hub, args.app_policy, refresh_s=args.catalog_refresh)
    follower.load()
    return follower


def _hub_address(text: str) -> str:
    from deskgrid.chain.arguments import address

    return address("the hub's address")(text)


def _public_url(url: str | None) -> str | None:
    from deskgrid.grid.signin import normalize_url

    if url is None:
        return None
    try:
        return normalize_url(url)
    except ValueError as exc:
        raise DeskGridError(
            f"--public-url: {exc}; give the plain base URL workers use, "
            "e.g. https://grid.example.org or http://192.0.2.10:8750."
        ) from None


def _serve(args: argparse.Namespace) -> int:
    from deskgrid.grid.server import serve

    # every value was checked by its argparse type; what is left relates several options
    if args.public_url is None and args.host in ("0.0.0.0", "::", ""):
        print(
            f"warning: listening on {args.host or 'all addresses'} without --public-url: "
            "workers must sign in with the URL this grid names; give --public-url with the "
            "address they use.",
            file=sys.stderr,
        )
    config = config_from_args(args)
    catalog = LiveCatalog(load_catalog(args.catalog))
    hub = hub_from_args(args)
    stakes = stake_book_from_args(args, hub)
    follower = catalog_follower(args, catalog, hub)

    def ready(url: str, service: GridService) -> None:
        where = service.token_file or "the command line"
        print(f"grid listening on {url}", flush=True)
        print(f"public URL: {service.auth.origin} (grid id {service.auth.grid_id})")
        print(f"database: {service.db.dialect}, schema version {service.schema_version}")
        print(f"apps: {', '.join(sorted(service.catalog)) or 'none'}")
        if follower is not None:
            print(f"published apps: {follower.policy.describe()} ({args.app_policy})")
        print(f"submitter token: from {where}", flush=True)

    if follower is not None:
        follower.start()
    try:
        serve(config, catalog, on_ready=ready, log_level=args.log_level, stakes=stakes)
    finally:
        if follower is not None:
            follower.stop()
    print("grid stopped", file=sys.stderr)
    return 0


def _workers(args: argparse.Namespace) -> int:
    import asyncio

    from deskgrid.grid.client import GridClient
    from deskgrid.grid.tokens import grid_token

    token = grid_token(args.grid_token, args.grid_token_file)
    if token is None:
        raise DeskGridError(
            "Listing workers needs the grid's submitter token: give --grid-token-file FILE "
            "or set DESKGRID_GRID_TOKEN."
        )

    async def fetch() -> list:
        async with GridClient(args.grid, token=token) as grid:
            return await grid.workers()

    for worker in asyncio.run(fetch()):
        state = "online" if worker.online else "offline"
        print(
            f"{worker.address}  payout {worker.payout or '(itself)'}  {state}  "
            f"valid {worker.n_valid}  invalid {worker.n_invalid}  {worker.name or ''}".rstrip(),
            flush=True,
        )
    return 0

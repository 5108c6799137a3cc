"""Settings of one grid server: where it keeps things, default scheduling policy, limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deskgrid.grid.credibility import TRUST_LEVELS, TrustLevel
from deskgrid.grid.files import private_dir
from deskgrid.paths import sub_dir

MIB = 1024 * 1024


@dataclass(frozen=True)
class JobDefaults:
    """Scheduling policy used when a submission does not set it (BOINC names)."""

    delay_bound: float = 300.0  # seconds a lease lives without a heartbeat
    target_nresults: int = 1  # replicas handed out at first
    min_quorum: int = 1  # agreeing results needed for a canonical result
    max_error_results: int = 3  # errors (reported or lost leases) before the job is ERROR
    max_total_results: int = 10  # replicas ever created before giving up


@dataclass(frozen=True)
class GridConfig:
    """Everything a grid server needs; the defaults suit a desktop."""

    db_url: str | None = None  # None: SQLite file `grid.db` in data_dir
    data_dir: Path | None = None  # None: `<DeskGrid data folder>/grid`
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port chosen at start
    # the URL workers reach this grid at (behind a proxy: the proxy's); None: http://host:port
    # it listens on. Worker sign-ins name it: a signature made for another URL is refused.
    public_url: str | None = None
    chain_id: int | None = None  # the chain this grid's work is paid on, when it knows one
    submitter_tokens: tuple[str, ...] = ()  # empty: read (or create) the token file
    token_file: Path | None = None  # None: `<data_dir>/submitter.token`
    defaults: JobDefaults = field(default_factory=JobDefaults)
    # adaptive replication: hosts with this many consecutive valid results get unreplicated
    # jobs, except for a random spot-check share
    trust_threshold: int = 10
    # the share of leases spot-checked: adaptive replication's unreplicated leases, and the
    # trust jobs that reached consensus but get one more replica first (hidden spot check)
    spot_check_rate: float = 0.1
    # consensus by credibility (jobs with a trust level, see `credibility`): the share of bad
    # voters assumed, the distinct stakeholders that must agree by default, each level's needs
    assume_bad: float = 0.3
    min_agree: int = 2
    trust_levels: Mapping[int, TrustLevel] = field(default_factory=lambda: dict(TRUST_LEVELS))
    max_data_bytes: int = 64 * MIB
    max_result_bytes: int = 16 * MIB
    max_json_bytes: int = 1 * MIB
    max_leases_per_request: int = 32
    # leases in progress per worker (BOINC's max_wus_in_progress): this many per core the
    # worker declares, never more than the absolute cap
    max_active_leases_per_core: int = 2
    max_active_leases_per_worker: int = 64
    # the daily lease quota (BOINC's daily_result_quota): a new identity may take this many
    # leases in a day; each valid result doubles it (up to the max), each expired lease or
    # invalid result halves it, each reported error takes one off (down to the min)
    worker_quota_start: int = 8
    worker_quota_max: int = 100_000
    worker_quota_min: int = 1
    # heartbeats never keep a lease past leased_at + the app's max_seconds + this grace
    lease_grace_s: float = 300.0
    idle_retry_s: float = 5.0  # retry_after told to a worker when there is nothing to do
    challenge_ttl_s: float = 300.0
    worker_token_ttl_s: float = 7 * 86400.0
    max_json_depth: int = 64  # nesting of arrays/objects in a JSON body
    # a checked worker token is trusted this long without asking the database again: a token
    # revoked by another server process on the same database stops working within this time
    token_cache_s: float = 5.0
    # rate limits; rate_limit_per_s = 0 disables them all (a trusted network, tests)
    rate_limit_per_s: float = 50.0  # per worker token / per client address
    rate_limit_burst: float = 200.0
    address_rate_limit_per_s: float = 200.0  # every request, per client address (IPv6: /64)
    address_rate_limit_burst: float = 400.0
    login_rate_limit_per_s: float = 2.0  # challenges and logins, per address and per worker
    login_rate_limit_burst: float = 30.0
    rate_limit_keys: int = 100_000  # buckets kept per limit (least recently used go first)
    trusted_proxies: tuple[str, ...] = ()  # only these may set X-Forwarded-For
    # connections (see grid.connguard)
    header_timeout_s: float = 10.0  # from the connection opening (or last reply) to headers
    body_timeout_s: float = 30.0  # longest pause inside a request body
    min_body_rate: int = 4096  # bytes/s a request body must average after body_timeout_s
    send_timeout_s: float = 60.0  # longest a client may leave a reply unread
    keep_alive_s: float = 5.0  # idle time before a keep-alive connection is closed
    max_header_bytes: int = 64 * 1024  # request line and headers of one request
    max_connections: int = 2048  # open connections in all (older idle ones make room)
    max_connections_per_address: int = 128  # per client socket address (IPv6: /64)
    reap_interval_s: float = 1.0  # how often expired leases and deadlines are checked
    event_retention_s: float = 7 * 86400.0
    job_retention_s: float = 7 * 86400.0  # finished jobs (leases, events) kept this long
    data_grace_s: float = 86400.0  # an unreferenced blob stored this recently is kept
    upload_quota_bytes: int = 2 * 1024 * MIB  # new data bytes per identity per day; 0: none
    requester_upload_quota_bytes: int = 1024 * MIB  # per requester address a day; 0: none
    requester_upload_bytes_per_hour: int = 4096 * MIB  # all requesters together; 0: no cap
    min_free_disk_bytes: int = 1024 * MIB  # uploads are refused (507) below this free space
    cleanup_batch: int = 200  # jobs / blobs examined per housekeeping batch
    workers_online_s: float = 120.0  # a worker seen this recently counts as online
    sse_poll_s: float = 1.0  # how often a stream looks for events written by other servers

    def resolved_data_dir(self) -> Path:
        path = self.data_dir if self.data_dir is not None else sub_dir("grid")
        return private_dir(path)

    def resolved_db_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.resolved_data_dir() / 'grid.db'}"

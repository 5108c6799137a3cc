"""Settings of one grid server: where it keeps things, default scheduling policy, limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
    submitter_tokens: tuple[str, ...] = ()  # empty: read (or create) the token file
    token_file: Path | None = None  # None: `<data_dir>/submitter.token`
    defaults: JobDefaults = field(default_factory=JobDefaults)
    # adaptive replication: hosts with this many consecutive valid results get unreplicated
    # jobs, except for a random spot-check share
    trust_threshold: int = 10
    spot_check_rate: float = 0.1
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
    rate_limit_per_s: float = 50.0  # per worker token / per client address; 0 disables
    rate_limit_burst: float = 200.0
    reap_interval_s: float = 1.0  # how often expired leases and deadlines are checked
    event_retention_s: float = 7 * 86400.0
    job_retention_s: float = 7 * 86400.0  # finished jobs (leases, events) kept this long
    data_grace_s: float = 86400.0  # an unreferenced blob stored this recently is kept
    upload_quota_bytes: int = 2 * 1024 * MIB  # new data bytes per identity per day; 0: none
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

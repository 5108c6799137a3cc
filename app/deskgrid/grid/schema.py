"""The tables as the code sees them (the current schema; `migrations` creates them)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Integer, LargeBinary, MetaData, Table, Text

metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("external_id", Text, unique=True),
    Column("app", Text, nullable=False),
    Column("app_version", Text, nullable=False),
    Column("params", Text, nullable=False),  # JSON
    Column("inputs", Text, nullable=False),  # JSON list of {name, sha256, size}
    Column("state", Text, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("target_nresults", Integer, nullable=False),  # as submitted
    Column("min_quorum", Integer, nullable=False),
    Column("max_error_results", Integer, nullable=False),
    Column("max_total_results", Integer, nullable=False),
    Column("delay_bound", Float, nullable=False),
    Column("max_runtime", Float, nullable=False),
    Column("deadline", Float),
    Column("adaptive", Integer, nullable=False),  # 1: may go unreplicated to trusted hosts
    Column("verifiable", Integer, nullable=False),
    Column("eff_target", Integer, nullable=False),  # in force now (adaptive / verifier)
    Column("eff_quorum", Integer, nullable=False),
    Column("need_cores", Integer, nullable=False),
    Column("need_memory_mb", Integer, nullable=False),
    Column("need_docker", Integer, nullable=False),
    Column("n_wanted", Integer, nullable=False),  # leases to hand out now
    Column("n_in_progress", Integer, nullable=False),
    Column("n_success", Integer, nullable=False),  # results waiting for the vote
    Column("n_errors", Integer, nullable=False),
    Column("n_total", Integer, nullable=False),  # leases ever created
    Column("canonical_lease", Text),
    Column("result_sha256", Text),
    Column("result_size", BigInteger),
    Column("progress", Float, nullable=False),
    Column("keys_per_s", Float, nullable=False),
    Column("message", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("completed_at", Float),
)

leases = Table(
    "leases",
    metadata,
    Column("id", Text, primary_key=True),
    Column("job_id", Text, nullable=False),
    Column("worker", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("adaptive", Integer, nullable=False),  # issued unreplicated to a trusted host
    Column("leased_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("heartbeat_at", Float),
    Column("progress", Float, nullable=False),
    Column("keys_per_s", Float, nullable=False),
    Column("result_sha256", Text),
    Column("result_size", BigInteger),
    Column("message", Text),
    Column("finished_at", Float),
)

workers = Table(
    "workers",
    metadata,
    Column("address", Text, primary_key=True),
    Column("name", Text),
    Column("apps", Text, nullable=False),  # JSON list of app names
    Column("cores", Integer, nullable=False),
    Column("memory_mb", Integer, nullable=False),
    Column("docker", Integer, nullable=False),
    Column("consecutive_valid", Integer, nullable=False),
    Column("n_valid", Integer, nullable=False),
    Column("n_invalid", Integer, nullable=False),
    Column("n_errors", Integer, nullable=False),
    Column("n_expired", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
)

worker_tokens = Table(
    "worker_tokens",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("address", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

challenges = Table(
    "challenges",
    metadata,
    Column("nonce", Text, primary_key=True),
    Column("address", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used", Integer, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=True),
    Column("job_id", Text, nullable=False),
    Column("external_id", Text),
    Column("kind", Text, nullable=False),
    Column("at", Float, nullable=False),
    Column("data", Text, nullable=False),  # JSON
)

blobs = Table(  # small content; larger content is a file in the data folder (`datastore`)
    "blobs",
    metadata,
    Column("sha256", Text, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),  # first stored (for a retention policy)
)

grid_schema = Table(
    "grid_schema",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", Text, nullable=False),
    Column("applied_at", Float, nullable=False),
)

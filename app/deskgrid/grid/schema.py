"""The grid's schema, declared once: tables, columns, keys and indexes (the source of truth).

The code's SQLAlchemy statements use these tables and its raw hot-path statements (`queries`,
`datastore`) name them; `migrations` builds this schema in frozen steps, so a change here is a
new step there. `tests/grid_schema_check.py` guards the agreement on SQLite and PostgreSQL: a
database built by the migrations must reflect the same as one built from this module, and
every raw statement must compile against both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    text,
)

metadata = MetaData()


def _partial(where: ColumnElement[bool]) -> dict[str, Any]:
    """A partial index's predicate, on both dialects."""
    return {"sqlite_where": where, "postgresql_where": where}


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
    Column("finished_at", Float),  # when it became COMPLETED, ERROR or CANCELLED (retention)
    # consensus by credibility (`credibility`): the trust level (None: the quorum vote), the
    # distinct stakeholders that must agree, the free stake a replica's stakeholder needs
    # (nRLC) and the hidden spot check (None: not drawn yet; else the votes the job needs
    # before it may complete, 0: no check)
    Column("trust", Integer),
    Column("min_agree", Integer),
    Column("stake", BigInteger, nullable=False, server_default=text("0")),
    Column("spot_votes", Integer),
    # the requester's public key (compressed secp256k1, hex) its workers encrypt the result
    # to, sent in every lease of the job (None: the result is in clear)
    Column("result_key", Text),
)
# The leasing query repeats this predicate literally (SQLite uses a partial index only then).
_OPEN = (jobs.c.n_wanted > 0) & jobs.c.state.in_(["PENDING", "RUNNING"])
Index("ix_jobs_queue", jobs.c.priority.desc(), jobs.c.created_at, jobs.c.id, **_partial(_OPEN))
Index("ix_jobs_state", jobs.c.state, jobs.c.created_at)
Index("ix_jobs_app", jobs.c.app, jobs.c.created_at)
Index("ix_jobs_created", jobs.c.created_at)
Index("ix_jobs_finished", jobs.c.finished_at, **_partial(jobs.c.finished_at.is_not(None)))

job_inputs = Table(  # the data each job reads, so that collection finds references fast
    "job_inputs",
    metadata,
    Column("job_id", Text, ForeignKey("jobs.id"), primary_key=True),
    Column("sha256", Text, primary_key=True),
)
Index("ix_job_inputs_sha256", job_inputs.c.sha256)

leases = Table(
    "leases",
    metadata,
    Column("id", Text, primary_key=True),
    Column("job_id", Text, ForeignKey("jobs.id"), nullable=False),
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
    Column("hard_deadline", Float),  # leased_at + max_runtime + grace: no heartbeat goes past
    # the stakeholder: the worker's payout at lease time, else the worker itself (leases made
    # before it was recorded: as their worker's payout was when it was)
    Column("owner", Text),
)
Index("ix_leases_job", leases.c.job_id, leases.c.state)
Index("ix_leases_worker", leases.c.worker, leases.c.state)
Index("ix_leases_expiry", leases.c.expires_at, **_partial(leases.c.state == "IN_PROGRESS"))
Index("ix_leases_result", leases.c.result_sha256, **_partial(leases.c.result_sha256.is_not(None)))
Index(  # one live or voted result per stakeholder and job (so per worker too)
    "ux_leases_one_vote_per_owner",
    leases.c.job_id,
    leases.c.owner,
    unique=True,
    **_partial(leases.c.state.in_(["IN_PROGRESS", "SUCCESS", "VALID", "INVALID"])),
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
    Column("payout", Text),  # the address paid for its work (signed at login); None: itself
    # the daily lease quota (None: the configured start) and the leases taken in the
    # current window (a day from `quota_window`)
    Column("daily_quota", Integer),
    Column("quota_window", Float),
    Column("quota_used", Integer),
)
Index("ix_workers_seen", workers.c.last_seen)

worker_tokens = Table(
    "worker_tokens",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("address", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)
Index("ix_tokens_expiry", worker_tokens.c.expires_at)
Index("ix_tokens_address", worker_tokens.c.address)

challenges = Table(
    "challenges",
    metadata,
    Column("nonce", Text, primary_key=True),
    Column("address", Text, nullable=False),
    Column("issued_at", Float, nullable=False),  # whole seconds, as in the signed message
    Column("expires_at", Float, nullable=False),
    Column("used", Integer, nullable=False),
    Column("role", Text, nullable=False, server_default=text("'worker'")),  # or 'requester'
)
Index("ix_challenges_expiry", challenges.c.expires_at)

requester_tokens = Table(  # wallets signed in to store inputs and fetch results (data only)
    "requester_tokens",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("address", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)
Index("ix_requester_tokens_expiry", requester_tokens.c.expires_at)
Index("ix_requester_tokens_address", requester_tokens.c.address, requester_tokens.c.created_at)

events = Table(
    "events",
    metadata,
    # SQLite: INTEGER PRIMARY KEY AUTOINCREMENT (the rowid); PostgreSQL: a BIGINT identity
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True),
    Column("job_id", Text, nullable=False),
    Column("external_id", Text),
    Column("kind", Text, nullable=False),
    Column("at", Float, nullable=False),
    Column("data", Text, nullable=False),  # JSON
    sqlite_autoincrement=True,
)
Index("ix_events_job", events.c.job_id, events.c.seq)
Index("ix_events_at", events.c.at)

blobs = Table(  # small content; larger content is a file in the data folder (`datastore`)
    "blobs",
    metadata,
    Column("sha256", Text, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    # stored, or stored again / named by a submission, at (collection's grace period)
    Column("created_at", Float, nullable=False),
)
Index("ix_blobs_created", blobs.c.created_at, blobs.c.sha256)

data_uploads = Table(  # which requester uploaded which content (it may read it back)
    "data_uploads",
    metadata,
    Column("sha256", Text, primary_key=True),
    Column("address", Text, primary_key=True),  # the requester's wallet address
    # uploaded, or uploaded again, at (collection forgets it with its content)
    Column("recorded_at", Float, nullable=False),
)

upload_usage = Table(  # bytes each identity uploaded in its current window of a day
    "upload_usage",
    metadata,
    Column("identity", Text, primary_key=True),
    Column("window_start", Float, nullable=False),
    Column("bytes", BigInteger, nullable=False),
)

grid_meta = Table(  # facts about this grid, e.g. its random `grid_id` (made once)
    "grid_meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

grid_schema = Table(
    "grid_schema",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", Float, nullable=False),
)

"""The hot-path statements, written once: the leasing query (walks the queue index in
order and stops at its LIMIT) and the per-result statements. Built at import so that a
request pays only for execution, not for building SQL."""

from __future__ import annotations

from sqlalchemy import bindparam, text

_CANDIDATES = """
SELECT jobs.id, jobs.external_id, jobs.app, jobs.app_version, jobs.params, jobs.inputs,
       jobs.delay_bound, jobs.max_runtime, jobs.n_total, jobs.eff_target, jobs.adaptive,
       jobs.verifiable
FROM jobs {hint}
WHERE jobs.n_wanted > 0 AND jobs.state IN ('PENDING', 'RUNNING')
  AND jobs.app IN :apps
  AND jobs.need_cores <= :cores AND jobs.need_memory_mb <= :memory
  AND jobs.need_docker <= :docker
  AND NOT EXISTS (
      SELECT 1 FROM leases
      WHERE leases.job_id = jobs.id AND leases.worker = :worker
        AND leases.state IN ('IN_PROGRESS', 'SUCCESS', 'VALID', 'INVALID'))
ORDER BY jobs.priority DESC, jobs.created_at, jobs.id
LIMIT :room {lock}
"""

# SQLite: name the partial queue index (its predicate is repeated literally above);
# PostgreSQL: lock the rows taken, skip the ones another server is leasing right now.
CANDIDATES_SQLITE = text(_CANDIDATES.format(hint="INDEXED BY ix_jobs_queue", lock="")).bindparams(
    bindparam("apps", expanding=True)
)
CANDIDATES_POSTGRESQL = text(
    _CANDIDATES.format(hint="", lock="FOR UPDATE OF jobs SKIP LOCKED")
).bindparams(bindparam("apps", expanding=True))

TAKE_ONE = text(
    """
UPDATE jobs SET n_wanted = n_wanted - 1, n_in_progress = n_in_progress + 1,
       n_total = n_total + 1, state = 'RUNNING', updated_at = :now
WHERE id = :id AND n_wanted > 0 AND state IN ('PENDING', 'RUNNING')
  AND n_total < max_total_results
RETURNING n_in_progress
"""
)

TAKE_UNREPLICATED = text(
    """
UPDATE jobs SET n_wanted = 0, eff_target = 1, eff_quorum = 1,
       n_in_progress = n_in_progress + 1, n_total = n_total + 1, state = 'RUNNING',
       updated_at = :now
WHERE id = :id AND n_wanted > 0 AND state IN ('PENDING', 'RUNNING') AND n_total = 0
RETURNING n_in_progress
"""
)

INSERT_LEASE = text(
    """
INSERT INTO leases (id, job_id, worker, state, adaptive, leased_at, expires_at, progress,
                    keys_per_s)
VALUES (:id, :job_id, :worker, 'IN_PROGRESS', :adaptive, :now, :expires, 0.0, 0.0)
"""
)

ACTIVE_LEASES_OF_WORKER = text(
    "SELECT count(*) FROM leases WHERE worker = :worker AND state = 'IN_PROGRESS'"
)

TOUCH_WORKER = text(
    """
UPDATE workers SET apps = :apps, cores = :cores, memory_mb = :memory, docker = :docker,
       last_seen = :now
WHERE address = :address
"""
)

LEASE_BY_ID = text("SELECT * FROM leases WHERE id = :id")
JOB_BY_ID = text("SELECT * FROM jobs WHERE id = :id")
JOB_BY_ID_LOCKED = text("SELECT * FROM jobs WHERE id = :id FOR UPDATE")

RECORD_RESULT = text(
    """
UPDATE leases SET state = :state, result_sha256 = :sha256, result_size = :size,
       progress = 1.0, keys_per_s = 0.0, finished_at = :now
WHERE id = :id AND state = 'IN_PROGRESS'
"""
)

LIVE_LEASES_OF_JOB = text(
    """
SELECT id, worker, state, result_sha256, result_size FROM leases
WHERE job_id = :job_id AND state IN ('IN_PROGRESS', 'SUCCESS', 'VALID')
ORDER BY leased_at, id
"""
)

LEASE_STATE = text("SELECT state FROM leases WHERE id = :id")

SET_LEASES_STATE = text("UPDATE leases SET state = :state WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)

COMPLETE_JOB = text(
    """
UPDATE jobs SET state = 'COMPLETED', canonical_lease = :lease_id, result_sha256 = :sha256,
       result_size = :size, n_wanted = 0, n_in_progress = 0, n_success = 0, progress = 1.0,
       keys_per_s = 0.0, updated_at = :now, completed_at = :now
WHERE id = :id
"""
)

SETTLE_OPEN_JOB = text(
    """
UPDATE jobs SET state = :state, n_wanted = :wanted, n_in_progress = :running,
       n_success = :successes, updated_at = :now
WHERE id = :id
"""
)

INSERT_EVENT = text(
    "INSERT INTO events (job_id, external_id, kind, at, data) "
    "VALUES (:job_id, :external_id, :kind, :at, :data)"
)

WORKER_BY_ADDRESS = text("SELECT * FROM workers WHERE address = :address")

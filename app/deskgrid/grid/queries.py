"""The hot-path statements, written once: the leasing query (walks the queue index in
order and stops at its LIMIT), the per-result statements and the job outcomes. They run on
the driver connection (`rawsql.Raw`), rendered at import for each driver's style."""

from __future__ import annotations

from deskgrid.grid.rawsql import Sql

_CANDIDATES = """
SELECT jobs.id, jobs.external_id, jobs.app, jobs.app_version, jobs.params, jobs.inputs,
       jobs.delay_bound, jobs.max_runtime, jobs.n_total, jobs.eff_target, jobs.adaptive,
       jobs.verifiable, jobs.trust, jobs.min_agree, jobs.result_key
FROM jobs {hint}
WHERE jobs.n_wanted > 0 AND jobs.state IN ('PENDING', 'RUNNING')
  AND {apps}
  AND jobs.need_cores <= :cores AND jobs.need_memory_mb <= :memory
  AND jobs.need_docker <= :docker AND jobs.stake <= :free_stake
  AND NOT EXISTS (
      SELECT 1 FROM leases
      WHERE leases.job_id = jobs.id AND (leases.owner = :owner OR leases.worker = :worker)
        AND leases.state IN ('IN_PROGRESS', 'SUCCESS', 'VALID', 'INVALID', 'ERROR')
        AND (leases.state <> 'ERROR' OR jobs.trust IS NOT NULL))
ORDER BY jobs.priority DESC, jobs.created_at, jobs.id
LIMIT :room {lock}
"""

# One replica per stakeholder (`owner`: the worker's payout, else itself) and worker: a live
# or voted one, or (trust jobs: a reported error is a vote) an error; only the jobs whose
# stake the stakeholder's free stake covers.
# SQLite: name the partial queue index (its predicate is repeated literally above), the
# apps as a JSON list; PostgreSQL: the apps as an array, lock the rows taken, skip the ones
# another server is leasing right now.
CANDIDATES = Sql(
    _CANDIDATES.format(
        hint="INDEXED BY ix_jobs_queue",
        apps="jobs.app IN (SELECT value FROM json_each(:apps))",
        lock="",
    ),
    postgresql=_CANDIDATES.format(
        hint="", apps="jobs.app = ANY(:apps)", lock="FOR UPDATE OF jobs SKIP LOCKED"
    ),
)

TAKE_ONE = Sql(
    """
UPDATE jobs SET n_wanted = n_wanted - 1, n_in_progress = n_in_progress + 1,
       n_total = n_total + 1, state = 'RUNNING', updated_at = :now
WHERE id = :id AND n_wanted > 0 AND state IN ('PENDING', 'RUNNING')
  AND n_total < max_total_results
RETURNING n_in_progress
"""
)

TAKE_UNREPLICATED = Sql(
    """
UPDATE jobs SET n_wanted = 0, eff_target = 1, eff_quorum = 1,
       n_in_progress = n_in_progress + 1, n_total = n_total + 1, state = 'RUNNING',
       updated_at = :now
WHERE id = :id AND n_wanted > 0 AND state IN ('PENDING', 'RUNNING') AND n_total = 0
RETURNING n_in_progress
"""
)

INSERT_LEASE = Sql(
    """
INSERT INTO leases (id, job_id, worker, owner, state, adaptive, leased_at, expires_at,
                    progress, keys_per_s, hard_deadline)
VALUES (:id, :job_id, :worker, :owner, 'IN_PROGRESS', :adaptive, :now, :expires, 0.0, 0.0,
        :hard)
"""
)

LEASES_IN_PROGRESS_OF = Sql(
    "SELECT id FROM leases WHERE worker = :worker AND state = 'IN_PROGRESS' ORDER BY id"
)
ACTIVE_LEASES_OF_WORKER = Sql(
    "SELECT count(*) FROM leases WHERE worker = :worker AND state = 'IN_PROGRESS'"
)

TOUCH_WORKER = Sql(
    """
UPDATE workers SET apps = :apps, cores = :cores, memory_mb = :memory, docker = :docker,
       last_seen = :now
WHERE address = :address
"""
)

SEEN_WORKER = Sql("UPDATE workers SET last_seen = :now WHERE address = :address")

# A batch of results a worker reports, read in one go: the jobs of its leases, locked
# (PostgreSQL: in id order, before any of them is voted on, so that two batches reporting
# on the same jobs never deadlock; SQLite: the transaction already holds the write lock),
# then, as of those locks, the leases and the live leases of those jobs (rows of a locked
# job's leases change only under its lock). `:ids`: `Raw.id_list` of the lease ids.
_IDS = "(SELECT value FROM json_each(:ids))"
_JOBS_OF_IDS = "SELECT job_id FROM leases WHERE id IN " + _IDS
_JOBS_OF_IDS_PG = "SELECT job_id FROM leases WHERE id = ANY(:ids)"
JOBS_OF_LEASES_LOCKED = Sql(
    f"SELECT * FROM jobs WHERE id IN ({_JOBS_OF_IDS})",
    postgresql=f"""
SELECT * FROM jobs WHERE id IN ({_JOBS_OF_IDS_PG})
ORDER BY id FOR UPDATE
""",
)
LEASES_BY_IDS = Sql(
    f"SELECT * FROM leases WHERE id IN {_IDS}",
    postgresql="SELECT * FROM leases WHERE id = ANY(:ids)",
)
_LIVE_LEASES_OF_JOBS = """
SELECT job_id, id, worker, state, result_sha256, result_size FROM leases
WHERE job_id IN ({jobs}) AND state IN ('IN_PROGRESS', 'SUCCESS', 'VALID')
ORDER BY leased_at, id
"""
LIVE_LEASES_OF_JOBS = Sql(
    _LIVE_LEASES_OF_JOBS.format(jobs=_JOBS_OF_IDS),
    postgresql=_LIVE_LEASES_OF_JOBS.format(jobs=_JOBS_OF_IDS_PG),
)
LEASE_STATES = Sql(
    f"SELECT id, state FROM leases WHERE id IN {_IDS}",
    postgresql="SELECT id, state FROM leases WHERE id = ANY(:ids)",
)

LEASE_BY_ID = Sql("SELECT * FROM leases WHERE id = :id")
JOB_BY_ID = Sql("SELECT * FROM jobs WHERE id = :id")
JOB_BY_ID_LOCKED = Sql(
    "SELECT * FROM jobs WHERE id = :id", postgresql="SELECT * FROM jobs WHERE id = :id FOR UPDATE"
)

RECORD_RESULT = Sql(
    """
UPDATE leases SET state = :state, result_sha256 = :sha256, result_size = :size,
       progress = 1.0, keys_per_s = 0.0, finished_at = :now
WHERE id = :id AND state = 'IN_PROGRESS'
"""
)

LIVE_LEASES_OF_JOB = Sql(
    """
SELECT id, worker, state, result_sha256, result_size FROM leases
WHERE job_id = :job_id AND state IN ('IN_PROGRESS', 'SUCCESS', 'VALID')
ORDER BY leased_at, id
"""
)

# A trust job's replicas (running, results, reported errors: the votes) with their workers'
# trust as it is now, in the order they were leased (a stakeholder's first vote counts).
VOTES_OF_JOB = Sql(
    """
SELECT leases.id, leases.worker, leases.owner, leases.state, leases.result_sha256,
       leases.result_size, leases.message, workers.consecutive_valid
FROM leases LEFT JOIN workers ON workers.address = leases.worker
WHERE leases.job_id = :job_id AND leases.state IN ('IN_PROGRESS', 'SUCCESS', 'VALID', 'ERROR')
ORDER BY leases.leased_at, leases.id
"""
)
SET_SPOT_VOTES = Sql("UPDATE jobs SET spot_votes = :votes WHERE id = :id")

LEASE_STATE = Sql("SELECT state FROM leases WHERE id = :id")
JOB_STATE = Sql("SELECT state FROM jobs WHERE id = :id")

SET_LEASE_STATE = Sql("UPDATE leases SET state = :state WHERE id = :id")

COMPLETE_JOB = Sql(
    """
UPDATE jobs SET state = 'COMPLETED', canonical_lease = :lease_id, result_sha256 = :sha256,
       result_size = :size, n_wanted = 0, n_in_progress = 0, n_success = 0, progress = 1.0,
       keys_per_s = 0.0, updated_at = :now, completed_at = :now, finished_at = :now
WHERE id = :id
"""
)

SETTLE_OPEN_JOB = Sql(
    """
UPDATE jobs SET state = :state, n_wanted = :wanted, n_in_progress = :running,
       n_success = :successes, updated_at = :now
WHERE id = :id
"""
)

INSERT_EVENT = Sql(
    "INSERT INTO events (job_id, external_id, kind, at, data) "
    "VALUES (:job_id, :external_id, :kind, :at, :data)"
)

EVENTS_LOCK = Sql("SELECT pg_advisory_xact_lock(:k)")

WORKER_BY_ADDRESS = Sql("SELECT * FROM workers WHERE address = :address")
WORKER_PAYOUT = Sql("SELECT payout FROM workers WHERE address = :address")

CANCEL_RUNNING_LEASES = Sql(
    """
UPDATE leases SET state = 'CANCELLED', finished_at = :now
WHERE job_id = :job_id AND state = 'IN_PROGRESS'
"""
)

END_JOB = Sql(
    """
UPDATE jobs SET state = :state, message = COALESCE(:message, message), n_wanted = 0,
       n_in_progress = 0, n_success = COALESCE(:successes, n_success), keys_per_s = 0.0,
       updated_at = :now, finished_at = :now
WHERE id = :id
"""
)

END_LEASE = Sql(
    """
UPDATE leases SET state = :state, message = :message, finished_at = :now
WHERE id = :id AND state = 'IN_PROGRESS'
"""
)

# A released lease gives its replica back: the job may hand it out again without having
# spent one of its `max_total_results`.
UNCOUNT_REPLICA = Sql(
    "UPDATE jobs SET n_total = n_total - 1, updated_at = :now WHERE id = :id AND n_total > 0"
)

COUNT_JOB_ERROR = Sql("UPDATE jobs SET n_errors = n_errors + 1, updated_at = :now WHERE id = :id")

SET_JOB_REPLICATION = Sql(
    "UPDATE jobs SET eff_target = :target, eff_quorum = :quorum WHERE id = :id"
)

# The worker's daily quota (`daily_quota`) rides on its trust and error counters: one less for
# a reported error, halved for an expired lease or an invalid result, doubled for a valid
# one. Bounds in SQL keep it between 1 and 2**30 (QUOTA_CEILING); the configured bounds apply
# when it is read.
# A released lease does not count toward its worker's daily quota (turning donating off and
# on must not use a new identity's quota up).
GIVE_BACK_QUOTA = Sql(
    "UPDATE workers SET quota_used = quota_used - 1 WHERE address = :address AND quota_used > 0"
)
_LESS = "daily_quota = MAX(daily_quota - 1, 1)"
_LESS_PG = "daily_quota = GREATEST(daily_quota - 1, 1)"
_HALVE = "daily_quota = MAX(daily_quota / 2, 1)"
_HALVE_PG = "daily_quota = GREATEST(daily_quota / 2, 1)"
_DOUBLE = "daily_quota = MIN(daily_quota * :factor, 1073741824)"
_DOUBLE_PG = "daily_quota = LEAST(daily_quota * :factor, 1073741824)"

COUNT_WORKER_ERROR = Sql(
    f"UPDATE workers SET n_errors = n_errors + 1, {_LESS} WHERE address = :address",
    postgresql=f"UPDATE workers SET n_errors = n_errors + 1, {_LESS_PG} WHERE address = :address",
)
COUNT_WORKER_EXPIRED = Sql(
    f"UPDATE workers SET n_expired = n_expired + 1, {_HALVE} WHERE address = :address",
    postgresql=f"UPDATE workers SET n_expired = n_expired + 1, {_HALVE_PG} "
    "WHERE address = :address",
)

_TRUST_VALID = """
UPDATE workers SET consecutive_valid = consecutive_valid + 1, n_valid = n_valid + 1, {}
WHERE address = :address
"""
TRUST_VALID = Sql(_TRUST_VALID.format(_DOUBLE), postgresql=_TRUST_VALID.format(_DOUBLE_PG))
_TRUST_INVALID = (
    "UPDATE workers SET consecutive_valid = 0, n_invalid = n_invalid + 1, {} "
    "WHERE address = :address"
)
TRUST_INVALID = Sql(_TRUST_INVALID.format(_HALVE), postgresql=_TRUST_INVALID.format(_HALVE_PG))
# a result accepted without a vote (quorum 1): the quota grows, trust does not
QUOTA_VALID = Sql(
    f"UPDATE workers SET {_DOUBLE} WHERE address = :address",
    postgresql=f"UPDATE workers SET {_DOUBLE_PG} WHERE address = :address",
)
# the leases a work request handed out, counted in the worker's window of a day
SET_WORKER_QUOTA = Sql(
    """
UPDATE workers SET daily_quota = :quota, quota_window = :window, quota_used = :used
WHERE address = :address
"""
)

# Who may read stored content (`data_access`), each one indexed query: a worker reads the
# inputs of the jobs it holds a live lease on (job_inputs by sha256, then the job's leases)
# and the results of its own leases (the results' index); a requester reads what it uploaded
# (data_uploads' key) and any lease's result.
WORKER_MAY_READ = Sql(
    """
SELECT EXISTS (
    SELECT 1 FROM job_inputs JOIN leases ON leases.job_id = job_inputs.job_id
    WHERE job_inputs.sha256 = :sha256 AND leases.state = 'IN_PROGRESS'
      AND leases.worker = :worker)
OR EXISTS (
    SELECT 1 FROM leases WHERE leases.result_sha256 = :sha256 AND leases.worker = :worker)
"""
)
REQUESTER_MAY_READ = Sql(
    """
SELECT EXISTS (
    SELECT 1 FROM data_uploads WHERE data_uploads.sha256 = :sha256
      AND data_uploads.address = :address)
OR EXISTS (SELECT 1 FROM leases WHERE leases.result_sha256 = :sha256)
"""
)
RECORD_UPLOAD = Sql(
    "INSERT INTO data_uploads (sha256, address, recorded_at) VALUES (:sha256, :address, :now) "
    "ON CONFLICT (sha256, address) DO UPDATE SET recorded_at = excluded.recorded_at"
)

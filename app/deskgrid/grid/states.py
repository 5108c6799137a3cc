"""Names of the grid's states and event kinds (from BOINC and XtremWeb-HEP)."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """A job (BOINC: workunit). PENDING and RUNNING are open; the others are final."""

    PENDING = "PENDING"  # waiting for a worker (no lease in progress)
    RUNNING = "RUNNING"  # at least one lease in progress
    COMPLETED = "COMPLETED"  # a canonical result exists
    ERROR = "ERROR"  # too many errors, no quorum possible, or deadline passed
    CANCELLED = "CANCELLED"  # cancelled by a submitter

    @property
    def final(self) -> bool:
        return self in FINAL_JOB_STATES


FINAL_JOB_STATES = frozenset({JobState.COMPLETED, JobState.ERROR, JobState.CANCELLED})
OPEN_JOB_STATES = (JobState.PENDING.value, JobState.RUNNING.value)


class LeaseState(StrEnum):
    """One replica handed to one worker (BOINC: result)."""

    IN_PROGRESS = "IN_PROGRESS"  # leased, worker computing
    SUCCESS = "SUCCESS"  # result uploaded, waiting for the vote
    VALID = "VALID"  # part of (or agrees with) the canonical result
    INVALID = "INVALID"  # disagreed with the canonical result or failed the verifier
    ERROR = "ERROR"  # the worker reported an error
    EXPIRED = "EXPIRED"  # no heartbeat nor result before the lease ran out (worker lost)
    CANCELLED = "CANCELLED"  # the job finished or was cancelled while this lease ran
    RELEASED = "RELEASED"  # handed back by its worker (it stopped); no error, no retry spent


# A worker holding a lease in one of these states already contributes to the job's vote and
# may not get another replica of the same job.
VOTING_LEASE_STATES = (
    LeaseState.IN_PROGRESS.value,
    LeaseState.SUCCESS.value,
    LeaseState.VALID.value,
    LeaseState.INVALID.value,
)


class EventKind(StrEnum):
    """What the event stream reports."""

    SUBMITTED = "submitted"
    LEASED = "leased"
    PROGRESS = "progress"
    RESULT = "result"  # a replica's result arrived (digest recorded)
    LEASE_ERROR = "lease_error"
    LEASE_EXPIRED = "lease_expired"
    LEASE_RELEASED = "lease_released"  # the worker handed the lease back (it stopped)
    INVALID = "invalid"  # a replica was judged invalid
    COMPLETED = "completed"
    ERROR = "error"
    CANCELLED = "cancelled"

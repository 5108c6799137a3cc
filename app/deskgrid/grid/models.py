"""The data that crosses the grid's HTTP boundary, shared by the server and `GridClient`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

SHA256_PATTERN = r"^[0-9a-f]{64}$"
RESULT_KEY_PATTERN = r"^0[23][0-9a-f]{64}$"  # a compressed secp256k1 public key
ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# The largest event sequence number a database can hold (a signed 64-bit integer).
MAX_SEQ = 2**63 - 1


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ReplicationPolicy(Strict):
    """How much redundancy a job gets; unset fields take the server's defaults."""

    target_nresults: int | None = Field(None, ge=1, le=20)
    min_quorum: int | None = Field(None, ge=1, le=20)
    max_error_results: int | None = Field(None, ge=1, le=100)
    max_total_results: int | None = Field(None, ge=1, le=200)
    delay_bound: float | None = Field(None, ge=0.05, le=30 * 86400)
    adaptive: bool = True
    # Consensus by trust (a paid task's level, 1-5, see docs/architecture.md "Economics"):
    # when set, the job's canonical result (or ERROR) is the outcome whose agreeing
    # stakeholders reach the level's credibility, instead of `min_quorum` equal results.
    trust: int | None = Field(None, ge=1, le=5)
    # distinct stake owners that must agree on an unverified outcome (None: the grid's default)
    min_agree: int | None = Field(None, ge=1, le=20)
    # free stake (nRLC) a worker's stake owner must hold to take a replica; 0: none needed
    stake: int = Field(0, ge=0, le=2**96 - 1)


class InputRef(Strict):
    """A data file the job needs, uploaded beforehand through the data API."""

    name: str = Field(pattern=NAME_PATTERN)
    sha256: str = Field(pattern=SHA256_PATTERN)


class JobSubmit(Strict):
    app: str = Field(pattern=NAME_PATTERN)
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: list[InputRef] = Field(default_factory=list, max_length=32)
    policy: ReplicationPolicy = Field(default_factory=ReplicationPolicy)
    deadline: float | None = Field(None, gt=0, lt=1e11, description="seconds since the epoch")
    external_id: str | None = Field(None, min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")
    priority: int = Field(0, ge=-100, le=100)
    # the requester's public key (compressed secp256k1, hex): the workers encrypt the result
    # to it, so the grid, the oracle and the chain hold only ciphertext
    result_key: str | None = Field(None, pattern=RESULT_KEY_PATTERN)


class InputFile(BaseModel):
    name: str
    sha256: str
    size: int


class Policy(BaseModel):
    target_nresults: int
    min_quorum: int
    max_error_results: int
    max_total_results: int
    delay_bound: float
    adaptive: bool
    trust: int | None = None  # the trust level (None: the quorum vote decides)
    min_agree: int | None = None  # distinct stakeholders that must agree (trust jobs)
    stake: int = 0  # free stake (nRLC) a replica's stakeholder needed


class LeaseView(BaseModel):
    id: str
    worker: str
    # the stakeholder: the worker's payout address at lease time, else the worker itself
    owner: str | None = None
    payout: str | None = None  # the worker's payout address at lease time, when it named one
    state: str
    leased_at: float
    expires_at: float
    heartbeat_at: float | None = None
    progress: float = 0.0
    keys_per_s: float = 0.0
    result_sha256: str | None = None
    result_size: int | None = None
    message: str | None = None
    finished_at: float | None = None


class JobView(BaseModel):
    id: str
    external_id: str | None = None
    app: str
    app_version: str
    params: dict[str, Any]
    inputs: list[InputFile]
    state: str
    priority: int
    policy: Policy
    verifiable: bool
    deadline: float | None = None
    created_at: float
    updated_at: float
    completed_at: float | None = None
    progress: float
    keys_per_s: float
    n_in_progress: int
    n_success: int
    n_errors: int
    n_total: int
    result_sha256: str | None = None
    result_size: int | None = None
    message: str | None = None
    leases: list[LeaseView] | None = None


class JobsPage(BaseModel):
    jobs: list[JobView]
    total: int


class Capabilities(Strict):
    """What a worker can run."""

    apps: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(
        default_factory=list, max_length=200
    )
    cores: int = Field(1, ge=1, le=4096)
    memory_mb: int = Field(1024, ge=0, le=16 * 1024 * 1024)
    docker: bool = False


class InlineResult(Strict):
    """A small result reported inside a work request (BOINC reports results with its
    scheduler requests): base64 content and its sha256."""

    lease_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    sha256: str = Field(pattern=SHA256_PATTERN)
    content_b64: str = Field(max_length=90_000)  # 64 KiB of content


class LogoutRequest(Strict):
    """`release_leases`: the worker's leases still in progress are handed back as it signs
    out, except those in `keep` (results computed and not yet uploaded: the worker keeps them
    on disk and uploads them when it is back)."""

    release_leases: bool = False
    keep: list[str] = Field(default_factory=list, max_length=1024)


class WorkRequest(Strict):
    max_leases: int = Field(1, ge=0, le=256)  # 0: only report results
    capabilities: Capabilities | None = None
    results: list[InlineResult] = Field(default_factory=list, max_length=256)


class DockerApp(BaseModel):
    """How a worker gets and runs a published (Docker) app: its image by content id, where
    to fetch it (a registry reference, or a `docker save` archive in the grid's data store by
    sha256), and the resources its manifest declares."""

    image_id: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    reference: str | None = None
    archive_sha256: str | None = Field(None, pattern=SHA256_PATTERN)
    cores: int = Field(1, ge=1, le=256)
    memory_mb: int = Field(256, ge=16, le=1024 * 1024)
    max_seconds: int = Field(3600, ge=1, le=7 * 24 * 3600)


class Lease(BaseModel):
    """One replica handed to a worker."""

    lease_id: str
    job_id: str
    app: str
    app_version: str
    params: dict[str, Any]
    inputs: list[InputFile]
    leased_at: float
    expires_at: float
    delay_bound: float
    heartbeat_interval: float
    max_result_bytes: int
    max_runtime: float
    docker: DockerApp | None = None  # a published app's image (None: a built-in app)
    result_key: str | None = None  # encrypt the result to this key (JobSubmit.result_key)
    external_id: str | None = None  # the job's external id (an oracle's: the task id)


class ReportOutcome(BaseModel):
    """What became of one reported result: accepted (with states) or refused (why)."""

    lease_id: str
    accepted: bool
    lease_state: str | None = None
    job_state: str | None = None
    status: int = 200  # the HTTP status the same refusal would get on its own
    detail: str | None = None


class WorkReply(BaseModel):
    leases: list[Lease]
    retry_after: float | None = None  # seconds; set when there are no leases
    results: list[ReportOutcome] = Field(default_factory=list)
    # why fewer leases than asked (a limit of this worker's), a sentence to show; None when
    # the queue simply had nothing more for it
    reason: str | None = None


class Heartbeat(Strict):
    progress: float | None = Field(None, ge=0.0, le=1.0)
    keys_per_s: float | None = Field(None, ge=0.0, le=1e18)
    message: str | None = Field(None, max_length=500)


class HeartbeatReply(BaseModel):
    lease_id: str
    state: str
    expires_at: float
    keep_going: bool  # False: stop computing, the lease is over


class ErrorReport(Strict):
    message: str = Field(min_length=1, max_length=4000)


class ResultAck(BaseModel):
    lease_id: str
    lease_state: str
    job_state: str
    sha256: str
    size: int


class ChallengeRequest(Strict):
    address: str = Field(pattern=ADDRESS_PATTERN)


class LoginRequest(Strict):
    address: str = Field(pattern=ADDRESS_PATTERN)
    nonce: str = Field(min_length=1, max_length=128)
    signature: str = Field(min_length=2, max_length=200)
    payout: str | None = Field(None, pattern=ADDRESS_PATTERN)  # signed in the message
    name: str | None = Field(None, max_length=100)
    capabilities: Capabilities = Field(default_factory=Capabilities)


class LoginReply(BaseModel):
    token: str = Field(pattern=r"^[A-Za-z0-9._~+/=-]{1,256}$")  # a header value: no spaces
    address: str = Field(pattern=ADDRESS_PATTERN)
    expires_at: float
    payout: str | None = None


class WorkerSelfView(BaseModel):
    """A worker's own record as it sees it (`/workers/me`): what it declared and its lost
    work, never its trust (how often it was found right or wrong), which would tell it when
    its results are checked."""

    address: str
    name: str | None
    payout: str | None = None  # the address paid for its work (None: the worker's own)
    apps: list[str]
    cores: int
    memory_mb: int
    docker: bool
    n_errors: int
    n_expired: int
    created_at: float
    last_seen: float
    online: bool

    @classmethod
    def of(cls, worker: WorkerView) -> WorkerSelfView:
        return cls.model_validate(worker.model_dump(include=set(cls.model_fields)))


class WorkerView(BaseModel):
    """A worker as the operator sees it (submitters): its self view and its trust."""

    address: str
    name: str | None
    payout: str | None = None  # the address paid for its work (None: the worker's own)
    apps: list[str]
    cores: int
    memory_mb: int
    docker: bool
    consecutive_valid: int
    n_valid: int
    n_invalid: int
    n_errors: int
    n_expired: int
    created_at: float
    last_seen: float
    online: bool


class Event(BaseModel):
    seq: int
    job_id: str
    external_id: str | None = None
    kind: str
    at: float
    data: dict[str, Any]


class EventsPage(BaseModel):
    events: list[Event]
    last_seq: int  # pass as `since` to get what follows


class DataRef(BaseModel):
    sha256: str
    size: int


class AppInfo(BaseModel):
    name: str
    version: str
    description: str
    params_schema: dict[str, Any]
    verifiable: bool
    uri: str
    resources: dict[str, Any]


class Health(BaseModel):
    status: str
    version: str
    schema_version: int
    database: str
    time: float


class Metrics(BaseModel):
    jobs_by_state: dict[str, int]
    leases_in_progress: int
    workers_online: int
    workers_known: int
    completed_last_minute: int
    jobs_per_s_last_minute: float
    last_event_seq: int
    time: float


class LeaseAck(BaseModel):
    lease_id: str
    lease_state: str
    job_state: str

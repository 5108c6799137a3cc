"""The oracle: a workerpool's scheduler bridging the hub and the grid.

One `step()`:
1. follow the submitted jobs: lock the stake of each new replica of a staked task (an app
   without a verifier, see `stakes`); COMPLETED → fetch and verify the result (the app's
   verifier, or the grid's vote), then `finalize` with the winners and the out-voted locked
   stakeholders; ERROR, or the final deadline near → `fail`;
2. follow `TaskRequested` (confirmed) into the store;
3. check each new request (known app served by this pool, params valid, a trust level this
   pool takes) → submit a grid job keyed by the task id (idempotent) with the task's trust
   level, or `fail` with the reason (the requester is refunded). A published (Docker) app's
   manifest is read from the hub once; its request is a task document (params, input files
   by digest, the key its result is encrypted to). A grid that refuses the job for good (a
   4xx answer: its policy does not serve the app, an input is not stored) fails the task;
4. send what is decided (FINALIZING / FAILING), after 1 and again after 3, checking the
   task's on-chain status first so that a restart at any point neither duplicates nor misses
   a transaction; release the stake still locked for tasks that failed or were claimed.
Every decision is written to the store before the transaction that carries it out.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deskgrid import boundedjson
from deskgrid.apps.sdk import AppParamsError, AppSpec
from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import HubContract, TaskStatus
from deskgrid.chain.reverts import ChainError, ContractRevert
from deskgrid.chain.transactions import TxSender
from deskgrid.chain.trust import MAX_TRUST
from deskgrid.errors import DeskGridError
from deskgrid.grid.credibility import TRUST_LEVELS
from deskgrid.grid.models import InputRef, JobSubmit, ReplicationPolicy
from deskgrid.grid.transport import GridClientError, NotAuthorized
from deskgrid.market.app_spec import spec_from_manifest
from deskgrid.market.manifest import DOCKER_URI_PREFIX, Manifest
from deskgrid.market.published import read_app
from deskgrid.market.task_document import TaskDocumentError, parse_task_document
from deskgrid.money import format_rlc
from deskgrid.oracle.follower import ChainFollower
from deskgrid.oracle.stakes import StakeKeeper
from deskgrid.oracle.store import OracleStore, OracleTask, OracleTaskState
from deskgrid.oracle.wakeup import Wakeup

log = logging.getLogger(__name__)

MAX_ONCHAIN_RESULT = 4096  # bytes of result written on chain; larger results go by digest
MAX_MIN_AGREE = 20  # the grid's limit on a job's policy.min_agree


@dataclass
class OracleConfig:
    pool_id: int
    confirmations: int = 0
    poll_interval: float = 0.5
    deadline_margin: int = 20  # seconds before the final deadline when the oracle gives up
    replication: ReplicationPolicy | None = None  # the grid's fields other than trust's
    start_block: int = 0
    # distinct stakeholders that must agree on the result of an app without a verifier
    min_agree: int = 2
    # take trust level 1 (one unverified result, min_agree 1) for apps without a verifier
    allow_single_unverified: bool = False
    min_trust: int = 1  # tasks requested below this trust level are refused
    # seconds a grid's refusal of a published app's task is asked again before the task is
    # failed: a grid reads newly published apps every few seconds (--catalog-refresh)
    refusal_grace_s: float = 30.0

    def __post_init__(self) -> None:
        if not 1 <= self.min_trust <= MAX_TRUST:
            raise DeskGridError(f"The minimum trust level is from 1 to {MAX_TRUST}.")
        if not 1 <= self.min_agree <= MAX_MIN_AGREE:
            raise DeskGridError(
                f"The stakeholders that must agree are from 1 to {MAX_MIN_AGREE}, "
                f"not {self.min_agree}."
            )
        if self.min_agree == 1 and not self.allow_single_unverified:
            raise DeskGridError(
                "A minimum agreement of 1 pays a single unverified result; allow that "
                "explicitly (--allow-single-unverified), or use 2 or more."
            )


def _uri_index(apps: Mapping[str, AppSpec]) -> dict[str, AppSpec]:
    return {spec.uri: spec for spec in apps.values()}


def _builtin_request(text: str, spec: AppSpec) -> JobSubmit:
    """The job of a built-in app's request: its params text is the params object, checked
    by the app (AppParamsError with the reason)."""
    try:
        params = boundedjson.loads(text)  # anyone on the chain wrote them
    except ValueError:
        params = None
    if not isinstance(params, dict):
        raise AppParamsError("they must be a JSON object")
    return JobSubmit(app=spec.name, params=spec.validate(params))


def _published_request(text: str, manifest: Manifest) -> JobSubmit:
    """The job of a published app's request: its task document's params, input files (by
    digest, stored on the grid beforehand) and result key (TaskDocumentError with the
    reason)."""
    doc = parse_task_document(text, manifest)
    try:
        inputs = [InputRef(name=name, sha256=digest) for name, digest in doc.inputs.items()]
    except ValueError:  # a manifest's input name longer than a grid's names
        raise TaskDocumentError("an input's name is longer than a grid takes (64)") from None
    return JobSubmit(app=manifest.name, params=doc.params, inputs=inputs, result_key=doc.result_key)


def refused_for_good(exc: GridClientError) -> bool:
    """Whether the grid's refusal of a submission stands whatever the retries: a 4xx answer
    but a timeout (408), a rate limit (429) or one about the oracle's own token (401, 403)."""
    return (
        400 <= exc.status < 500
        and exc.status not in (408, 429)
        and not isinstance(exc, NotAuthorized)
    )


class Oracle:
    def __init__(
        self,
        chain: Chain,
        hub: HubContract,
        scheduler: TxSender,
        grid: Any,
        store: OracleStore,
        apps: Mapping[str, AppSpec],
        config: OracleConfig,
    ) -> None:
        self.chain = chain
        self.hub = hub
        self.scheduler = scheduler
        self.grid = grid
        self.store = store
        self.apps = dict(apps)
        self._by_uri = _uri_index(apps)
        self.config = config
        self.follower = ChainFollower(
            chain,
            hub,
            store,
            pool_id=config.pool_id,
            confirmations=config.confirmations,
            start_block=config.start_block,
            on_reorg=lambda r: None,
        )
        self._app_cache: dict[int, str] = {}
        # published apps by id: their spec, or why they cannot be run (manifests never change)
        self._published: dict[int, AppSpec | str] = {}
        self._manifests: dict[str, Manifest] = {}  # a published app's, by its spec's name
        self._refused_at: dict[str, float] = {}  # task id -> first refusal (monotonic)
        self._last_progress: dict[str, tuple[str, int, float]] = {}
        self.stakes = StakeKeeper(hub, scheduler, store)
        self.errors = 0
        self.steps = 0  # steps taken (a test or a status line can tell the loop is alive)
        self.wakeup: Wakeup | None = None  # while running: what wakes the loop

    # -- loop ---------------------------------------------------------------------------

    def in_flight(self) -> int:
        """Tasks taken but not closed on chain: a restart picks them up from the store."""
        return len(
            self.store.tasks_in(
                OracleTaskState.NEW,
                OracleTaskState.SUBMITTED,
                OracleTaskState.FINALIZING,
                OracleTaskState.FAILING,
            )
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Step until `stop` is set; RPC and grid errors back off and retry. A step follows
        at once when the chain has a new block or the grid a new event (`Wakeup`); without
        those signals (a node that only answers polls, an older grid) every poll_interval."""
        wakeup = self.wakeup = Wakeup(self.chain, self.grid, self.config.poll_interval)
        await wakeup.start()
        backoff = self.config.poll_interval
        try:
            while not stop.is_set():
                wakeup.clear()  # a signal during the step brings the next one at once
                try:
                    await self.step()
                    backoff = self.config.poll_interval
                    wait = wakeup.idle_wait()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # network trouble: retry with backoff, never die
                    self.errors += 1
                    log.warning("oracle step failed (%s); retrying in %.1f s", exc, backoff)
                    wait, backoff = backoff, min(backoff * 2, 30.0)
                await wakeup.wait(stop, wait)
        finally:
            await wakeup.close()

    async def step(self) -> None:
        """The submitted jobs first (a result goes on chain before the chain is read), then
        the new requests; what either decided is settled in the same step."""
        self.steps += 1
        for task in self.store.tasks_in(OracleTaskState.SUBMITTED):
            await self._follow_job(task)
        await self._settle_decided()
        for task_id in await asyncio.to_thread(self.follower.poll):
            await self._log_seen(task_id)
        for task in self.store.tasks_in(OracleTaskState.NEW):
            await self._admit(task)
        await self._settle_decided()
        await self.stakes.release_closed()

    async def _settle_decided(self) -> None:
        for task in self.store.tasks_in(OracleTaskState.FINALIZING, OracleTaskState.FAILING):
            await self._settle(task)

    # -- 2. admission -------------------------------------------------------------------

    async def _log_seen(self, task_id: str) -> None:
        task = self.store.task(task_id)
        if task is None:
            return
        spec = await self._app_for(task.app_id)
        app = spec.name if isinstance(spec, AppSpec) else f"#{task.app_id} (not served here)"
        log.info(
            "task %s seen in block %d: app %s, price %s, requester %s",
            task_id, task.block, app, format_rlc(task.price), task.requester,
        )  # fmt: skip

    async def _app_for(self, app_id: int) -> AppSpec | str:
        uri = self._app_cache.get(app_id)
        if uri is None:
            try:
                info = await asyncio.to_thread(self.hub.app, app_id)
            except ContractRevert as exc:
                return str(exc)
            uri = self._app_cache[app_id] = info.uri
        if uri.startswith(DOCKER_URI_PREFIX):
            return await self._published_app(app_id)
        spec = self._by_uri.get(uri)
        if spec is None:
            return f"app #{app_id} ({uri}) is not served by this workerpool"
        return spec

    async def _published_app(self, app_id: int) -> AppSpec | str:
        """The spec of the hub's published app `app_id` (its manifest read once, off the
        event loop), or why it cannot be run."""
        found = self._published.get(app_id)
        if found is None:
            listed = await asyncio.to_thread(read_app, self.hub, app_id)
            if listed.manifest is None or not listed.consistent:
                found = f"app #{app_id} cannot be run: {listed.problem}"
            else:
                try:
                    found = spec_from_manifest(app_id, listed.manifest)
                except Exception as exc:  # a schema the form builder cannot use
                    found = f"app #{app_id} cannot be run: {exc}"
                else:
                    self.apps[found.name] = found
                    self._manifests[found.name] = listed.manifest
            self._published[app_id] = found
        return found

    async def _admit(self, task: OracleTask) -> None:
        spec = await self._app_for(task.app_id)
        if isinstance(spec, str):
            return self._decide_fail(task, f"invalid request: {spec}")
        manifest = self._manifests.get(spec.name)
        if manifest is not None:  # a published app: a task document
            try:
                request = _published_request(task.params, manifest)
            except TaskDocumentError as exc:
                return self._decide_fail(task, f"invalid request: {exc}")
        else:
            try:
                request = _builtin_request(task.params, spec)
            except AppParamsError as exc:
                return self._decide_fail(task, f"invalid params: {exc}")
        secret = spec.secret_result(request.params) if spec.secret_result is not None else None
        if secret:  # every result posted on chain is public: never compute this one
            return self._decide_fail(task, f"refused: {secret}")
        level = task.trust  # the level the requester paid for
        refusal = self._refusal(spec, level)
        if refusal:
            return self._decide_fail(task, f"refused: {refusal}")
        stake = 0
        if spec.verify is None:  # replicas vote: each stakeholder stakes its result
            stake = await asyncio.to_thread(
                self.hub.contribution_stake, bytes.fromhex(task.task_id[2:])
            )
        policy = (self.config.replication or ReplicationPolicy()).model_copy(
            update={"trust": level, "min_agree": self._min_agree(level), "stake": stake}
        )
        remaining = task.final_deadline - await asyncio.to_thread(self.chain.timestamp)
        deadline = time.time() + remaining - self.config.deadline_margin
        try:
            job = await self.grid.submit(
                request.model_copy(
                    update={
                        "app": spec.name,
                        "external_id": task.task_id,
                        "deadline": max(deadline, time.time() + 1),
                        "policy": policy,
                    }
                )
            )
        except GridClientError as exc:
            if not refused_for_good(exc):
                raise  # unreachable, busy, rate-limited, our token: the next step retries
            if manifest is not None and self._in_refusal_grace(task, exc):
                return  # the grid may not have read the app yet: asked again next step
            self._refused_at.pop(task.task_id, None)
            return self._decide_fail(task, f"refused by the grid: {exc.detail}")
        self._refused_at.pop(task.task_id, None)
        log.info(
            "task %s submitted to the grid: job %s (%s), trust level %d, stake %s per replica",
            task.task_id, job.id, spec.name, level, format_rlc(stake),
        )  # fmt: skip
        self.store.update_task(
            task.task_id,
            state=OracleTaskState.SUBMITTED,
            job_id=job.id,
            app_name=spec.name,
            event=("queued", {"job_id": job.id, "app": spec.name}),
        )

    def _in_refusal_grace(self, task: OracleTask, exc: GridClientError) -> bool:
        """Whether a published app's task the grid refused is still to be asked again (a
        grid reads newly published apps every few seconds)."""
        now = time.monotonic()
        first = self._refused_at.setdefault(task.task_id, now)
        if first == now:
            log.info(
                "task %s refused by the grid (%s); asking again for %g s",
                task.task_id, exc.detail, self.config.refusal_grace_s,
            )  # fmt: skip
        return now - first < self.config.refusal_grace_s

    def _refusal(self, spec: AppSpec, level: int) -> str | None:
        """Why this pool does not take a task of `spec` at trust `level` (None: it does)."""
        if level < self.config.min_trust:
            return (
                f"this workerpool takes trust level {self.config.min_trust} or more, the task "
                f"asked for {level}; request level {self.config.min_trust} or more"
            )
        if level == 1 and spec.verify is None and not self.config.allow_single_unverified:
            return (
                f"the app {spec.name} has no verifier, so trust level 1 (a single result) cannot "
                "be checked; request trust level 2 or more"
            )
        return None

    def _min_agree(self, level: int) -> int:
        """Distinct stakeholders that must agree on an unverified result: one at level 1 (one
        replica, taken only with `allow_single_unverified`), else this pool's option, and
        never fewer than the level asks for (3 at levels 4 and 5)."""
        if level == 1:
            return 1
        return max(self.config.min_agree, TRUST_LEVELS[level].min_agree)

    async def _known_app(self, task: OracleTask) -> None:
        """After a restart: the published app of a task taken before is read again."""
        if task.app_name is not None and task.app_name not in self.apps:
            await self._app_for(task.app_id)

    def _staked(self, task: OracleTask) -> bool:
        """Replicas of the task lock stake: its app has no verifier, so they vote."""
        spec = self.apps.get(task.app_name or "")
        return spec is not None and spec.verify is None

    # -- 3. following the grid ----------------------------------------------------------

    def _note_progress(self, task: OracleTask, job: Any) -> None:
        running = sum(1 for lease in job.leases or [] if lease.state == "IN_PROGRESS")
        key = (job.state, running, round(job.progress, 2))
        last = self._last_progress.get(task.task_id)
        if last is not None and last[:3] == key:
            return
        self._last_progress[task.task_id] = key
        if job.state in ("PENDING", "RUNNING"):
            self.store.add_event(
                task.task_id,
                "running" if running else "queued",
                {
                    "job_id": job.id,
                    "workers": running,
                    "progress": job.progress,
                    "keys_per_s": job.keys_per_s,
                },
            )

    async def _follow_job(self, task: OracleTask) -> None:
        await self._known_app(task)
        job = await self.grid.get_job(task.job_id)
        if self._staked(task):
            await self.stakes.reconcile(task.task_id)
            if job.state not in ("ERROR", "CANCELLED"):  # a failed job's locks are released
                await self.stakes.lock_new(task.task_id, job.leases or [])
        self._note_progress(task, job)
        if job.state == "COMPLETED":
            return await self._accept(task, job)
        if job.state in ("ERROR", "CANCELLED"):
            return self._decide_fail(
                task, f"the grid could not compute it: {job.message or job.state.lower()}"
            )
        now = await asyncio.to_thread(self.chain.timestamp)
        if now >= task.final_deadline - self.config.deadline_margin:
            await self.grid.cancel(task.job_id)
            return self._decide_fail(task, "the final deadline is near and no result came")
        status = await asyncio.to_thread(self.hub.task_status, bytes.fromhex(task.task_id[2:]))
        if status is not TaskStatus.ACTIVE:
            await self.grid.cancel(task.job_id)
            self.store.update_task(
                task.task_id,
                state=OracleTaskState.CLOSED,
                event=("closed", {"status": status.name}),
            )

    async def _accept(self, task: OracleTask, job: Any) -> None:
        result = await self.grid.download_result(job.id)
        if hashlib.sha256(result).hexdigest() != job.result_sha256:
            return self._decide_fail(
                task, "the grid returned a result that does not match its hash"
            )
        spec = self.apps[task.app_name or job.app]
        if spec.verify is not None and not spec.verify(job.params, result):
            return self._decide_fail(task, "the result failed the app's verification")
        # winners: each VALID lease's stakeholder (the payout it signed in with), weighted by
        # count; each locked lease gets its outcome (win, lose, release) in the store
        winners = self.stakes.decide(task.task_id, job.leases or [])
        weights = dict(winners)
        onchain = result if len(result) <= MAX_ONCHAIN_RESULT else b""
        log.info(
            "task %s computed: job %s, result sha256 %s…, %d worker(s) to pay",
            task.task_id, job.id, job.result_sha256[:16], len(weights),
        )  # fmt: skip
        self.store.update_task(
            task.task_id,
            state=OracleTaskState.FINALIZING,
            result_digest="0x" + job.result_sha256,
            results=onchain.hex(),
            workers=winners,
            event=(
                "completed",
                {"job_id": job.id, "workers": sorted(weights), "result_sha256": job.result_sha256},
            ),
        )

    def _decide_fail(self, task: OracleTask, reason: str) -> None:
        log.info("task %s will be failed on chain (refunded): %s", task.task_id, reason)
        self.store.update_task(
            task.task_id, state=OracleTaskState.FAILING, reason=reason[:500], event=None
        )

    # -- 4. settling on chain -----------------------------------------------------------

    async def _settle(self, task: OracleTask) -> None:
        task_id = bytes.fromhex(task.task_id[2:])
        status = await asyncio.to_thread(self.hub.task_status, task_id)
        if status is TaskStatus.COMPLETED:
            self.stakes.finalized(task.task_id)
            return self._closed(task, OracleTaskState.FINALIZED, "finalized", {})
        if status is TaskStatus.FAILED:
            if task.state is OracleTaskState.FAILING:
                return self._closed(task, OracleTaskState.FAILED, "failed", {"reason": task.reason})
            return self._closed(task, OracleTaskState.CLOSED, "closed", {"status": "FAILED"})
        try:
            if task.state is OracleTaskState.FINALIZING:
                # Every winner is paid, locked or not (a verified app's workers stake
                # nothing); the locks of replicas without a vote are released first, since
                # finalize settles only the winners' and the losers'.
                await self.stakes.reconcile(task.task_id)
                await self.stakes.release_voteless(task.task_id)
                losers = self.stakes.losers(task.task_id)
                result = await asyncio.to_thread(
                    self.hub.finalize,
                    self.scheduler,
                    task_id,
                    bytes.fromhex(task.result_digest[2:]),
                    bytes.fromhex(task.results or ""),
                    [a for a, _ in task.workers],
                    [w for _, w in task.workers],
                    losers,
                )
                slashed = self.stakes.finalized(task.task_id)
                self._closed(
                    task,
                    OracleTaskState.FINALIZED,
                    "finalized",
                    {"tx": result.tx_hash, "slashed": slashed}
                    if slashed
                    else {"tx": result.tx_hash},
                    gas=result.gas_used,
                )
            else:
                result = await asyncio.to_thread(
                    self.hub.fail, self.scheduler, task_id, task.reason or "failed"
                )
                self._closed(
                    task,
                    OracleTaskState.FAILED,
                    "failed",
                    {"tx": result.tx_hash, "reason": task.reason},
                    gas=result.gas_used,
                )
        except ContractRevert as exc:
            self.scheduler.resync_nonce()
            if exc.name == "DeadlinePassed":
                self._decide_fail(task, "the final deadline passed before the result was written")
            elif exc.name != "TaskNotActive":
                raise
            # TaskNotActive: someone closed it meanwhile; the next step reads its status.
        except ChainError:
            self.scheduler.resync_nonce()
            raise

    def _closed(
        self,
        task: OracleTask,
        state: OracleTaskState,
        kind: str,
        data: dict[str, Any],
        *,
        gas: int | None = None,
    ) -> None:
        self._last_progress.pop(task.task_id, None)
        if gas is not None:  # this oracle sent the transaction
            reason = f", reason: {data['reason']}" if data.get("reason") else ""
            log.info("task %s %s: tx %s, gas %d%s", task.task_id, kind, data["tx"], gas, reason)
        else:  # the chain already had it (a restart, or someone else closed it)
            log.info("task %s %s on chain (found so)", task.task_id, kind)
        self.store.update_task(task.task_id, state=state, event=(kind, data))

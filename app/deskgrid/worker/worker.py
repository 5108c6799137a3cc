"""The volunteer worker: pulls leases from the grid, computes them in a sandbox, keeps each
finished result on disk until the grid acknowledges it, and obeys the volunteer's policy.

    worker = Worker(WorkerConfig(grid_url="http://127.0.0.1:8750", cores=2))
    worker.on_status = print
    await worker.run(stop)          # until `stop` is set

One lease at a time. Network trouble never ends the loop: it waits (exponential backoff) and
tries again. Results are written to `<state_dir>/pending/` before they are uploaded, so a
crash or a lost connection loses nothing: the next start uploads them first.

DeskGrid's own apps run natively (or in Docker when they name an image). Apps other developers
published (a lease with `docker`) run only in the Docker sandbox, only when the volunteer allows
it (`Preferences.run_docker_apps`) and Docker answers; only then does the worker tell the grid
`docker: true`. Their images come through the image cache (`image_cache`). A lease with a
`result_key` has its result encrypted to the requester before it is kept or sent (`sealing`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import psutil
from eth_account.signers.local import LocalAccount

from deskgrid.apps.registry import builtin_apps
from deskgrid.apps.sdk import AppParamsError, AppSpec
from deskgrid.grid.client import GridClient, GridClientError, LeaseGone, NotAuthorized
from deskgrid.grid.content import check_grid_url
from deskgrid.grid.docker_apps import spec_from_lease
from deskgrid.grid.models import Capabilities, Lease
from deskgrid.paths import sub_dir
from deskgrid.worker.activity import NoActivitySource, default_activity_source
from deskgrid.worker.docker_runner import NO_DOCKER_FOR_APPS, DockerRunner, docker_available
from deskgrid.worker.identity import worker_account
from deskgrid.worker.image_cache import DEFAULT_IMAGE_CACHE_MB, ImageCache, shared_image_cache
from deskgrid.worker.inputs import (
    DEFAULT_MAX_INPUT_MB,
    DEFAULT_MIN_FREE_DISK_MB,
    MIB,
    InputLimits,
    fetch_inputs,
)
from deskgrid.worker.lease_run import LeaseRun, release_leases
from deskgrid.worker.native_runner import NativeExecution, NativeRunner
from deskgrid.worker.observer import SystemObserver
from deskgrid.worker.pending import PendingResult, PendingStore
from deskgrid.worker.policy import (
    Decision,
    Preferences,
    advertised_memory_mb,
    decide,
    job_memory_limit,
)
from deskgrid.worker.proctree import JobRecords
from deskgrid.worker.runner import (
    Job,
    JobOutcome,
    Limits,
    Runner,
    RunnerError,
    app_memory_need_mb,
    jobs_dir,
    owned_dir,
    remove_leftover_job_dirs,
)
from deskgrid.worker.sealing import seal_outcome, sealed_path
from deskgrid.worker.status import Backoff, WorkerStatus

log = logging.getLogger(__name__)
T = TypeVar("T")

# The preferences used when none are given: compute whenever the worker runs.
ALWAYS_RUN = Preferences(
    max_ncpus_pct=100,
    run_if_user_active=True,
    suspend_cpu_usage=0,
    run_on_batteries=True,
)
MAX_IDLE_WAIT = 60.0
WAITING = "Waiting for work from the grid."
INLINE_UPLOAD_BYTES = 64 * 1024  # larger results are uploaded from their file
_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # lease and job ids (the grid's are 32 hex digits)
LOGOUT_TIMEOUT = 3.0
_CLEANED_JOB_DIRS: set[Path] = set()  # job folders already cleared of a crash's leftovers


@dataclass
class WorkerConfig:
    grid_url: str
    cores: int = 1  # max cores for jobs
    cpu_limit: int = 100  # percent, duty-cycle throttle (cpu_usage_limit)
    state_dir: Path | None = None  # None: deskgrid.paths.sub_dir("worker")
    poll_interval: float = 1.0  # min wait when the grid has nothing
    preferences: Preferences | None = None  # None: defaults that always run (tests, demo)
    max_input_mb: int = DEFAULT_MAX_INPUT_MB  # each input of a lease, and all of them
    min_free_disk_mb: int = DEFAULT_MIN_FREE_DISK_MB  # inputs never take the disk below this
    payout: str | None = None  # the address paid for this worker's results (None: its own)
    # seconds the grid may hold a work request until a job comes (0: ask, then wait locally)
    work_wait: float = 20.0
    image_cache_mb: int = DEFAULT_IMAGE_CACHE_MB  # published apps' images kept on this computer


def _transient(exc: GridClientError) -> bool:
    """Worth trying again later: unreachable, rate limited or a server fault."""
    return exc.status == 0 or exc.status == 429 or exc.status >= 500


async def _pause(seconds: float, stop: asyncio.Event) -> None:
    """Sleep, waking early when `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max(0.0, seconds))


async def _unless_stopped(request: Awaitable[T], *stops: asyncio.Event) -> T | None:
    """The request's answer, or None when one of `stops` came first (the request is
    abandoned; a lease the grid granted meanwhile is handed back when the worker signs out)."""
    asked = asyncio.ensure_future(request)
    stopped = [asyncio.ensure_future(stop.wait()) for stop in stops]
    try:
        await asyncio.wait({asked, *stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in stopped:
            waiting.cancel()
        if not asked.done():
            asked.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asked
    return asked.result() if not asked.cancelled() else None


class Worker:
    def __init__(self, config: WorkerConfig, account: LocalAccount | None = None) -> None:
        config.grid_url = check_grid_url(config.grid_url)
        self.config = config
        self.input_limits = InputLimits(
            max_input_bytes=config.max_input_mb * MIB,
            min_free_disk_bytes=config.min_free_disk_mb * MIB,
        )
        self.state_dir = config.state_dir or sub_dir("worker")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.account = account or worker_account(self.state_dir)
        self._preferences = config.preferences or ALWAYS_RUN
        self._preferences_changed = asyncio.Event()  # cuts a held work request short
        self.pending = PendingStore(self.state_dir / "pending")
        self.apps: dict[str, AppSpec] = builtin_apps()
        self.job_records = JobRecords(self.state_dir / "running")
        self.native: Runner = NativeRunner(records=self.job_records, warm=True)
        self.docker: Runner | None = None  # set at start when a Docker daemon answers
        self._probe_docker = False  # look for Docker again (published apps were allowed)
        self.paused_by_user = False  # "Pause computing" in the tray
        self.on_status: Callable[[WorkerStatus], None] | None = None
        self._status = WorkerStatus(address=self.account.address)
        self._run: LeaseRun | None = None
        self._logged_in = False
        self._advertised: Capabilities | None = None  # as the grid last heard them
        activity = NoActivitySource() if config.preferences is None else None
        self.observer = SystemObserver(
            activity or default_activity_source(), outside_cpu_seconds=self._container_cpu_seconds
        )

    # ------------------------------------------------------------------ status
    @property
    def status(self) -> WorkerStatus:
        return self._status

    def _update(self, **changes: Any) -> None:
        status = dataclasses.replace(self._status, **changes)
        if status == self._status:
            return
        self._log_change(self._status, status)
        self._status = status
        if self.on_status is not None:
            try:
                self.on_status(status)
            except Exception:  # a broken listener must not stop the work
                log.exception("on_status failed")

    def _log_change(self, old: WorkerStatus, new: WorkerStatus) -> None:
        """A line per new state, new job or new error; not per reason of one state (a busy
        CPU's percentage changes at every look)."""
        if new.state == "error":
            if new.reason != old.reason:
                log.warning("worker %s: %s", self.account.address, new.reason)
        elif new.state != old.state or new.job_id != old.job_id:
            log.info("worker %s: [%s] %s", self.account.address, new.state, new.reason)

    def _container_cpu_seconds(self) -> float:
        """CPU time of the running job when it is a container (native jobs are this
        process's children: the observer counts them with it)."""
        run = self._run
        if run is None or run.execution is None or isinstance(run.execution, NativeExecution):
            return 0.0
        return run.cpu_seconds()

    def decision(self) -> Decision:
        obs = self.observer.observe(paused_by_user=self.paused_by_user)
        return decide(self.preferences, obs, datetime.now())

    def cpu_limit(self) -> float:
        return float(min(self.config.cpu_limit, self.preferences.cpu_usage_limit))

    # ------------------------------------------------------------------ the loop
    async def capabilities(self) -> Capabilities:
        await self._find_docker()
        names = sorted(
            name
            for name, app in self.apps.items()
            if self.native.can_run(app) or (self.docker is not None and bool(app.image))
        )
        return Capabilities(
            apps=names,
            cores=max(1, self.config.cores),
            memory_mb=self.memory_to_advertise(),
            docker=self.runs_docker_apps,
        )

    async def _find_docker(self) -> None:
        """Use Docker when a daemon answers (removing a dead worker's containers)."""
        self._probe_docker = False
        if self.docker is None and await asyncio.to_thread(docker_available):
            docker = DockerRunner(worker_label=self.account.address.lower())
            await asyncio.to_thread(docker.remove_leftovers)  # a dead worker's containers
            self.docker = docker
        if self.preferences.run_docker_apps and self.docker is None:
            log.warning("worker %s: %s", self.account.address, NO_DOCKER_FOR_APPS)

    @property
    def runs_docker_apps(self) -> bool:
        """Whether this worker takes published apps' jobs now: the volunteer allows it and
        Docker answers."""
        return self.preferences.run_docker_apps and self.docker is not None

    @property
    def images(self) -> ImageCache:
        """Published apps' images on this computer (shared by the workers of one folder)."""
        config = self.config
        return shared_image_cache(self.state_dir, config.image_cache_mb, config.min_free_disk_mb)

    def memory_to_advertise(self) -> int:
        """The most memory, in MiB, the volunteer's preferences let a job use here: the grid
        leases this worker only jobs whose app needs no more."""
        return advertised_memory_mb(self.preferences, psutil.virtual_memory().total // 2**20)

    def _current_capabilities(self, caps: Capabilities) -> Capabilities:
        """`caps` with the memory the preferences allow now, and whether published apps run
        here (preferences apply live)."""
        return caps.model_copy(
            update={"memory_mb": self.memory_to_advertise(), "docker": self.runs_docker_apps}
        )

    @property
    def preferences(self) -> Preferences:
        """The volunteer's preferences; they apply live (a held work request is cut short so
        that the grid hears a changed memory allowance at once)."""
        return self._preferences

    @preferences.setter
    def preferences(self, prefs: Preferences) -> None:
        if prefs.run_docker_apps and not self._preferences.run_docker_apps:
            self._probe_docker = True  # Docker may have been started since
        self._preferences = prefs
        self._preferences_changed.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; a job running then is killed and its lease handed back
        to the grid at once (`LeaseRun`)."""
        if jobs_dir() not in _CLEANED_JOB_DIRS:  # once per process: a node runs several workers
            _CLEANED_JOB_DIRS.add(jobs_dir())
            await asyncio.to_thread(remove_leftover_job_dirs)
        await asyncio.to_thread(self.job_records.kill_leftovers)  # a dead worker's jobs
        self.pending.clean()
        caps = await self.capabilities()
        backoff = Backoff(first=max(0.1, self.config.poll_interval / 2), cap=MAX_IDLE_WAIT)
        try:
            async with GridClient(self.config.grid_url, timeout=30.0) as client:
                while not stop.is_set():
                    try:
                        wait = await self._cycle(client, caps, stop)
                        backoff.reset()
                    except NotAuthorized as exc:
                        self._logged_in = False
                        wait = backoff.next()
                        self._error(f"The grid refused this worker: {exc.detail}", wait)
                    except GridClientError as exc:
                        wait = max(exc.retry_after or 0.0, backoff.next())
                        self._error(exc.detail, wait)
                    except (OSError, RunnerError) as exc:  # e.g. a full disk: wait, try again
                        log.exception("worker round failed")
                        wait = backoff.next()
                        self._error(f"Something went wrong on this computer: {exc}", wait)
                    await _pause(wait, stop)
                await self._logout(client)
        finally:
            if isinstance(self.native, NativeRunner):
                await self.native.aclose()  # the warm process waiting for a job
            self._update(
                state="stopped", reason="Stopped.", job_id=None, app=None, progress=None,
                keys_per_s=None,
            )  # fmt: skip

    async def _logout(self, client: GridClient) -> None:
        """On a clean stop, revoke the token and hand back the leases still in progress but
        those whose results wait on disk (a grid that does not answer soon is left)."""
        if not self._logged_in:
            return
        self._logged_in = False
        keep = [entry.lease_id for entry in self.pending.entries(worker=self.account.address)]
        try:
            await asyncio.wait_for(client.logout(release_leases=True, keep=keep), LOGOUT_TIMEOUT)
        except (GridClientError, TimeoutError):
            log.info("the grid did not take the logout; the token expires by itself")

    def _error(self, message: str, wait: float) -> None:
        self._update(
            state="error",
            reason=f"{message} Trying again in {_seconds(wait)}.",
            last_error=message,
            job_id=None,
            app=None,
        )

    async def _cycle(self, client: GridClient, caps: Capabilities, stop: asyncio.Event) -> float:
        """One round: log in, upload what is pending, ask for a lease and compute it.
        Returns how long to wait before the next round."""
        if self._probe_docker:
            await self._find_docker()
        if not self._logged_in:
            self._update(state="idle", reason=f"Connecting to the grid at {client.url}.")
            current = self._current_capabilities(caps)
            await client.authenticate(self.account, capabilities=current, payout=self.config.payout)
            self._logged_in, self._advertised = True, current
        for entry in self.pending.entries(worker=self.account.address):
            await self._upload(client, entry, stop)
            if stop.is_set():
                return 0.0
        decision = self.decision()
        if not decision.run:
            self._update(state="suspended", reason=decision.reason, job_id=None, app=None)
            return self.config.poll_interval
        current = self._current_capabilities(caps)  # sent again only when they changed
        if self.config.work_wait > 0:  # the grid may hold the request: waiting already
            self._update(state="idle", reason=WAITING, job_id=None)
        changed = None if current == self._advertised else current
        self._preferences_changed.clear()
        reply = await _unless_stopped(
            client.request_work(1, changed, wait=self.config.work_wait),
            stop,
            self._preferences_changed,  # e.g. more memory allowed: the grid must hear it now
        )
        if reply is None:
            return 0.0
        self._advertised = current
        if not reply.leases:
            waiting = reply.reason or WAITING  # e.g. its quota
            self._update(state="idle", reason=waiting, job_id=None)
            if reply.retry_after == 0 and self.config.work_wait > 0:
                return 0.0  # the grid held the request and had nothing: ask again now
            retry = min(reply.retry_after or 0.0, MAX_IDLE_WAIT)
            return max(self.config.poll_interval, retry)
        for index, lease in enumerate(reply.leases):
            if stop.is_set():  # stopping: hand the leases not started back at once
                await release_leases(client, [left.lease_id for left in reply.leases[index:]])
                break
            await self._work(client, lease, stop)
        return 0.0

    # ------------------------------------------------------------------ one lease
    def _prepare(self, lease: Lease) -> tuple[AppSpec, Runner, dict[str, Any]]:
        if lease.docker is not None:  # a published app: only ever in the Docker sandbox
            if not self.preferences.run_docker_apps:
                raise RunnerError(
                    "This worker does not run apps from other developers (its volunteer did "
                    "not allow them)."
                )
            if self.docker is None:
                raise RunnerError(NO_DOCKER_FOR_APPS)
            spec = spec_from_lease(lease.app, lease.app_version, lease.docker)
            return spec, self.docker, dict(lease.params)
        app = self.apps.get(lease.app)
        if app is None:
            raise RunnerError(f"This worker does not have the app {lease.app}.")
        if app.version != lease.app_version:
            raise RunnerError(
                f"This worker has {app.name} {app.version}, the job needs {lease.app_version}."
            )
        runner = self.docker if app.image else self.native
        if runner is None:
            raise RunnerError(f"The app {app.name} needs Docker, which is not available here.")
        try:
            params = app.validate(dict(lease.params))
        except AppParamsError as exc:
            raise RunnerError(str(exc)) from None
        return app, runner, params

    async def _work(self, client: GridClient, lease: Lease, stop: asyncio.Event) -> None:
        if not (_ID.match(lease.lease_id) and _ID.match(lease.job_id)):
            # ids go into URLs and file names: a grid's odd one is dropped (the lease expires)
            message = "The grid sent a lease with an invalid id; it was ignored."
            self._update(state="idle", reason=message, last_error=message, job_id=None)
            return
        staging = await asyncio.to_thread(owned_dir, "inputs-")
        try:
            await self._work_in(client, lease, stop, staging)
        finally:
            await asyncio.to_thread(shutil.rmtree, staging, True)

    async def _work_in(
        self, client: GridClient, lease: Lease, stop: asyncio.Event, staging: Path
    ) -> None:
        async with contextlib.AsyncExitStack() as held:
            try:
                app, runner, params = self._prepare(lease)
                if lease.docker is not None:  # its image stays while the job runs
                    self._update(
                        state="computing",
                        reason=f"Getting the image of {lease.app} for job {lease.job_id}.",
                        job_id=lease.job_id,
                        app=lease.app,
                        progress=None,
                        keys_per_s=None,
                    )
                    beats = asyncio.ensure_future(self._heartbeats_while_fetching(client, lease))
                    try:  # a large image may take longer than the grid waits for a sign of life
                        await held.enter_async_context(self.images.using(lease.docker, client))
                    finally:
                        beats.cancel()
                        await asyncio.gather(beats, return_exceptions=True)
                inputs = await fetch_inputs(client, lease.inputs, staging, self.input_limits)
            except RunnerError as exc:
                await self._report_error(client, lease, str(exc), stop)
                return
            except GridClientError as exc:
                if _transient(exc) or isinstance(exc, NotAuthorized):
                    raise  # the lease expires if the grid stays away; the loop backs off
                what = "the app's image" if lease.docker is not None else "the job's input"
                await self._report_error(client, lease, f"Cannot get {what}: {exc}", stop)
                return
            await self._compute(client, lease, stop, app, runner, params, inputs)

    async def _heartbeats_while_fetching(self, client: GridClient, lease: Lease) -> None:
        """Tell the grid the lease is alive while its app's image is fetched (a lease the
        grid ended shows when the result is sent)."""
        while True:
            await asyncio.sleep(max(0.05, lease.heartbeat_interval))
            try:
                await client.heartbeat(lease.lease_id, message="Getting the app's image.")
            except LeaseGone:
                return
            except GridClientError:
                continue

    async def _compute(
        self,
        client: GridClient,
        lease: Lease,
        stop: asyncio.Event,
        app: AppSpec,
        runner: Runner,
        params: dict[str, Any],
        inputs: dict[str, Path],
    ) -> None:
        decision = self.decision()
        cores = max(1, min(self.config.cores, decision.cores))
        memory = job_memory_limit(app_memory_need_mb(app, cores), decision.memory_mb)
        # a running job is stopped when the disk's free space drops below half the floor, and
        # when it uses more memory than its app needs or the volunteer allows
        limits = dataclasses.replace(
            Limits.for_app(app, cores),
            min_free_disk_mb=self.config.min_free_disk_mb // 2,
            memory_mb=memory.mb,
            memory_by_volunteer=memory.by_volunteer,
        )
        if lease.max_runtime > 0:
            limits = dataclasses.replace(
                limits, wall_seconds=min(limits.wall_seconds, lease.max_runtime)
            )
        result_to = self.pending.incoming(lease.lease_id)
        job = Job(
            lease.job_id, app, params, inputs, cores=cores, limits=limits, result_to=result_to
        )
        run = LeaseRun(
            client,
            lease,
            stop=stop,
            policy=self.decision,
            cpu_limit=self.cpu_limit,
            on_change=self._job_changed,
            check_period=min(1.0, self.config.poll_interval),
        )
        self._run = run
        self._update(
            state="computing",
            reason=f"Computing {app.name} job {lease.job_id} on {cores} core(s).",
            job_id=lease.job_id,
            app=app.name,
            progress=None,
            keys_per_s=None,
        )
        try:
            outcome = await run.execute(runner, job)
        except (RunnerError, OSError) as exc:  # the job could not even start
            await self._report_error(client, lease, f"The job could not start: {exc}", stop)
            return
        finally:
            self._run = None
        try:
            await self._answer(client, lease, app, run, outcome, stop)
        finally:
            result_to.unlink(missing_ok=True)
            sealed_path(result_to).unlink(missing_ok=True)

    async def _answer(
        self,
        client: GridClient,
        lease: Lease,
        app: AppSpec,
        run: LeaseRun,
        outcome: JobOutcome | None,
        stop: asyncio.Event,
    ) -> None:
        if outcome is None:
            self._update(state="idle", reason=run.dropped or "The job was dropped.", job_id=None)
            return
        if not outcome.ok:
            message = outcome.message or f"The job ended with status {outcome.status}."
            await self._report_error(client, lease, message, stop)
            return
        if lease.result_key:  # the grid and everyone after it see only ciphertext
            sealed_to = sealed_path(self.pending.incoming(lease.lease_id))
            try:
                outcome = await asyncio.to_thread(seal_outcome, lease, outcome, sealed_to)
            except RunnerError as exc:
                await self._report_error(client, lease, str(exc), stop)
                return
        size = outcome.size
        if 0 < lease.max_result_bytes < size:
            message = (
                f"The job's result is {size} bytes, more than the {lease.max_result_bytes} "
                "bytes the grid accepts."
            )
            await self._report_error(client, lease, message, stop)
            return
        worker = self.account.address
        if outcome.result_file is not None:
            entry = await asyncio.to_thread(
                self.pending.adopt, lease.lease_id, lease.job_id, app.name, outcome.result_file,
                worker,
            )  # fmt: skip
        else:
            entry = self.pending.save(
                lease.lease_id, lease.job_id, app.name, outcome.result or b"", worker
            )
        await self._upload(client, entry, stop)

    def _job_changed(self, run: LeaseRun) -> None:
        if run.suspended:
            self._update(state="suspended", reason=run.suspended)
        else:
            app = self._status.app or run.lease.app
            self._update(
                state="computing",
                reason=f"Computing {app} job {run.lease.job_id}.",
                progress=run.progress,
                keys_per_s=run.keys_per_s,
            )

    # ------------------------------------------------------------------ answers to the grid
    async def _upload(self, client: GridClient, entry: PendingResult, stop: asyncio.Event) -> None:
        """Upload a pending result until the grid answers; it stays on disk if `stop` comes
        first. A lease the grid no longer knows drops the result."""
        small = entry.size <= INLINE_UPLOAD_BYTES
        data = self.pending.load(entry) if small else None
        path = None if small else await asyncio.to_thread(self.pending.intact_path, entry)
        if data is None and path is None:
            self.pending.remove(entry.lease_id)
            return
        self._update(
            state="computing",
            reason=f"Uploading the result of job {entry.job_id}.",
            job_id=entry.job_id,
            app=entry.app,
        )
        backoff = Backoff(cap=MAX_IDLE_WAIT)
        while True:
            try:
                if path is not None:  # streamed from its file, never whole in memory
                    await client.upload_result_file(entry.lease_id, path)
                else:
                    await client.upload_result(entry.lease_id, data or b"")
            except LeaseGone as exc:
                self.pending.remove(entry.lease_id)
                self._update(last_error=f"Result of job {entry.job_id} dropped: {exc.detail}")
                return
            except NotAuthorized:
                raise
            except GridClientError as exc:
                if not _transient(exc):
                    self.pending.remove(entry.lease_id)
                    self._update(last_error=f"The grid refused a result: {exc.detail}")
                    return
                wait = max(exc.retry_after or 0.0, backoff.next())
                self._error(f"Cannot upload the result of job {entry.job_id}: {exc.detail}", wait)
                await _pause(wait, stop)
                if stop.is_set():
                    return
                continue
            self.pending.remove(entry.lease_id)
            self._update(
                state="idle",
                reason=f"Result of job {entry.job_id} delivered.",
                jobs_done=self._status.jobs_done + 1,
                job_id=None,
            )
            return

    async def _report_error(
        self, client: GridClient, lease: Lease, message: str, stop: asyncio.Event
    ) -> None:
        """Tell the grid a job failed (a few tries; an unreported error expires anyway)."""
        log.warning("worker %s: job %s failed: %s", self.account.address, lease.job_id, message)
        self._update(last_error=message, job_id=None, app=None)
        report = client.report_error
        backoff = Backoff()
        for _ in range(5):
            try:
                await report(lease.lease_id, message)
                return
            except LeaseGone:
                return
            except GridClientError as exc:
                if not _transient(exc):
                    return
                await _pause(backoff.next(), stop)
                if stop.is_set():
                    return


def _seconds(wait: float) -> str:
    """A wait as people read it: "0.5 s", "2 s", "1 min 30 s"."""
    if wait < 1:
        return f"{wait:.1f} s"
    if round(wait) < 60:
        return f"{round(wait)} s"
    minutes, seconds = divmod(round(wait), 60)
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"

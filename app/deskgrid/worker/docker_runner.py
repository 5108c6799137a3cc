"""The Docker runner: an app's image in a locked-down container.

The container has no network (`network_mode=none`), a read-only root file system, no
capabilities, `no-new-privileges`, a non-root user (the worker's own uid, or nobody when the
worker runs as root), memory / CPU / pids limits and lowest CPU shares; the only thing mounted
is the job's directory, at /job. The app reads /job/params.json and its input files there,
writes /job/result, and may print progress lines (`{"progress": 0.4}`) on standard output.
Environment: DESKGRID_JOB_DIR, DESKGRID_PARAMS, DESKGRID_RESULT, DESKGRID_CORES and
DESKGRID_INPUTS (a JSON list of the input files' names in /job).

Each container has a guard process (`container_guard`) that removes it when its worker dies,
even by SIGKILL; the containers are labelled with their worker, and a starting worker removes
those a dead one left (`remove_leftovers`).

No daemon or a missing image is a RunnerError with a sentence; `docker_available()` is False
without a daemon, so the worker does not offer Docker apps.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deskgrid.apps.sdk import AppSpec
from deskgrid.worker.proctree import start_time
from deskgrid.worker.runner import (
    Job,
    JobDir,
    JobOutcome,
    Limits,
    ProgressCallback,
    RunnerError,
    Status,
    last_line,
    memory_stop_message,
    parse_progress,
)
from deskgrid.worker.supervised import DISK_CHECK_SECONDS, SupervisedExecution

JOB_MOUNT = "/job"
JOB_LABEL = "deskgrid.job"
WORKER_LABEL = "deskgrid.worker"
OWNER_LABEL = "deskgrid.owner"  # "<pid> <start time>" of the worker process
RUN_LABEL = "deskgrid.run"  # one per container
NOBODY = "65534:65534"
NO_DAEMON = (
    "Docker is not running on this computer (or this user may not use it): start Docker to "
    "run Docker apps; the worker runs the other apps meanwhile."
)
NO_DOCKER_FOR_APPS = (
    "Docker is not installed or not running here: apps from other developers run only in "
    "Docker's sandbox, so this computer does not take their jobs. Install and start Docker "
    "to run them."
)

log = logging.getLogger(__name__)


def _default_client() -> Any:
    import docker

    return docker.from_env(timeout=10)


def connect_docker(client_factory: Callable[[], Any] = _default_client) -> Any:
    """A Docker client that answered a ping; RunnerError(NO_DAEMON) when there is none."""
    try:
        client = client_factory()
        client.ping()
    except Exception:  # no daemon, no permission, no SDK: one sentence for the volunteer
        raise RunnerError(NO_DAEMON) from None
    return client


def docker_available(client_factory: Callable[[], Any] = _default_client) -> bool:
    """True when a Docker daemon answers."""
    try:
        connect_docker(client_factory)
    except RunnerError:
        return False
    return True


def _owner_alive(owner: str) -> bool:
    try:
        pid, created = owner.split()
        found = start_time(int(pid))
        return found is not None and abs(found - float(created)) < 0.01
    except ValueError:
        return False


def _name_part(label: str) -> str:
    return "".join(ch for ch in label.lower() if ch.isalnum())[:16] or "worker"


def start_guard(container_id: str) -> subprocess.Popen[bytes] | None:
    """The container's guard (`container_guard`): it removes the container when the pipe to
    its standard input closes, i.e. when this worker releases it or dies."""
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "deskgrid.worker.container_guard", container_id],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:  # the leftover sweep at the next start still removes the container
        return None


def release_guard(guard: subprocess.Popen[bytes] | None) -> None:
    """Let the guard go (it removes the container, if still there, and exits)."""
    if guard is None:
        return
    with contextlib.suppress(OSError):
        if guard.stdin is not None:
            guard.stdin.close()
    try:
        guard.wait(timeout=60)
    except subprocess.TimeoutExpired:
        guard.kill()
        guard.wait()


def container_user() -> str:
    """The worker's own uid:gid (files in the job directory stay ours), nobody for root."""
    if os.name != "posix" or os.getuid() == 0:
        return NOBODY
    return f"{os.getuid()}:{os.getgid()}"


class DockerRunner:
    """Runs Docker apps (those with an `image`)."""

    kind = "docker"

    def __init__(
        self,
        client_factory: Callable[[], Any] = _default_client,
        pull_missing: bool = False,
        worker_label: str = "",
    ) -> None:
        self._client_factory = client_factory
        self._client: Any = None
        self.pull_missing = pull_missing
        # Containers carry the worker's label and the worker process (pid and start time), so
        # that a restarted worker removes those a dead one left (`remove_leftovers`).
        self.worker_label = worker_label or "default"
        self.owner = f"{os.getpid()} {start_time(os.getpid()) or 0.0:.3f}"

    def remove_leftovers(self) -> int:
        """Remove the containers of this worker label whose worker process is gone (call at
        start); returns how many there were."""
        try:
            client = self._docker()
            found = client.containers.list(
                all=True, filters={"label": f"{WORKER_LABEL}={self.worker_label}"}
            )
        except Exception as exc:  # Docker away: nothing of ours can be running there either
            log.warning("Could not list leftover job containers (%s); none removed.", exc)
            return 0
        count = 0
        for container in found:
            owner = (container.labels or {}).get(OWNER_LABEL, "")
            if owner != self.owner and _owner_alive(owner):
                continue  # another worker process with the same label: still running
            with contextlib.suppress(Exception):
                container.remove(force=True)
                count += 1
        return count

    def _remove_run(self, client: Any, run_id: str) -> None:
        with contextlib.suppress(Exception):
            for container in client.containers.list(
                all=True, filters={"label": f"{RUN_LABEL}={run_id}"}
            ):
                with contextlib.suppress(Exception):
                    container.remove(force=True)

    def _docker(self) -> Any:
        if self._client is None:
            self._client = connect_docker(self._client_factory)
        return self._client

    def available(self) -> bool:
        try:
            self._docker()
            return True
        except RunnerError:
            return False

    def can_run(self, app: AppSpec) -> bool:
        return bool(app.image) and self.available()

    async def start(self, job: Job, on_progress: ProgressCallback | None = None) -> DockerExecution:
        if not job.app.image:
            raise RunnerError(f"The app {job.app.name} is not a Docker app.")
        client = self._docker()
        jobdir = JobDir(job, world_writable=container_user() == NOBODY)
        shutil.copyfile(jobdir.params, jobdir.work / "params.json")
        run_id = uuid.uuid4().hex
        abandoned = threading.Event()
        try:
            container, guard = await asyncio.to_thread(
                self._create, client, job, jobdir, run_id, abandoned
            )
        except BaseException:
            abandoned.set()  # a container created meanwhile removes itself; this finds others
            threading.Thread(target=self._remove_run, args=(client, run_id), daemon=True).start()
            jobdir.remove()
            raise
        return DockerExecution(
            container, jobdir, job.effective_limits, on_progress, job.result_to, guard
        )

    def _create(
        self, client: Any, job: Job, jobdir: JobDir, run_id: str, abandoned: threading.Event
    ) -> tuple[Any, subprocess.Popen[bytes] | None]:
        import docker.errors
        from docker.types import LogConfig, Ulimit

        limits = job.effective_limits
        image = job.app.image
        options: dict[str, Any] = {
            "command": list(job.app.command) or None,
            "user": container_user(),
            "network_mode": "none",
            "read_only": True,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "mem_limit": f"{limits.memory_mb}m",
            "memswap_limit": f"{limits.memory_mb}m",
            "nano_cpus": int(max(1, job.cores) * 1e9),
            "cpu_shares": 2,  # the lowest weight: the volunteer's programs come first
            "pids_limit": limits.pids,
            "ulimits": [Ulimit(name="core", soft=0, hard=0)],
            # what the app prints is kept by Docker on the host's disk: capped
            "log_config": LogConfig(
                type=LogConfig.types.JSON, config={"max-size": "8m", "max-file": "2"}
            ),
            "volumes": {str(jobdir.work): {"bind": JOB_MOUNT, "mode": "rw"}},
            "tmpfs": {"/tmp": "rw,noexec,nosuid,size=64m"},
            "working_dir": JOB_MOUNT,
            "environment": {
                "HOME": JOB_MOUNT,
                "DESKGRID_JOB_DIR": JOB_MOUNT,
                "DESKGRID_PARAMS": f"{JOB_MOUNT}/params.json",
                "DESKGRID_RESULT": f"{JOB_MOUNT}/result",
                "DESKGRID_CORES": str(max(1, job.cores)),
                "DESKGRID_INPUTS": json.dumps(sorted(job.inputs)),  # file names in /job
            },
            "labels": {
                JOB_LABEL: job.job_id[:200],
                WORKER_LABEL: self.worker_label,
                OWNER_LABEL: self.owner,
                RUN_LABEL: run_id,
            },
            "name": f"deskgrid-{_name_part(self.worker_label)}-{run_id[:12]}",
            "detach": True,
        }
        container, guard, started = None, None, False
        try:
            try:
                container = client.containers.create(image, **options)
            except docker.errors.ImageNotFound:
                if not self.pull_missing:
                    raise
                client.images.pull(image)
                container = client.containers.create(image, **options)
            if abandoned.is_set():
                raise RunnerError("The job was abandoned while its container was created.")
            guard = start_guard(container.id)
            container.start()
            if abandoned.is_set():
                raise RunnerError("The job was abandoned while its container started.")
            started = True
            return container, guard
        except docker.errors.ImageNotFound:
            raise RunnerError(
                f"The Docker image {image} is not on this computer: pull it with "
                f"`docker pull {image}`, or let the worker pull images."
            ) from None
        except docker.errors.APIError as exc:
            raise RunnerError(
                f"Docker could not start the job: {exc.explanation or exc}."
            ) from None
        except docker.errors.DockerException:
            raise RunnerError(NO_DAEMON) from None
        finally:  # a container that did not start is removed at once
            if container is not None and not started:
                with contextlib.suppress(Exception):
                    container.remove(force=True)
                release_guard(guard)


class DockerExecution(SupervisedExecution):
    """A running container job (see runner.Execution)."""

    def __init__(
        self,
        container: Any,
        jobdir: JobDir,
        limits: Limits,
        on_progress: ProgressCallback | None,
        result_to: Path | None = None,
        guard: subprocess.Popen[bytes] | None = None,
    ) -> None:
        super().__init__(jobdir, limits, on_progress, result_to)
        self._container = container
        self._loop = asyncio.get_running_loop()
        self.guard = guard  # removes the container if we die; let go when the job ends
        self._start()

    @property
    def container_id(self) -> str:
        return self._container.id

    def cpu_seconds(self) -> float:
        """CPU time of the container as last sampled (the supervisor samples it)."""
        return self._cpu

    def _sample_cpu(self) -> None:
        with contextlib.suppress(Exception):
            stats = self._container.stats(stream=False, one_shot=True)
            usage = stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9
            self._cpu = max(self._cpu, usage)

    async def pause(self) -> None:
        if not self._clock.paused and not self._task.done():
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._container.pause)
                self._clock.mark_paused()

    async def resume(self) -> None:
        if self._clock.paused:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._container.unpause)
            self._clock.mark_resumed()

    async def cancel(self) -> None:
        self._cancelled = True
        await asyncio.to_thread(self._kill)
        await self._wait_for_supervisor()

    def _kill(self) -> None:
        with contextlib.suppress(Exception):
            if self._clock.paused:
                self._container.unpause()
        with contextlib.suppress(Exception):
            self._container.kill()

    def _follow_logs(self) -> None:
        """Runs in a thread: progress lines from the container's standard output."""
        buffer = b""
        with contextlib.suppress(Exception):
            for chunk in self._container.logs(stream=True, follow=True, stdout=True, stderr=False):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                buffer = buffer[-65536:]
                for line in lines:
                    event = parse_progress(line)
                    if event is not None and self._on_progress is not None:
                        self._loop.call_soon_threadsafe(self._report, event)

    def _report(self, event: Any) -> None:
        with contextlib.suppress(Exception):
            self._on_progress(event)  # type: ignore[misc]

    async def _supervise(self) -> JobOutcome:
        logs = threading.Thread(target=self._follow_logs, daemon=True)
        logs.start()
        waiter = asyncio.ensure_future(asyncio.to_thread(self._container.wait))
        in_time = True
        try:
            last_sample = 0.0
            while not waiter.done():
                remaining = self._time_left()
                if remaining is None:
                    in_time = False
                    await asyncio.to_thread(self._kill)
                    break
                await asyncio.wait({waiter}, timeout=min(remaining, DISK_CHECK_SECONDS))
                if not waiter.done() and self._over is None:
                    self._over = await asyncio.to_thread(self._disk_check)
                    if self._over is not None:
                        await asyncio.to_thread(self._kill)
                        break
                if time.monotonic() - last_sample > 2:
                    last_sample = time.monotonic()
                    await asyncio.to_thread(self._sample_cpu)
            status = await waiter
            await asyncio.to_thread(logs.join, 5)
            return await asyncio.to_thread(self._outcome, status, in_time)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._container.remove, force=True)
            await asyncio.to_thread(release_guard, self.guard)
            self._jobdir.remove()

    def _outcome(self, status: dict[str, Any], in_time: bool) -> JobOutcome:
        early = self._ended_early(in_time)
        if early is not None:
            return early
        code = status.get("StatusCode", -1)
        with contextlib.suppress(Exception):
            self._container.reload()
            if self._container.attrs["State"].get("OOMKilled"):
                message = memory_stop_message(self._limits)
                return JobOutcome(Status.ERROR, message=message, **self._common())
        if code == 0:
            return self._finished(self._jobdir.work / "result")
        stderr = ""
        with contextlib.suppress(Exception):
            stderr = self._container.logs(stdout=False, stderr=True, tail=20).decode(
                "utf-8", errors="replace"
            )
        message = last_line(stderr) or f"The app exited with code {code}."
        return JobOutcome(Status.ERROR, message=message, **self._common())

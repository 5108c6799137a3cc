"""`GridClient`: the typed asyncio client of the grid API, for submitters (the oracle, the
GUI, the operator) and for workers.

    async with GridClient(url, token=submitter_token) as grid:
        job = await grid.submit("echo", {"message": "hi"}, external_id="0x…")
        async for event in grid.stream_events(since=0): ...

    async with GridClient(url) as grid:          # a worker
        await grid.authenticate(account, capabilities=Capabilities(apps=["vanity"]))
        reply = await grid.request_work()

    async with GridClient(url) as grid:          # a requester (its wallet): data only
        await grid.sign_in_requester(account)
        ref = await grid.upload_file(path)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from deskgrid import logs
from deskgrid.grid.content import ContentRefused, check_sha256, stream_to_file
from deskgrid.grid.models import (
    AppInfo,
    Capabilities,
    DataRef,
    Event,
    EventsPage,
    Health,
    HeartbeatReply,
    InputRef,
    JobsPage,
    JobSubmit,
    JobView,
    LeaseAck,
    LoginReply,
    Metrics,
    ReplicationPolicy,
    ResultAck,
    WorkerSelfView,
    WorkerView,
    WorkReply,
)
from deskgrid.grid.signin import (
    REQUESTER,
    WORKER,
    SignInChallenge,
    SignInRefused,
    checked_message,
)
from deskgrid.grid.states import FINAL_JOB_STATES
from deskgrid.grid.transport import (
    MAX_EVENT_BYTES,
    MAX_REPLY_BYTES,
    GridClientError,
    GridUnavailable,
    LeaseGone,
    NotAuthorized,
    bounded_lines,
    checked,
    error_of,
    file_chunks,
    file_sha256,
    parse_json,
    read_capped,
    read_sse,
    valid,
    valid_list,
)

__all__ = [
    "ContentRefused",
    "GridClient",
    "GridClientError",
    "GridUnavailable",
    "LeaseGone",
    "NotAuthorized",
    "SignInRefused",
    "inline_results",
]


def inline_results(results: Mapping[str, bytes]) -> list[dict[str, str]]:
    """The `results` of a work request: lease id -> content, with the content's sha256."""
    return [
        {
            "lease_id": lease_id,
            "sha256": hashlib.sha256(content).hexdigest(),
            "content_b64": base64.b64encode(content).decode(),
        }
        for lease_id, content in results.items()
    ]


LONG_POLL_MAX_S = 25.0  # what a grid holds a long-polled request at most


def _long_poll(wait: float) -> dict[str, Any]:
    """The query and the read timeout of a request the grid may hold `wait` seconds."""
    if wait <= 0:
        return {}
    wait = min(wait, LONG_POLL_MAX_S)
    return {"params": {"wait": wait}, "timeout": httpx.Timeout(30.0, read=wait + 15.0)}


class GridClient:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_reply_bytes: int = MAX_REPLY_BYTES,
        max_download_bytes: int = 128 << 20,
    ) -> None:
        """`max_reply_bytes` bounds a JSON reply, `max_download_bytes` a download held in
        memory (download_data, download_result): a reply past its bound is not read."""
        self.url = url.rstrip("/")
        self.max_reply_bytes = max_reply_bytes
        self.max_download_bytes = max_download_bytes
        self.token = token
        logs.redact(token)
        self.address: str | None = None
        self._account: LocalAccount | None = None
        self._login: dict[str, Any] = {}
        self._role = WORKER  # how the kept account signs in again when its token expires
        self._http = httpx.AsyncClient(
            base_url=self.url + "/api/v1",
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # a grid's redirect is an answer, never followed
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    async def __aenter__(self) -> GridClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------ plumbing

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def _request(
        self,
        method: str,
        path: str,
        *,
        lease: bool = False,
        limit: int | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The reply, read whole up to `limit` bytes (default: max_reply_bytes)."""
        extra = kwargs.pop("headers", None)
        for attempt in (0, 1):
            try:
                request = self._http.build_request(
                    method, path, headers=self._headers(extra), **kwargs
                )
                streamed = await self._http.send(request, stream=True)
                try:
                    if streamed.status_code >= 400:
                        error = await error_of(streamed, lease=lease)
                        if not (streamed.status_code == 401 and attempt == 0 and self._account):
                            raise error
                        response = None
                    else:
                        response = await read_capped(streamed, limit or self.max_reply_bytes)
                finally:
                    await streamed.aclose()
            except httpx.TransportError as exc:
                raise GridUnavailable(
                    0, f"Cannot reach the grid at {self.url} ({type(exc).__name__})."
                ) from exc
            if response is None:  # 401: the token expired
                assert self._account is not None
                if self._role == REQUESTER:
                    await self.sign_in_requester(self._account)
                else:
                    await self.authenticate(self._account, **self._login)
                continue
            return response
        raise AssertionError("unreachable")

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return parse_json((await self._request(method, path, **kwargs)).content)

    # ------------------------------------------------------------ public

    async def health(self) -> Health:
        return valid(Health, await self._json("GET", "/health"))

    async def metrics(self) -> Metrics:
        return valid(Metrics, await self._json("GET", "/metrics"))

    async def apps(self) -> list[AppInfo]:
        return valid_list(AppInfo, await self._json("GET", "/apps"))

    # ------------------------------------------------------------ submitters

    async def submit(
        self,
        app: str | JobSubmit,
        params: dict[str, Any] | None = None,
        *,
        inputs: Iterable[InputRef | dict[str, str]] = (),
        policy: ReplicationPolicy | dict[str, Any] | None = None,
        deadline: float | None = None,
        external_id: str | None = None,
        priority: int = 0,
    ) -> JobView:
        """Submit a job; resubmitting with the same `external_id` returns the same job."""
        if isinstance(app, JobSubmit):
            request = app
        else:
            request = JobSubmit(
                app=app,
                params=params or {},
                inputs=[InputRef.model_validate(i) for i in inputs],
                policy=ReplicationPolicy.model_validate(policy or {}),
                deadline=deadline,
                external_id=external_id,
                priority=priority,
            )
        body = request.model_dump(exclude_none=True)
        return valid(JobView, await self._json("POST", "/jobs", json=body))

    async def get_job(self, job_id: str) -> JobView:
        return valid(JobView, await self._json("GET", f"/jobs/{job_id}"))

    async def find_job(self, external_id: str) -> JobView | None:
        """The job submitted with this external id (the on-chain task id), if any."""
        page = await self.list_jobs(external_id=external_id, limit=1)
        return page.jobs[0] if page.jobs else None

    async def list_jobs(
        self,
        *,
        state: str | Iterable[str] | None = None,
        app: str | None = None,
        external_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> JobsPage:
        params: list[tuple[str, str | int]] = [("limit", limit), ("offset", offset)]
        states = [state] if isinstance(state, str) else list(state or [])
        params += [("state", s) for s in states]
        if app:
            params.append(("app", app))
        if external_id:
            params.append(("external_id", external_id))
        return valid(JobsPage, await self._json("GET", "/jobs", params=params))

    async def cancel(self, job_id: str) -> JobView:
        return valid(JobView, await self._json("POST", f"/jobs/{job_id}/cancel"))

    async def wait_job(self, job_id: str, *, timeout: float = 60.0, poll: float = 0.2) -> JobView:
        """Poll until the job is COMPLETED, ERROR or CANCELLED (TimeoutError after `timeout`)."""
        async with asyncio.timeout(timeout):
            while True:
                job = await self.get_job(job_id)
                if job.state in FINAL_JOB_STATES:
                    return job
                await asyncio.sleep(poll)

    async def download_result(self, job_id: str) -> bytes:
        """The canonical result of a COMPLETED job, checked against its sha256."""
        response = await self._request(
            "GET", f"/jobs/{job_id}/result", limit=self.max_download_bytes
        )
        return checked(response.content, response.headers.get("x-content-sha256"))

    async def events(
        self, since: int = 0, *, job_id: str | None = None, limit: int = 500, wait: float = 0.0
    ) -> EventsPage:
        """The events after `since`; with `wait`, a grid that has none yet holds the request
        up to that many seconds (at most 25) and answers as soon as one comes (an older grid
        answers at once)."""
        params: dict[str, Any] = {"since": since, "limit": limit}
        if job_id:
            params["job_id"] = job_id
        waiting = _long_poll(wait)
        params |= waiting.pop("params", {})
        return valid(EventsPage, await self._json("GET", "/events", params=params, **waiting))

    async def stream_events(
        self, since: int = 0, *, reconnect: bool = True, retry_s: float = 1.0
    ) -> AsyncIterator[Event]:
        """Live events after `since`, forever; reconnects and resumes where it stopped."""
        last = since
        while True:
            try:
                async with self._http.stream(
                    "GET",
                    "/events/stream",
                    params={"since": last},
                    headers=self._headers({"Accept": "text/event-stream"}),
                    timeout=httpx.Timeout(10.0, read=None),
                ) as response:
                    if response.status_code >= 400:
                        raise await error_of(response)
                    lines = bounded_lines(response.aiter_bytes(), MAX_EVENT_BYTES)
                    async for event in read_sse(lines):
                        last = event.seq
                        yield event
            except (httpx.TransportError, GridUnavailable) as exc:
                if not reconnect:
                    raise GridUnavailable(0, f"Lost the event stream from {self.url}.") from exc
            await asyncio.sleep(retry_s)

    async def workers(self) -> list[WorkerView]:
        return valid_list(WorkerView, await self._json("GET", "/workers"))

    # ------------------------------------------------------------ workers

    async def authenticate(
        self,
        account: LocalAccount,
        *,
        name: str | None = None,
        capabilities: Capabilities | None = None,
        payout: str | None = None,
    ) -> LoginReply:
        """Sign in as a worker: the grid's challenge is checked field by field and the
        sign-in message (`deskgrid.grid.signin`) is built here, naming this client's grid
        URL and the `payout` address, then signed with `account` (EIP-191). Nothing else is
        ever signed: a challenge for another grid, or of another form, raises SignInRefused.
        The token is kept and renewed by itself when it expires."""
        caps = capabilities or Capabilities()
        payout = to_checksum_address(payout) if payout else None
        challenge, signature = await self._signed_challenge(account, WORKER, payout)
        body = {
            "address": account.address,
            "nonce": challenge.nonce,
            "signature": signature,
            "payout": payout,
            "name": name,
            "capabilities": caps.model_dump(),
        }
        login = await self._logged_in(account, "/workers/login", body)
        self._login, self._role = {"name": name, "capabilities": caps, "payout": payout}, WORKER
        return login

    async def sign_in_requester(self, account: LocalAccount) -> LoginReply:
        """Sign in as a requester (a wallet storing its task's input files and fetching its
        results): a message of the requester's own form, naming this client's grid URL, is
        signed with `account` (EIP-191). The requester token (`dgr_…`) may store and read
        data only; it is kept and renewed by itself when it expires."""
        challenge, signature = await self._signed_challenge(account, REQUESTER, None)
        body = {"address": account.address, "nonce": challenge.nonce, "signature": signature}
        login = await self._logged_in(account, "/requesters/login", body)
        self._login, self._role = {}, REQUESTER
        return login

    async def _signed_challenge(
        self, account: LocalAccount, role: str, payout: str | None
    ) -> tuple[SignInChallenge, str]:
        """The grid's challenge for `role`, checked, and the signature of its message."""
        self.token, self._account = None, None  # no signing in again while signing in
        response = await self._request(
            "POST", f"/{role}s/challenge", json={"address": account.address}
        )
        try:
            reply = parse_json(response.content, "sign-in challenge")
        except GridClientError:
            reply = None  # not JSON: refused below like any other challenge not of the form
        challenge, message = checked_message(
            reply,
            connected_url=self.url,
            address=account.address,
            payout=payout,
            now=time.time(),
            role=role,
        )
        signed = account.sign_message(encode_defunct(text=message))
        return challenge, "0x" + signed.signature.hex().removeprefix("0x")

    async def _logged_in(
        self, account: LocalAccount, path: str, body: dict[str, Any]
    ) -> LoginReply:
        """Send the signed sign-in and keep the token the grid answers for `account`."""
        response = await self._request("POST", path, json=body)
        try:
            login = LoginReply.model_validate(parse_json(response.content, "sign-in reply"))
        except (GridClientError, ValueError):
            login = None
        if login is None or login.address != account.address:
            raise GridClientError(
                0,
                f"The grid at {self.url} did not answer the sign-in with a token for "
                f"{account.address}; check the grid's address.",
            )
        logs.redact(login.token)
        self.token, self.address = login.token, login.address
        self._account = account
        return login

    async def logout(self, *, release_leases: bool = False, keep: Iterable[str] = ()) -> None:
        """Revoke this worker's token at the grid; the client stops renewing it. With
        `release_leases`, the grid hands back this worker's leases in progress but those in
        `keep` (results to upload when back)."""
        token, self._account = self.token, None
        if token is None:
            return
        body = {"release_leases": release_leases, "keep": sorted(keep)}
        try:
            await self._request("POST", "/workers/logout", json=body)
        finally:
            self.token = None

    async def me(self) -> WorkerSelfView:
        """This worker's own record (its trust is not shown to it)."""
        return valid(WorkerSelfView, await self._json("GET", "/workers/me"))

    async def request_work(
        self,
        max_leases: int = 1,
        capabilities: Capabilities | None = None,
        *,
        results: Mapping[str, bytes] | None = None,
        wait: float = 0.0,
    ) -> WorkReply:
        """Leases to compute, or none and `retry_after` seconds to wait. `results` (lease id
        -> content, at most 64 KiB each) are reported in the same round trip; their outcomes
        are in `reply.results` (max_leases=0 only reports). With `wait`, a grid with no job
        for this worker holds the request up to that many seconds (at most 25), answering as
        soon as one is submitted; `retry_after` 0 then means "ask again now"."""
        body: dict[str, Any] = {"max_leases": max_leases}
        if capabilities is not None:
            body["capabilities"] = capabilities.model_dump()
        if results:
            body["results"] = inline_results(results)
        waiting = _long_poll(wait)
        return valid(WorkReply, await self._json("POST", "/work", json=body, **waiting))

    async def heartbeat(
        self,
        lease_id: str,
        *,
        progress: float | None = None,
        keys_per_s: float | None = None,
        message: str | None = None,
    ) -> HeartbeatReply:
        body = {"progress": progress, "keys_per_s": keys_per_s, "message": message}
        body = {k: v for k, v in body.items() if v is not None}
        data = await self._json("POST", f"/leases/{lease_id}/heartbeat", json=body, lease=True)
        return valid(HeartbeatReply, data)

    async def upload_result(self, lease_id: str, data: bytes) -> ResultAck:
        digest = hashlib.sha256(data).hexdigest()
        response = await self._request(
            "PUT",
            f"/leases/{lease_id}/result",
            content=data,
            headers={"X-Content-SHA256": digest, "Content-Type": "application/octet-stream"},
            lease=True,
        )
        return valid(ResultAck, parse_json(response.content))

    async def upload_result_file(self, lease_id: str, path: Path) -> ResultAck:
        digest = await asyncio.to_thread(file_sha256, path)
        response = await self._request(
            "PUT",
            f"/leases/{lease_id}/result",
            content=file_chunks(path),
            headers={
                "X-Content-SHA256": digest,
                "Content-Type": "application/octet-stream",
                "Content-Length": str(path.stat().st_size),
            },
            lease=True,
        )
        return valid(ResultAck, parse_json(response.content))

    async def report_error(self, lease_id: str, message: str) -> LeaseAck:
        body = {"message": message[:4000] or "error"}
        data = await self._json("POST", f"/leases/{lease_id}/error", json=body, lease=True)
        return valid(LeaseAck, data)

    async def release_lease(self, lease_id: str) -> LeaseAck:
        """Hand a lease back (this worker stops): its job goes to another worker at once,
        and nothing counts against this worker or the job. Releasing twice is fine; a lease
        that ended otherwise is `LeaseGone`."""
        data = await self._json("POST", f"/leases/{lease_id}/release", lease=True)
        return valid(LeaseAck, data)

    # ------------------------------------------------------------ data

    async def upload_data(self, data: bytes) -> DataRef:
        digest = hashlib.sha256(data).hexdigest()
        response = await self._request(
            "PUT",
            f"/data/{digest}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        return valid(DataRef, parse_json(response.content))

    async def upload_file(self, path: Path) -> DataRef:
        digest = await asyncio.to_thread(file_sha256, path)
        response = await self._request(
            "PUT",
            f"/data/{digest}",
            content=file_chunks(path),
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Length": str(path.stat().st_size),
            },
        )
        return valid(DataRef, parse_json(response.content))

    async def download_data(self, sha256: str) -> bytes:
        response = await self._request(
            "GET", f"/data/{check_sha256(sha256)}", limit=self.max_download_bytes
        )
        return checked(response.content, sha256)

    async def download_data_to(
        self, sha256: str, path: Path, *, max_bytes: int | None = None
    ) -> int:
        """Stream stored content into `path` (created only when whole and matching its sha256);
        returns its size. More than `max_bytes` stops the transfer (ContentRefused), whatever
        the grid declares; nothing is decompressed and no redirect is followed (see
        `grid.content`)."""
        url = f"/data/{check_sha256(sha256)}"
        return await stream_to_file(
            self._http, url, sha256, path, headers=self._headers(), max_bytes=max_bytes
        )

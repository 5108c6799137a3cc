"""The requester's side of a task: for VanityGen, keep a secret, pay for a split-key search in
one transaction, follow the task's timeline, and combine the partial key into the final one; for
a published app (`AppOrder`), pay for its task document (its params, checked against its
schema, its input files by digest and the key its result is encrypted to), follow the task the
same way and read its result's digest. Both kinds of order are kept in the journal."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import coincurve

from deskgrid import boundedjson, logs
from deskgrid.apps.registry import get_app
from deskgrid.apps.vanity.secp256k1 import N
from deskgrid.apps.vanity.splitkey import combine
from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import HubContract, RLCToken, TaskRequest, TaskStatus
from deskgrid.chain.reverts import ChainError, ContractRevert
from deskgrid.chain.transactions import FeeQuote, TxSender
from deskgrid.chain.trust import DEFAULT_TRUST, TRUST_NAMES, check_trust, task_price
from deskgrid.errors import DeskGridError
from deskgrid.market.params_form import build_form
from deskgrid.market.task_document import TaskDocument
from deskgrid.money import format_rlc
from deskgrid.node.journal import APP_ORDER, JournalEntry, RequestJournal
from deskgrid.oracle.timeline import TaskTimeline, TimelineEvent

T = TypeVar("T")

UNVERIFIED_TRUST = 2  # the lowest level for an app without a verifier
DEFAULT_RETRY_FOR = 120.0  # seconds a run keeps trying when the chain stops answering


class ChainUnreachable(DeskGridError):
    """The chain did not answer for the whole retry window."""

    def __init__(self, url: str, seconds: float, cause: str) -> None:
        super().__init__(f"The chain at {url} has not answered for {seconds:.0f} s ({cause}).")
        self.url, self.seconds, self.cause = url, seconds, cause


def is_connection_trouble(exc: BaseException) -> bool:
    """A failure worth retrying: the node did not answer (a refused or dropped connection, a
    timeout, a proxy's error page), not a contract that said no."""
    if isinstance(exc, ContractRevert):
        return False
    return isinstance(exc, (OSError, ChainError, TimeoutError))


@dataclass
class ChainRetry:
    """Retries a chain read with exponential backoff (first, doubled, capped) while the node
    does not answer, for at most `retry_for` seconds per outage; then ChainUnreachable.
    `on_retry(sentence)` is told each retry."""

    url: str
    retry_for: float = DEFAULT_RETRY_FOR
    on_retry: Callable[[str], None] = lambda _sentence: None
    first: float = 1.0
    cap: float = 30.0

    async def call(self, attempt: Callable[[], Awaitable[T]]) -> T:
        started: float | None = None
        delay = self.first
        tries = 0
        while True:
            try:
                return await attempt()
            except Exception as exc:
                if not is_connection_trouble(exc):
                    raise
                cause = type(exc).__name__
                now = time.monotonic()
                started = now if started is None else started
                left = self.retry_for - (now - started)
                if left <= 0:
                    raise ChainUnreachable(self.url, now - started, cause) from None
                wait = min(delay, left)
                tries += 1
                self.on_retry(
                    f"the chain at {self.url} does not answer ({cause}); retry {tries} in "
                    f"{wait:.0f} s, giving up in {left:.0f} s"
                )
                await asyncio.sleep(wait)
                delay = min(delay * 2, self.cap)


@dataclass
class VanityOutcome:
    task_id: str
    status: str  # COMPLETED or FAILED
    cost_nrlc: int
    seconds: float
    address: str | None = None
    wif: str | None = None
    reason: str | None = None
    result: str | None = None  # a published app's result, as the hub holds it
    result_digest: str | None = None  # a published app's: the sha256 of its stored result

    def to_json(self) -> dict[str, object]:
        return {
            "task_id": self.task_id,
            "status": self.status,
            "address": self.address,
            "wif": self.wif,
            "cost_nrlc": self.cost_nrlc,
            "seconds": round(self.seconds, 3),
            **({"reason": self.reason} if self.reason else {}),
            **({"result_digest": self.result_digest} if self.result_digest else {}),
        }


@dataclass(frozen=True)
class RunQuote:
    """What a task will cost: its price in RLC (the app's, the pool's fee per replica times the
    trust level) and the network fee."""

    app_price: int
    pool_fee: int
    fee: FeeQuote
    trust: int = DEFAULT_TRUST

    @property
    def price(self) -> int:
        return task_price(self.app_price, self.pool_fee, self.trust)

    def breakdown(self) -> str:
        """How the price is made: "4 RLC for the app + 2 x 1 RLC pool fee (trust level 2,
        standard)"."""
        return (
            f"{format_rlc(self.app_price)} for the app + {self.trust} x "
            f"{format_rlc(self.pool_fee)} pool fee (trust level {self.trust}, "
            f"{TRUST_NAMES[self.trust]})"
        )


@dataclass
class VanityOrder:
    """One vanity request at trust level `trust` (VanityGen results are verified: 1 is
    enough); `secret` never leaves this object."""

    patterns: list[str]
    case_insensitive: bool = False
    compressed: bool = True
    category: int = 1
    secret: int = field(default_factory=lambda: secrets.randbelow(N - 1) + 1, repr=False)
    trust: int = DEFAULT_TRUST

    def __post_init__(self) -> None:
        logs.redact(self.secret.to_bytes(32, "big"))
        check_trust(self.trust)

    @property
    def public_key(self) -> str:
        key = coincurve.PrivateKey(self.secret.to_bytes(32, "big"))
        return key.public_key.format(compressed=True).hex()

    def params(self) -> dict[str, object]:
        """Validated params (AppParamsError with a sentence when the pattern is impossible)."""
        raw = {
            "patterns": self.patterns,
            "case_insensitive": self.case_insensitive,
            "compressed": self.compressed,
            "public_key": self.public_key,
        }
        get_app("vanity").validate(dict(raw))
        return raw

    def request_text(self) -> str:
        """The on-chain request's params text."""
        return json.dumps(self.params(), separators=(",", ":"))


@dataclass
class AppOrder:
    """One request for a published app: `values` checked against its params schema (a
    ParamsInvalid sentence naming each wrong field), `inputs` its input files (name -> sha256
    in the grid's data store), `result_key` the requester's compressed public key (hex) its
    result is encrypted to (None: stored in clear). A published app has no verifier: its
    results are trusted through replication, so its level is 2 or more."""

    app: str
    params_schema: dict[str, object]
    values: dict[str, object]
    trust: int = UNVERIFIED_TRUST
    category: int = 1
    inputs: dict[str, str] = field(default_factory=dict)
    result_key: str | None = None

    def __post_init__(self) -> None:
        if check_trust(self.trust) < UNVERIFIED_TRUST:
            raise DeskGridError(
                f"{self.app} has no verifier: request it at trust level {UNVERIFIED_TRUST} or "
                "more, where volunteers' results are compared."
            )

    def params(self) -> dict[str, object]:
        return build_form(self.params_schema).validate(dict(self.values))

    def request_text(self) -> str:
        """The on-chain request's params text: the task document."""
        return TaskDocument(self.params(), dict(self.inputs), self.result_key).to_chain()


Order = VanityOrder | AppOrder


class VanityRun:
    """Pays for an order (VanityGen's, or a published app's) and follows it to its end; with a
    journal, the order is written there before paying (a VanityGen order with its secret)."""

    def __init__(
        self,
        chain: Chain,
        hub: HubContract,
        rlc: RLCToken,
        sender: TxSender,
        *,
        app_id: int,
        pool_id: int,
        callback: str,
        grid: object | None = None,
        journal: RequestJournal | None = None,
    ) -> None:
        self.chain, self.hub, self.rlc, self.sender = chain, hub, rlc, sender
        self.app_id, self.pool_id, self.callback, self.grid = app_id, pool_id, callback, grid
        self.journal = journal
        self.entry: JournalEntry | None = None
        self.started = time.monotonic()
        self.task_id: bytes | None = None
        self.price = 0

    def _request(self, order: Order) -> tuple[TaskRequest, int, int]:
        """The on-chain request at today's prices and the order's trust level, the app's price
        and the pool's fee (per replica)."""
        app_price, pool_fee = self.hub.app(self.app_id).price, self.hub.pool(self.pool_id).fee
        request = TaskRequest(
            self.app_id,
            self.pool_id,
            order.request_text(),
            task_price(app_price, pool_fee, order.trust),
            order.category,
            self.callback,
            trust=order.trust,
        )
        return request, app_price, pool_fee

    def quote(self, order: Order) -> RunQuote:
        """What paying for `order` costs, for a review before paying (blocking): the price and
        the network fee; a sentence when the wallet cannot pay."""
        request, app_price, pool_fee = self._request(order)
        have = self.rlc.balance_of(self.sender.address)
        if have < request.max_price:
            raise DeskGridError(
                f"The task costs {format_rlc(request.max_price)} and this wallet holds "
                f"{format_rlc(have)}; get RLC first."
            )
        fee = self.hub.quote_pay_and_request(self.sender, self.rlc, request)
        return RunQuote(app_price, pool_fee, fee, order.trust)

    def pay(self, order: Order) -> bytes:
        """One transaction: RLC.approveAndCall(hub, price, request). Blocking.

        With a journal, the order and its secret (encrypted) are written first, the
        transaction's hash and nonce after signing and before sending, `sent` once the node
        accepted it, and the task id from the receipt: a crash at any point loses nothing."""
        request, _, _ = self._request(order)
        self.price = request.max_price
        self.from_block = self.chain.block_number()
        if self.journal is None:
            self.task_id = self.hub.pay_and_request(self.sender, self.rlc, request)
            return self.task_id
        journal = self.journal
        expected = self.hub.next_task_id(self.sender.address)
        if isinstance(order, VanityOrder):
            entry = journal.prepare(
                app="vanity",
                params=order.params(),
                compressed=order.compressed,
                category=order.category,
                price=request.max_price,
                expected_task_id=expected,
                secret=order.secret,
            )
        else:
            entry = journal.prepare(
                app=order.app,
                params=json.loads(request.params),
                compressed=False,
                category=order.category,
                price=request.max_price,
                expected_task_id=expected,
                secret=None,
                kind=APP_ORDER,
                app_id=self.app_id,
                encrypted=order.result_key is not None,
            )
        self.entry = entry
        try:
            with self.sender.observed(
                on_signed=lambda tx_hash, nonce: journal.signed(entry, tx_hash, nonce),
                on_accepted=lambda _tx_hash: journal.update(entry, state="sent"),
            ):
                self.task_id = self.hub.pay_and_request(self.sender, self.rlc, request)
        except Exception as exc:
            if entry.tx_hash is None:  # never signed: nothing can reach the chain
                journal.update(entry, state="abandoned", reason=str(exc))
            journal.release(entry.order_id)  # a resume may decide it from the chain now
            raise
        journal.update(
            entry,
            task_id="0x" + self.task_id.hex(),
            block=self.from_block,
            state="active",
        )
        return self.task_id

    async def follow(
        self, interval: float = 0.3, retry: ChainRetry | None = None
    ) -> AsyncIterator[TimelineEvent]:
        """The task's facts to its final one; with `retry`, a chain that stops answering is
        retried (ChainUnreachable when it stays away)."""
        assert self.task_id is not None
        timeline = TaskTimeline(
            self.chain, self.hub, self.task_id, self.grid, from_block=self.from_block
        )
        if retry is None:
            async for event in timeline.follow(interval):
                yield event
            return
        while not timeline.finished:
            for event in await retry.call(timeline.poll):
                yield event
            if not timeline.finished:
                await asyncio.sleep(interval)

    def outcome(self, order: Order) -> VanityOutcome:
        """Read the final task and combine the key locally (blocking)."""
        assert self.task_id is not None
        task = self.hub.task(self.task_id)
        outcome = VanityOutcome(
            "0x" + self.task_id.hex(),
            task.status.name,
            self.price,
            time.monotonic() - self.started,
        )
        if task.status is not TaskStatus.COMPLETED:
            failed = self.hub.logs("TaskFailed", self.from_block, taskId=self.task_id)
            outcome.reason = failed[0]["args"]["reason"] if failed else "claimed after the deadline"
            if self.journal is not None and self.entry is not None:
                self.journal.update(self.entry, state="refunded", reason=outcome.reason)
                self.journal.release(self.entry.order_id)
            return outcome
        if not isinstance(order, VanityOrder):  # a published app's result is its own
            outcome.result = task.results.decode("utf-8", errors="replace")
            outcome.result_digest = task.result_digest.hex()
            if self.journal is not None and self.entry is not None:
                self.journal.app_completed(self.entry, outcome.result_digest)
                self.journal.release(self.entry.order_id)
            return outcome
        try:
            doc = boundedjson.loads(task.results, max_depth=8)
            partial = int(doc["partial_private_key"], 16)
            address = doc["address"]
        except (ValueError, KeyError, TypeError):
            raise DeskGridError("The task's result is not a VanityGen result.") from None
        final, wif = combine(order.secret, partial, address, order.compressed)
        logs.redact(final.to_bytes(32, "big"))
        logs.redact(wif)
        outcome.address, outcome.wif = address, wif
        if self.journal is not None and self.entry is not None:
            self.journal.store_result(self.entry, address, wif)
            self.journal.release(self.entry.order_id)
        return outcome

"""The job composer: the app catalog from the chain, the VanityGen form, the price, Run (one
transaction), the live timeline, the result combined locally, and My jobs: the tasks of the
open wallet from the requester journal, unfinished ones resumed (followed, combined) as soon as
the wallet is open.

It runs on a `JobsMarket` (chain, marketplace addresses, grid when readable), which any
backend gives: the local node in its child process as well as a network."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from deskgrid.apps.registry import builtin_apps
from deskgrid.chain.contracts import AppInfo, TaskStatus
from deskgrid.desktop.jobs_market import CHAIN_ONLY, JobsMarket
from deskgrid.desktop.session import WalletSession
from deskgrid.errors import DeskGridError
from deskgrid.money import format_rlc
from deskgrid.node.journal import JournalEntry, RequestJournal
from deskgrid.node.requester import RunQuote, VanityOrder, VanityRun
from deskgrid.node.resume import resume, settle
from deskgrid.oracle.timeline import TimelineEvent
from deskgrid.ui.bridge import QtEventBridge
from deskgrid.ui.my_jobs_table import JobRecord, MyJobsTable
from deskgrid.ui.result_view import ResultView
from deskgrid.ui.run_review_dialog import RunReviewDialog
from deskgrid.ui.status_line import StatusLine
from deskgrid.ui.task_timeline_view import TaskTimelineView
from deskgrid.ui.tasks import spawn
from deskgrid.ui.vanity_form import VanityForm

RESUME_INTERVAL = 2.0  # seconds between two looks at a resumed task
_STATUS_OF_STATE = {
    "prepared": "ACTIVE",
    "sent": "ACTIVE",
    "active": "ACTIVE",
    "failed": "ACTIVE",
    "completed": "COMPLETED",
    "refunded": "FAILED",
}
REFUNDED = "Refunded: the task passed its deadline and its price is back in your escrow."
_STATUS_AFTER = {"finalized": "COMPLETED", "failed": "FAILED", "claimed": "FAILED"}


class JobsPane(QWidget):
    def __init__(
        self,
        session: WalletSession,
        market: JobsMarket,
        bridge: QtEventBridge | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.market = market
        self._tasks: list[asyncio.Task] = []
        self.catalog: list[AppInfo] = []
        self.pool_fee: int | None = None
        self.running = False
        self.review: RunReviewDialog | None = None  # the open review, for tests
        self.last_result: tuple[str, str] | None = None
        self._checking = False
        self._journal_folder: tuple[str, object] | None = None  # (address, folder)
        self._following: set[str] = set()  # order ids resumed and followed here

        self.apps = QComboBox()
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.form = VanityForm()
        self.form.set_workers(market.workers or 1)
        self.chain_only = QLabel(CHAIN_ONLY)
        self.chain_only.setWordWrap(True)
        self.chain_only.setVisible(not market.follows_grid)
        self.no_form = QLabel("This app has no form in the desktop app yet.")
        self.price = QLabel("Reading the prices from the chain…")
        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.status = StatusLine()
        self.timeline = TaskTimelineView()
        self.timeline.setVisible(False)
        self.result = ResultView()
        self.my_jobs = MyJobsTable()

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(QLabel("<h2>Jobs</h2>"))
        top = QFormLayout()
        top.addRow("App", self.apps)
        top.addRow("", self.description)
        top.addRow("Price", self.price)
        layout.addLayout(top)
        layout.addWidget(self.form)
        layout.addWidget(self.no_form)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.run_button)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.chain_only)
        layout.addWidget(self.timeline)
        layout.addWidget(self.result)
        layout.addWidget(QLabel("<b>My jobs</b>"))
        layout.addWidget(self.my_jobs)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self.apps.currentIndexChanged.connect(self._app_changed)
        self.form.changed.connect(lambda _valid: self._update_run())
        self.run_button.clicked.connect(self.run)
        self.result.message.connect(lambda kind, text: self.status.show_message(text, kind))
        self.my_jobs.claim_requested.connect(self.claim)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self.my_jobs.refresh)
        self.clock.start()
        if bridge is not None:
            bridge.new_block.connect(self._new_block)
            bridge.wallet_changed.connect(lambda _address: self.load_journal())
        self._app_changed()
        self.load_catalog()
        self.load_journal()

    def _spawn(
        self, coro: Coroutine[Any, Any, Any], on_error: Callable[[str], None] | None = None
    ) -> None:
        self._tasks = [t for t in self._tasks if not t.done()]
        self._tasks.append(spawn(coro, on_error))

    def dispose(self) -> None:
        """The pane is being replaced (another backend): stop its work, close its grid client."""
        self.clock.stop()
        for task in self._tasks:
            task.cancel()
        spawn(self.market.aclose())

    def _new_block(self, _number: int) -> None:
        self.check_jobs()

    # -- catalog and price --------------------------------------------------------------

    def load_catalog(self) -> None:
        self._spawn(self._load_catalog(), self._catalog_failed)

    async def _load_catalog(self) -> None:
        market = self.market

        def read() -> tuple[list[AppInfo], object]:
            return market.hub.apps(), market.hub.pool(market.pool_id)

        apps, pool = await asyncio.to_thread(read)
        self.catalog = [a for a in apps if not a.retired]
        self.pool_fee = pool.fee
        self.apps.blockSignals(True)
        self.apps.clear()
        for app in self.catalog:
            self.apps.addItem(f"{app.name} — {format_rlc(app.price)}", app.app_id)
        vanity = next((i for i, a in enumerate(self.catalog) if a.name == "vanity"), 0)
        self.apps.setCurrentIndex(vanity)
        self.apps.blockSignals(False)
        self._app_changed()

    def _catalog_failed(self, sentence: str) -> None:
        self.price.setText("—")
        self.status.error(f"Could not read the app catalog: {sentence}")

    def current_app(self) -> AppInfo | None:
        index = self.apps.currentIndex()
        return self.catalog[index] if 0 <= index < len(self.catalog) else None

    def _app_changed(self) -> None:
        app = self.current_app()
        is_vanity = app is not None and app.name == "vanity"
        self.form.setVisible(app is None or is_vanity)
        self.no_form.setVisible(app is not None and not is_vanity)
        spec = builtin_apps().get(app.name) if app is not None else None
        self.description.setText(spec.description if spec else "")
        if app is not None and self.pool_fee is not None:
            total = app.price + self.pool_fee
            self.price.setText(
                f"{format_rlc(app.price)} for the app + {format_rlc(self.pool_fee)} pool fee "
                f"= <b>{format_rlc(total)}</b>, paid in one transaction"
            )
        self._update_run()

    def _update_run(self) -> None:
        app = self.current_app()
        ready = app is not None and app.name == "vanity" and self.form.valid
        self.run_button.setEnabled(ready and not self.running)

    # -- running ------------------------------------------------------------------------

    def run(self) -> None:
        """Review first: the price, the network fee and where the key is kept; Pay then."""
        if not self.run_button.isEnabled():
            return
        self.running = True
        self._update_run()
        self.status.info("Estimating the network fee…")
        self._spawn(self._review(), self._run_failed)

    def _run_failed(self, sentence: str) -> None:
        self.running = False
        self._update_run()
        self.status.error(sentence)

    async def _review(self) -> None:
        market, app = self.market, self.current_app()
        service = self.session.service
        if service is None:
            raise DeskGridError("Unlock your wallet to pay for a job.")
        assert app is not None
        order = VanityOrder(self.form.patterns(), self.form.case_insensitive())
        order.params()  # the sentence for an impossible pattern, before anything else

        def prepare() -> tuple[VanityRun, RunQuote]:  # contract calls and estimates: blocking
            journal = self._open_journal(service.sender.account)
            run = VanityRun(
                market.chain,
                market.hub,
                market.rlc,
                service.sender,
                app_id=app.app_id,
                pool_id=market.pool_id,
                callback=market.callback,
                grid=market.grid(),
                journal=journal,
            )
            return run, run.quote(order)

        run, quote = await asyncio.to_thread(prepare)
        what = f"VanityGen: an address starting with {' or '.join(order.patterns)}"
        self.review = RunReviewDialog(what, quote, parent=self)
        self.review.confirmed.connect(lambda: self._pay(run, order))
        self.review.rejected.connect(self._not_paid)
        self.status.clear_message()
        self.review.open()

    def _not_paid(self) -> None:
        self.running = False
        self._update_run()
        self.status.info("Nothing was paid.")

    def _pay(self, run: VanityRun, order: VanityOrder) -> None:
        self.status.info("Paying for the task…")
        self.result.clear()
        self.last_result = None
        self.timeline.reset()
        self.timeline.setVisible(True)
        self._spawn(self._run(run, order), self._run_failed)

    async def _run(self, run: VanityRun, order: VanityOrder) -> None:
        app = self.current_app()
        assert app is not None
        task_id = await asyncio.to_thread(run.pay, order)
        if run.entry is not None:
            self._following.add(run.entry.order_id)  # followed here, not by a resume
        job = self.my_jobs.find(task_id)
        if job is None:
            job = JobRecord(task_id, app.name, run.price, started=time.monotonic())
            self.my_jobs.add(job)
        self.timeline.reset(job.hex_id)
        self.status.info(f"Paid {format_rlc(run.price)}; the task is on its way.")
        async for event in run.follow():
            self._on_event(job, event)
        outcome = await asyncio.to_thread(run.outcome, order)
        job.status, job.ended = outcome.status, time.monotonic()
        self.my_jobs.refresh()
        self.running = False
        self._update_run()
        if outcome.address and outcome.wif:
            self.last_result = (outcome.address, outcome.wif)
            self.result.show_result(outcome.address, outcome.wif)
            self.status.ok(
                f"Found {outcome.address} in {outcome.seconds:.1f} s for "
                f"{format_rlc(outcome.cost_nrlc)}; the key was combined on this computer."
            )
        elif "claimed" in self.timeline.kinds:
            self.status.ok(REFUNDED)
        else:
            self.status.error(f"The task failed and was refunded: {outcome.reason}.")

    def _on_event(self, job: JobRecord, event: TimelineEvent) -> None:
        self.timeline.add_event(event)
        if event.kind in _STATUS_AFTER:
            job.status = _STATUS_AFTER[event.kind]
            job.claimable = False
            job.ended = time.monotonic()
        elif event.kind == "claimable":
            job.claimable = True
        self.my_jobs.refresh()

    # -- the journal: my jobs across restarts --------------------------------------------

    def _open_journal(self, account: Any) -> RequestJournal:
        """A journal handle of its own for `account` (blocking: the network's identity is read
        once per wallet)."""
        if self._journal_folder is None or self._journal_folder[0] != account.address:
            chain = self.market.chain
            opened = RequestJournal.open(
                chain.chain_id, chain.genesis_hash, self.market.hub.address, account
            )
            self._journal_folder = (account.address, opened.folder)
            return opened
        return RequestJournal(self._journal_folder[1], account.address, account.key)  # type: ignore[arg-type]

    def load_journal(self) -> None:
        """List the open wallet's journal in My jobs and resume its unfinished tasks."""
        service = self.session.service
        if service is not None:
            self._spawn(self._resume_journal(service.sender.account), self._journal_failed)

    def _journal_failed(self, sentence: str) -> None:
        self.status.error(f"Your earlier tasks could not be read: {sentence}")

    async def _resume_journal(self, account: Any) -> None:
        market = self.market
        journal = await asyncio.to_thread(self._open_journal, account)
        entries = await asyncio.to_thread(resume, journal, market.chain, market.hub)
        for entry in entries:
            self._show_entry(entry)
        for entry in entries:
            if entry.state in ("prepared", "sent", "active") and entry.task_id is not None:
                if entry.order_id not in self._following:
                    self._following.add(entry.order_id)
                    self._spawn(self._follow_entry(journal, entry), self._journal_failed)

    def _show_entry(self, entry: JournalEntry) -> JobRecord | None:
        if entry.task_id is None:
            return None  # never reached the chain: nothing to show
        task_id = bytes.fromhex(entry.task_id.removeprefix("0x"))
        job = self.my_jobs.find(task_id)
        if job is None:
            age = time.time() - datetime.fromisoformat(entry.created).timestamp()
            job = JobRecord(task_id, entry.app, entry.price, started=time.monotonic() - age)
            self.my_jobs.jobs.append(job)
        job.status = _STATUS_OF_STATE.get(entry.state, job.status)
        job.claimable = entry.state == "failed"
        if entry.finished and job.ended is None:
            job.ended = time.monotonic()
        self.my_jobs.refresh()
        return job

    async def _follow_entry(self, journal: RequestJournal, entry: JournalEntry) -> None:
        """Follow a task paid before the app (re)started, and combine its key when it ends."""
        market = self.market
        while entry.state in ("prepared", "sent", "active"):
            await asyncio.sleep(RESUME_INTERVAL)
            entry = await asyncio.to_thread(settle, journal, market.chain, market.hub, entry)
            self._show_entry(entry)
        self._following.discard(entry.order_id)
        result = await asyncio.to_thread(journal.result, entry)
        if result is not None and not self.running:
            self.last_result = result
            self.result.show_result(*result)
            self.status.ok(
                f"Your earlier task {entry.task_id[:12]}… found {result[0]}; the key was "
                "combined on this computer and is kept, encrypted, in its journal."
            )

    def unfinished_tasks(self) -> int:
        """Tasks paid and not ended: they go on without the app and resume when it starts."""
        return sum(1 for j in self.my_jobs.jobs if j.status == "ACTIVE")

    # -- my jobs ------------------------------------------------------------------------

    def check_jobs(self) -> None:
        """Re-read the active tasks (on each new block): are any past their deadline?"""
        active = [j for j in self.my_jobs.jobs if j.status == "ACTIVE"]
        if active and not self._checking:
            self._checking = True
            self._spawn(self._check_jobs(active), self._check_failed)

    def _check_failed(self, _sentence: str) -> None:
        self._checking = False

    async def _check_jobs(self, jobs: list[JobRecord]) -> None:
        market = self.market

        def read() -> list[tuple[JobRecord, TaskStatus, bool]]:
            now = market.chain.timestamp()
            found = []
            for job in jobs:
                task = market.hub.task(job.task_id)
                found.append((job, task.status, now >= task.final_deadline))
            return found

        try:
            for job, status, late in await asyncio.to_thread(read):
                job.status = status.name
                job.claimable = status is TaskStatus.ACTIVE and late
                if status is not TaskStatus.ACTIVE and job.ended is None:
                    job.ended = time.monotonic()
        finally:
            self._checking = False
        self.my_jobs.refresh()

    def claim(self, task_id: bytes) -> None:
        self.status.info("Claiming the refund…")
        self._spawn(self._claim(task_id), self._claim_failed)

    def _claim_failed(self, sentence: str) -> None:
        self.status.error(sentence)
        self.my_jobs.refresh()

    async def _claim(self, task_id: bytes) -> None:
        service = self.session.service
        if service is None:
            raise DeskGridError("Unlock your wallet to claim the refund.")
        await asyncio.to_thread(self.market.hub.claim, service.sender, task_id)
        job = self.my_jobs.find(task_id)
        if job is not None:
            job.status, job.claimable, job.ended = "FAILED", False, time.monotonic()
        self.my_jobs.refresh()
        self.status.ok(REFUNDED)

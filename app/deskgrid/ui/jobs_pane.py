"""The job composer and My jobs: the app catalog from the chain (published apps whose manifest
does not match the hub, and retired ones, are never offered), the VanityGen form or, for a
published app, the form its params schema makes with a file picker per input its manifest
declares and the estimate it gives, the trust level (1 only for an app with a verifier) and the
price it makes, Run (a review; for a published app the input files go to the grid then, signed
in with the wallet, and the request carries their digests and, unless "Encrypt the result to
my wallet" is off, the wallet's public key; then one transaction), and the open wallet's tasks,
each followed on its own. A published app's finished task offers "Download result…": its
result is fetched from the grid, checked against the digest on chain and decrypted here.

Several tasks run at once: Run stays available while tasks run (only a second press while a
review is open is refused), and every paid task gets its row in My jobs with its own timeline,
progress and state, updated live from its events. The timeline and the result below show the
task selected in My jobs; a task that finishes while another one is shown leaves the view alone
and posts a notice instead. A task that fails or passes its final deadline posts a notice with
the reason and, when its refund is this wallet's to take, "Claim refund" (on the notice and on
its row). The journal's tasks come back when a wallet opens, and unfinished ones are followed to
their key.

It runs on a `JobsMarket` (chain, marketplace addresses, grid when readable), which any
backend gives: the local node in its child process as well as a network."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from deskgrid.apps.registry import builtin_apps
from deskgrid.chain.contracts import AppInfo, VanityRequesterContract
from deskgrid.desktop.events import TaskEnded
from deskgrid.desktop.jobs_market import CHAIN_ONLY, ZERO_ADDRESS, JobsMarket
from deskgrid.desktop.session import WalletSession
from deskgrid.desktop.task_ends import APP_TITLES
from deskgrid.desktop.task_refunds import Refund, refund_of, take_refund
from deskgrid.errors import DeskGridError
from deskgrid.market.input_files import NEEDS_GRID, ChosenFile, uploading_text
from deskgrid.market.manifest import Manifest
from deskgrid.market.params_form import estimate_text
from deskgrid.market.published import read_apps
from deskgrid.money import format_rlc
from deskgrid.node.journal import APP_ORDER, JournalEntry, RequestJournal
from deskgrid.node.requester import AppOrder, Order, RunQuote, VanityOrder, VanityRun
from deskgrid.node.requester_data import result_file_name, result_key_of, save_result
from deskgrid.node.resume import resume, settle
from deskgrid.oracle.timeline import TaskTimeline, TimelineEvent
from deskgrid.ui.bridge import QtEventBridge
from deskgrid.ui.folders import open_folder
from deskgrid.ui.job_notices import CLAIM_REFUND, SHOW, JobNotice, NoticeList
from deskgrid.ui.my_jobs_table import JobRecord, MyJobsTable
from deskgrid.ui.result_view import ResultView
from deskgrid.ui.run_review_dialog import RunReviewDialog, params_text
from deskgrid.ui.schema_form import SchemaForm
from deskgrid.ui.status_line import StatusLine
from deskgrid.ui.task_timeline_view import TaskTimelineView
from deskgrid.ui.tasks import error_sentence, spawn
from deskgrid.ui.trust_selector import TrustSelector, price_text
from deskgrid.ui.vanity_form import VanityForm

FOLLOW_INTERVAL = 0.3  # seconds between two looks at a task's chain and grid facts
RESUME_INTERVAL = 2.0  # seconds between two tries to settle an ended task another process holds
_STATE_OF_ENTRY = {
    "prepared": "paying",
    "sent": "paying",
    "active": "requested",
    "failed": "failed",
    "completed": "finalized",
    "refunded": "refunded",
}
_FOLLOWED = ("active", "failed")  # journal states whose task is followed here
_STATE_AFTER = {
    "requested": "requested",
    "confirmed": "requested",
    "queued": "requested",
    "running": "computing",
    "completed": "computing",
}
DEADLINE_PASSED = "its final deadline passed without a result"
OPEN_FOLDER = "Open folder"
IN_THE_GRID = (  # a published app's result when the hub holds only its digest
    "its result waits in the grid's data store; fetch it with “Download result…” in My jobs."
)
UNKNOWN_DIGEST = "0" * 64  # an input's digest in the quote: the upload comes after the review


def app_title(app: str) -> str:
    return APP_TITLES.get(app, app)


def _compensation(refund: Refund, *, done: bool) -> str:
    """The end of a refund's sentence that names the pool's stake a claim gives this wallet."""
    if not refund.compensation:
        return ""
    amount = format_rlc(refund.compensation)
    if refund.through_contract:  # the price goes to the wallet, the stake to the escrow
        went = "went" if done else "goes"
        return f"; {amount} of the pool's stake for the delay {went} to your escrow on the hub"
    return f", with {amount} of the pool's stake for the delay"


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
        self.manifests: dict[int, Manifest] = {}  # the published apps' manifests, by app id
        self.pool_fee: int | None = None
        self.reviewing = False  # a review is open: Run waits for it
        self.review: RunReviewDialog | None = None  # the open review, for tests
        self.shown: JobRecord | None = None  # the task the timeline and the result show
        self._journal_folder: tuple[str, object] | None = None  # (address, folder)
        self._following: set[str] = set()  # order ids followed here
        self._claimed_here: set[bytes] = set()  # tasks this pane claimed (their end: refunded)
        self.saved: dict[str, Path] = {}  # where each task's result was saved, by task id

        self.apps = QComboBox()
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.form = VanityForm()
        self.form.set_workers(market.workers or 1)
        self.chain_only = QLabel(CHAIN_ONLY)
        self.chain_only.setWordWrap(True)
        self.chain_only.setVisible(not market.follows_grid)
        self.schema_form = SchemaForm()
        self.encrypt = QCheckBox("Encrypt the result to my wallet")
        self.encrypt.setChecked(True)
        self.encrypt.setToolTip(
            "Workers encrypt the result to this wallet's key: the grid, the oracle and the "
            "chain hold only ciphertext, and only this wallet can read it."
        )
        self.run_note = QLabel()  # why Run waits, when the form alone does not say it
        self.run_note.setWordWrap(True)
        self.run_note.setVisible(False)
        self.no_form = QLabel("This app has no form in the desktop app yet.")
        self.trust = TrustSelector()
        self.price = QLabel("Reading the prices from the chain…")
        self.estimate = QLabel()
        self.estimate.setWordWrap(True)
        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.status = StatusLine()
        self.notices = NoticeList()
        self.my_jobs = MyJobsTable()
        self.selected_title = QLabel("<b>Selected task</b>")
        self.timeline = TaskTimelineView()
        self.timeline.setVisible(False)
        self.result = ResultView()
        self.output = QLabel()  # a published app's result
        self.output.setWordWrap(True)
        self.output.setVisible(False)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(QLabel("<h2>Jobs</h2>"))
        top = QFormLayout()
        top.addRow("App", self.apps)
        top.addRow("", self.description)
        top.addRow("Trust level", self.trust)
        top.addRow("Price", self.price)
        top.addRow("Estimate", self.estimate)
        self.top = top
        layout.addLayout(top)
        layout.addWidget(self.form)
        layout.addWidget(self.schema_form)
        layout.addWidget(self.encrypt)
        layout.addWidget(self.no_form)
        row = QHBoxLayout()
        row.addWidget(self.run_note, 1)
        row.addWidget(self.run_button)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.chain_only)
        layout.addWidget(self.notices)
        layout.addWidget(QLabel("<b>My jobs</b>"))
        layout.addWidget(self.my_jobs)
        layout.addWidget(self.timeline)
        layout.addWidget(self.result)
        layout.addWidget(self.output)
        layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)

        self.apps.currentIndexChanged.connect(self._app_changed)
        self.trust.level_changed.connect(lambda _level: self._show_price())
        self.form.changed.connect(lambda _valid: self._update_run())
        self.schema_form.changed.connect(lambda _runnable: self._update_run())
        self.run_button.clicked.connect(self.run)
        self.result.message.connect(lambda kind, text: self.status.show_message(text, kind))
        self.my_jobs.claim_requested.connect(self.claim)
        self.my_jobs.download_requested.connect(self.download)
        self.my_jobs.job_selected.connect(self._job_selected)
        self.notices.acted.connect(self._notice_acted)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self.my_jobs.refresh)
        self.clock.start()
        if bridge is not None:
            bridge.wallet_changed.connect(lambda _address: self.load_journal())
            bridge.task_ended.connect(self.task_ended)
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

    # -- catalog and price --------------------------------------------------------------

    def load_catalog(self) -> None:
        self._spawn(self._load_catalog(), self._catalog_failed)

    async def _load_catalog(self) -> None:
        market = self.market

        def read() -> tuple[list, object]:
            return read_apps(market.hub), market.hub.pool(market.pool_id)

        listed, pool = await asyncio.to_thread(read)
        offered = [a for a in listed if a.consistent]  # read_apps leaves retired ones out
        self.catalog = [a.info for a in offered]
        self.manifests = {a.info.app_id: a.manifest for a in offered if a.manifest is not None}
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

    def current_manifest(self) -> Manifest | None:
        """The manifest of the chosen app when it is a published one."""
        app = self.current_app()
        return self.manifests.get(app.app_id) if app is not None else None

    def _app_changed(self) -> None:
        app = self.current_app()
        manifest = self.current_manifest()
        is_vanity = app is not None and app.name == "vanity"
        self.form.setVisible(app is None or is_vanity)
        self.schema_form.setVisible(manifest is not None)
        self.encrypt.setVisible(manifest is not None)
        self.no_form.setVisible(app is not None and not is_vanity and manifest is None)
        spec = builtin_apps().get(app.name) if app is not None else None
        if manifest is not None:
            self.schema_form.set_schema(manifest.params_schema, manifest.inputs)
            self.description.setText(manifest.description)
            self.estimate.setText(estimate_text(manifest.resources.max_seconds))
        else:
            self.description.setText(spec.description if spec else "")
        self.top.setRowVisible(self.estimate, manifest is not None)
        # an app this app does not know (a published one) has no verifier it could count on
        self.trust.set_verifiable(spec.verifiable if spec is not None else app is None)
        self._show_price()
        self._update_run()

    def _show_price(self) -> None:
        app = self.current_app()
        if app is not None and self.pool_fee is not None:
            self.price.setText(price_text(app.price, self.pool_fee, self.trust.level()))

    def _update_run(self) -> None:
        app = self.current_app()
        manifest = self.current_manifest()
        note = ""
        if manifest is not None:
            ready = self.schema_form.runnable
            if manifest.inputs and not self.market.grid_url:
                ready, note = False, NEEDS_GRID
        else:
            ready = app is not None and app.name == "vanity" and self.form.valid
        self.run_button.setEnabled(ready and not self.reviewing)
        self.run_button.setToolTip(note)
        self.run_note.setText(note)
        self.run_note.setVisible(bool(note))

    # -- running ------------------------------------------------------------------------

    def run(self) -> None:
        """Review first: the price, the network fee and where the key is kept; Pay then. Tasks
        already running go on; only one review is open at a time."""
        if not self.run_button.isEnabled():
            return
        self.reviewing = True
        self._update_run()
        self.status.info("Estimating the network fee…")
        self._spawn(self._review(), self._review_failed)

    def _review_failed(self, sentence: str) -> None:
        self.reviewing = False
        self._update_run()
        self.status.error(sentence)

    async def _review(self) -> None:
        market, app = self.market, self.current_app()
        service = self.session.service
        if service is None:
            raise DeskGridError("Unlock your wallet to pay for a job.")
        assert app is not None
        manifest = self.manifests.get(app.app_id)
        files: dict[str, Path] = {}
        order: Order
        if manifest is not None:
            files = self.schema_form.input_files()
            account = service.sender.account
            order = AppOrder(
                app.name,
                manifest.params_schema,
                self.schema_form.params(),
                self.trust.level(),
                inputs=dict.fromkeys(files, UNKNOWN_DIGEST),
                result_key=result_key_of(account) if self.encrypt.isChecked() else None,
            )
        else:
            order = VanityOrder(
                self.form.patterns(), self.form.case_insensitive(), trust=self.trust.level()
            )
        params = order.params()  # the sentence for impossible params, before anything else

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
        if isinstance(order, VanityOrder):
            what = f"an address starting with {' or '.join(order.patterns)}"
            self.review = RunReviewDialog(f"VanityGen: {what}", quote, parent=self)
        else:
            what = params_text(params)
            self.review = RunReviewDialog(app.name, quote, params=params, parent=self)
        self.review.confirmed.connect(lambda: self._pay(run, order, app, quote, what, files))
        self.review.rejected.connect(self._not_paid)
        self.status.clear_message()
        self.review.open()

    def _not_paid(self) -> None:
        self.reviewing = False
        self._update_run()
        self.status.info("Nothing was paid.")

    def _pay(
        self,
        run: VanityRun,
        order: Order,
        app: AppInfo,
        quote: RunQuote,
        what: str,
        files: dict[str, Path],
    ) -> None:
        self.reviewing = False
        self._update_run()
        job = JobRecord(
            None, app.name, quote.price, started=time.monotonic(), what=what, app_id=app.app_id
        )
        self.my_jobs.add(job)
        self.show_job(job)  # the person just asked for it
        self.status.info("Paying for the task…")
        self._spawn(
            self._run(run, order, job, files),
            lambda sentence: self._run_failed(run, job, sentence),
        )

    def _run_failed(self, run: VanityRun, job: JobRecord, sentence: str) -> None:
        if job.task_id is None:  # the payment did not go through: no task to show
            self.my_jobs.remove(job)
            if self.shown is job:
                self._show_nothing()
        elif run.journal is not None and run.entry is not None and job.running:
            # paid, then following it failed (e.g. the node did not answer): the journal has
            # it, so it is taken up again from there, as after a restart
            run.journal.release(run.entry.order_id)
            self._following.discard(run.entry.order_id)
            QTimer.singleShot(int(RESUME_INTERVAL * 1000), self.load_journal)
            sentence += " The task goes on; DeskGrid follows it again from its journal."
        self.status.error(sentence)

    async def _upload(self, files: dict[str, Path]) -> dict[str, str]:
        """Send the input files to the grid, signed in with the wallet, one after the other
        (streamed from disk); their sha256 digests by input name."""
        from deskgrid.node import requester_data

        service = self.session.service
        if service is None:
            raise DeskGridError("Unlock your wallet to send the input files.")
        if not self.market.grid_url:
            raise DeskGridError(NEEDS_GRID)
        digests: dict[str, str] = {}
        for name, path in files.items():
            size = (await asyncio.to_thread(path.stat)).st_size
            self.status.info(uploading_text(ChosenFile(path, size)))
            try:
                sent = await requester_data.upload_inputs(
                    self.market.grid_url, service.sender.account, {name: path}
                )
            except Exception as exc:  # every failure is said, and nothing is paid
                raise DeskGridError(
                    f"{path.name} could not be sent to the grid: {error_sentence(exc)} "
                    "Nothing was paid."
                ) from exc
            digests.update(sent)
        return digests

    async def _run(
        self, run: VanityRun, order: Order, job: JobRecord, files: dict[str, Path] | None = None
    ) -> None:
        if isinstance(order, AppOrder) and files:
            order.inputs = await self._upload(files)
            self.status.info("Paying for the task…")
        task_id = await asyncio.to_thread(run.pay, order)
        if run.entry is not None:
            job.order_id = run.entry.order_id
            self._following.add(run.entry.order_id)  # followed here, not by a resume
        job.task_id = task_id
        job.state = "requested"
        self.my_jobs.refresh()
        if self.shown is job:
            self.timeline.reset(job.hex_id)
        self.status.info(f"Paid {format_rlc(run.price)} for task {job.short_id}; it is on its way.")
        async for event in run.follow(FOLLOW_INTERVAL):
            self._on_event(job, event)
        outcome = await asyncio.to_thread(run.outcome, order)
        if outcome.result is not None:  # a published app's result: the hub holds it as is
            job.state, job.output, job.ended = "finalized", outcome.result, time.monotonic()
            job.downloadable = True
            self.my_jobs.refresh()
            text = f"Your {app_title(job.app)} task {job.short_id} finished: "
            text += outcome.result.strip()[:200] or IN_THE_GRID
            if self.shown is None or self.shown is job:
                self.show_job(job)
                self.status.ok(text)
            else:  # as for VanityGen: the view stays, a notice says it
                self.notices.post(JobNotice(job.hex_id, text, "ok", SHOW))
            return
        result = (outcome.address, outcome.wif) if outcome.address and outcome.wif else None
        await self._ended(job, result, outcome.reason, outcome.seconds)

    def _on_event(self, job: JobRecord, event: TimelineEvent) -> None:
        """One fact of a followed task: its timeline, its state, and the view if it is shown."""
        job.events.append(event)
        if event.kind in _STATE_AFTER and job.state in ("paying", "requested", "computing"):
            job.state = _STATE_AFTER[event.kind]
        elif event.kind == "finalized":
            job.state = "finalized"
        elif event.kind == "claimable" and not job.claimable and not job.claiming:
            self._spawn(self._deadline_passed(job), self.status.error)
        if self.shown is job:
            self.timeline.add_event(event)
        self.my_jobs.refresh()

    async def _deadline_passed(self, job: JobRecord) -> None:
        job.state, job.reason = "failed", DEADLINE_PASSED
        if job.ended is None:
            job.ended = time.monotonic()
        refund = await self._refund(job)
        self._failed(job, refund)

    async def _ended(
        self,
        job: JobRecord,
        result: tuple[str, str] | None,
        reason: str | None,
        seconds: float | None = None,
        *,
        claimed: bool = False,
    ) -> None:
        """A followed task reached its end: its result, or why not and where its price is
        (`claimed`: the hub says it was claimed after its deadline)."""
        job.ended = job.ended or time.monotonic()
        job.claiming = False
        if result is not None:
            job.state, job.result, job.claimable = "finalized", result, False
            self.my_jobs.refresh()
            self._finished(job, seconds)
            return
        job.reason = job.reason or reason or "no reason was given"
        if job.task_id in self._claimed_here:  # the claim said it already
            job.state, job.claimable = "refunded", False
            self.my_jobs.refresh()
            return
        refund = await self._refund(job)
        if refund.way == "returned":
            claimed = claimed or any(e.kind == "claimed" for e in job.events)
            job.state = "claimed" if claimed else "refunded"  # not here: said above
        self._failed(job, refund)

    def _finished(self, job: JobRecord, seconds: float | None) -> None:
        assert job.result is not None
        address = job.result[0]
        took = f" in {seconds:.1f} s" if seconds is not None else ""
        if self.shown is None or self.shown is job:
            self.show_job(job)
            self.status.ok(
                f"Found {address}{took} for {format_rlc(job.cost)}; the key was combined on this "
                "computer."
            )
            self.notices.dismiss(job.hex_id)
        else:  # the person is looking at another task: leave the view, say it finished
            self.notices.post(
                JobNotice(
                    job.hex_id,
                    f"Your {app_title(job.app)} task {job.short_id} finished: it found {address}.",
                    "ok",
                    SHOW,
                )
            )

    async def _refund(self, job: JobRecord) -> Refund:
        """Whose the task's price is now (blocking reads, off the GUI thread)."""
        assert job.task_id is not None
        market, service = self.market, self.session.service
        wallet = service.address if service is not None else ""
        requester = self._requester()
        return await asyncio.to_thread(
            refund_of, market.hub, wallet, job.task_id, requester=requester
        )

    def _failed(self, job: JobRecord, refund: Refund) -> None:
        """The notice of a task that ended without a result: its reason and its refund."""
        job.claimable = refund.claimable
        if refund.way != "returned":
            job.state = "failed"
        self.my_jobs.refresh()
        reason = (job.reason or "no reason was given").strip().rstrip(".")
        head = f"Your {app_title(job.app)} task {job.short_id} failed: {reason}"
        if refund.way == "returned":
            text = f"{head}; its {format_rlc(refund.amount)} went back to {refund.into}."
        elif refund.claimable:
            extra = _compensation(refund, done=False)
            text = f"{head}. Claim its {format_rlc(refund.amount)} back into {refund.into}{extra}."
        else:  # whose it is, or why there is nothing to refund
            text = f"{head}. {refund.sentence}"
        action = CLAIM_REFUND if refund.claimable else None
        self.notices.post(JobNotice(job.hex_id, text, "warning", action))
        if self.shown is job:
            self.status.error(text)

    def task_ended(self, event: TaskEnded) -> None:
        """A task of this wallet ended that this pane does not follow (paid elsewhere, e.g.
        through the VanityRequester or from the command line): a row and, when it ended
        without a result, a notice with its refund."""
        task_id = bytes.fromhex(event.task_id.removeprefix("0x"))
        if self.my_jobs.find(task_id) is not None:
            return  # followed here: its own events tell its end
        job = JobRecord(task_id, event.app, event.price, started=time.monotonic())
        job.ended = job.started
        self.my_jobs.add(job)
        if event.outcome == "finalized":
            job.state = "finalized"
            published = [a for a in self.catalog if a.app_id in self.manifests]
            job.app_id = next((a.app_id for a in published if a.name == event.app), None)
            job.downloadable = job.app_id is not None
            self.my_jobs.refresh()
            return
        claimed = event.outcome == "claimed"
        reason = DEADLINE_PASSED if claimed else event.reason
        self._spawn(self._ended(job, None, reason, claimed=claimed), self.status.error)

    # -- what is shown ------------------------------------------------------------------

    def _job_selected(self, job: JobRecord) -> None:
        if job is not self.shown:
            self.show_job(job)

    def show_job(self, job: JobRecord) -> None:
        """Show `job`'s timeline and, once it has one, its result; select its row."""
        self.shown = job
        self.my_jobs.select(job)
        self.timeline.reset(job.hex_id)
        for event in job.events:
            self.timeline.add_event(event)
        self.timeline.setVisible(True)
        if job.result is not None:
            self.result.show_result(*job.result)
        else:
            self.result.clear()
        output = job.output.strip() if job.output is not None else ""
        in_the_grid = IN_THE_GRID[0].upper() + IN_THE_GRID[1:]
        self.output.setText(f"Result: {output}" if output else in_the_grid)
        self.output.setVisible(job.output is not None)

    def _show_nothing(self) -> None:
        self.shown = None
        self.timeline.reset()
        self.timeline.setVisible(False)
        self.result.clear()
        self.output.setVisible(False)

    def _notice_acted(self, key: str, action: str) -> None:
        job = next((j for j in self.my_jobs.jobs if j.hex_id == key), None)
        if job is None:
            return
        if action == SHOW:
            self.show_job(job)
            self.notices.dismiss(key)
        elif action == OPEN_FOLDER and key in self.saved:
            sentence = open_folder(self.saved[key].parent, "the result's folder")
            if sentence is not None:
                self.status.error(sentence)
        elif action == CLAIM_REFUND and job.task_id is not None:
            self.claim(job.task_id)

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
        """List the open wallet's journal in My jobs and follow its unfinished tasks."""
        service = self.session.service
        if service is not None:
            self._spawn(self._resume_journal(service.sender.account), self._journal_failed)

    def _journal_failed(self, sentence: str) -> None:
        self.status.error(f"Your earlier tasks could not be read: {sentence}")

    async def _resume_journal(self, account: Any) -> None:
        market = self.market
        journal = await asyncio.to_thread(self._open_journal, account)
        entries = await asyncio.to_thread(resume, journal, market.chain, market.hub)
        for entry in reversed(entries):  # newest on top
            job = self._show_entry(entry)
            vanity = entry.kind != APP_ORDER
            if entry.state == "completed" and vanity and job is not None and job.result is None:
                job.result = await asyncio.to_thread(journal.result, entry)
        for entry in entries:
            job = self._show_entry(entry)
            if job is None or entry.state not in _FOLLOWED or entry.order_id in self._following:
                continue
            self._following.add(entry.order_id)
            self._spawn(self._follow_entry(journal, entry, job), self._journal_failed)

    def _show_entry(self, entry: JournalEntry) -> JobRecord | None:
        if entry.task_id is None:
            return None  # never reached the chain: nothing to show
        task_id = bytes.fromhex(entry.task_id.removeprefix("0x"))
        job = self.my_jobs.find(task_id)
        if job is None:
            age = time.time() - datetime.fromisoformat(entry.created).timestamp()
            if entry.kind == APP_ORDER:  # its params are the task document
                what = params_text(entry.params.get("params") or {})
            else:
                patterns = entry.params.get("patterns") or []
                what = f"an address starting with {' or '.join(map(str, patterns))}"
            job = JobRecord(
                task_id,
                entry.app,
                entry.price,
                state=_STATE_OF_ENTRY.get(entry.state, "requested"),
                started=time.monotonic() - age,
                what=what,
                order_id=entry.order_id,
                app_id=entry.app_id,
            )
            if entry.finished:
                job.ended = time.monotonic()
                job.reason = entry.reason
            self.my_jobs.append(job)
        job.downloadable = entry.kind == APP_ORDER and entry.state == "completed"
        return job

    async def _follow_entry(
        self, journal: RequestJournal, entry: JournalEntry, job: JobRecord
    ) -> None:
        """Follow a task paid before the app (re)started, event by event, and combine its key
        when it ends."""
        market = self.market
        assert job.task_id is not None
        job.events = []  # its timeline is read again from the chain
        if self.shown is job:
            self.timeline.reset(job.hex_id)
        timeline = TaskTimeline(
            market.chain, market.hub, job.task_id, market.grid(), from_block=entry.block or 0
        )
        async for event in timeline.follow(FOLLOW_INTERVAL):
            self._on_event(job, event)
        entry = await asyncio.to_thread(settle, journal, market.chain, market.hub, entry)
        while entry.state in ("prepared", "sent", "active", "failed"):
            await asyncio.sleep(RESUME_INTERVAL)  # another process holds it for now
            entry = await asyncio.to_thread(settle, journal, market.chain, market.hub, entry)
        self._following.discard(entry.order_id)
        if entry.kind == APP_ORDER and entry.state == "completed":
            job.state, job.ended, job.downloadable = "finalized", time.monotonic(), True
            self.my_jobs.refresh()
            text = f"Your {app_title(job.app)} task {job.short_id} finished: {IN_THE_GRID}"
            self.notices.post(JobNotice(job.hex_id, text, "ok", SHOW))
            return
        result = await asyncio.to_thread(journal.result, entry)
        await self._ended(job, result, entry.reason)

    def unfinished_tasks(self) -> int:
        """Tasks paid and not ended: they go on without the app and resume when it starts."""
        return sum(1 for j in self.my_jobs.jobs if j.running)

    # -- refunds ------------------------------------------------------------------------

    def _requester(self) -> VanityRequesterContract | None:
        """The VanityRequester, which keeps the refunds of tasks paid through it."""
        address = self.market.addresses.vanity_requester
        if not address or address == ZERO_ADDRESS:
            return None
        return VanityRequesterContract(self.market.chain, address)

    def claim(self, task_id: bytes) -> None:
        """Take a task's refund back (claimed on the hub, withdrawn from the VanityRequester:
        whatever the task needs)."""
        job = self.my_jobs.find(task_id)
        if job is None:
            return
        job.claiming = True
        self.my_jobs.refresh()
        self.status.info(f"Claiming the refund of task {job.short_id}…")
        self._spawn(self._claim(job), lambda sentence: self._claim_failed(job, sentence))

    def _claim_failed(self, job: JobRecord, sentence: str) -> None:
        job.claiming = False
        if job.task_id is not None:
            self._claimed_here.discard(job.task_id)
        self.notices.enable_action(job.hex_id)
        self.status.error(sentence)
        self.my_jobs.refresh()

    async def _claim(self, job: JobRecord) -> None:
        service = self.session.service
        if service is None:
            raise DeskGridError("Unlock your wallet to claim the refund.")
        assert job.task_id is not None
        market, requester = self.market, self._requester()
        self._claimed_here.add(job.task_id)

        def take() -> tuple[Refund, int]:
            refund = refund_of(market.hub, service.address, job.task_id, requester=requester)
            return refund, take_refund(market.hub, service.sender, refund, requester=requester)

        refund, amount = await asyncio.to_thread(take)
        job.state, job.claimable, job.claiming = "refunded", False, False
        job.ended = job.ended or time.monotonic()
        self.my_jobs.refresh()
        extra = _compensation(refund, done=True)
        text = (
            f"Refunded: the {format_rlc(amount)} of task {job.short_id} is back in "
            f"{refund.into}{extra}."
        )
        self.notices.post(JobNotice(job.hex_id, text, "ok"))
        self.status.ok(text)
        if service.on_change is not None:
            service.on_change()  # the wallet's balances are read again

    # -- results of published apps -------------------------------------------------------

    def download(self, job: JobRecord) -> None:
        """Ask where to save `job`'s result, then fetch it off the GUI thread."""
        if job.task_id is None:
            return
        suggested = str(Path.home() / self.result_name(job))
        path, _ = QFileDialog.getSaveFileName(self, "Save the task's result", suggested)
        if path:
            self.save_result_to(job, Path(path))

    def result_name(self, job: JobRecord) -> str:
        """The name `job`'s result is offered under: its task id and its manifest's type."""
        manifest = self.manifests.get(job.app_id) if job.app_id is not None else None
        return result_file_name(job.hex_id, manifest.result.media_type if manifest else "")

    def save_result_to(self, job: JobRecord, to: Path) -> None:
        """Fetch `job`'s result from the grid into `to` (checked, decrypted, written whole)."""
        service = self.session.service
        if service is None:
            self.status.error("Unlock your wallet to download the result: it is decrypted here.")
            return
        if not self.market.grid_url:
            self.status.error(
                "The result is in the grid's data store; set the grid in Settings to fetch it."
            )
            return
        self.status.info(f"Downloading the result of task {job.short_id}…")
        self._spawn(
            self._save_result(job, service.sender.account, to),
            lambda sentence: self.status.error(
                f"The result of task {job.short_id} could not be downloaded: {sentence}"
            ),
        )

    async def _save_result(self, job: JobRecord, account: Any, to: Path) -> None:
        assert job.task_id is not None and self.market.grid_url
        saved = await save_result(self.market.grid_url, account, self.market.hub, job.task_id, to)
        self.saved[job.hex_id] = saved
        text = f"The result of task {job.short_id} is saved in {saved}."
        self.notices.post(JobNotice(job.hex_id, text, "ok", OPEN_FOLDER))
        self.status.ok(text)

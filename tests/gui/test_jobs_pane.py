"""The job composer on the local node: an impossible pattern is refused with its sentence; a
VanityGen job runs from Run to a shown result whose key really gives the address; two tasks run
at once, each followed on its own in My jobs, and a task finishing while another one is shown
does not take the view but posts a notice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from deskgrid.apps.vanity.keys import address_from_private_key, wif_decode
from deskgrid.desktop.node_backend import NodeBackend
from deskgrid.ui.jobs_pane import JobsPane
from deskgrid.ui.my_jobs_table import JobRecord
from deskgrid.ui.vanity_form import VanityForm, duration_text
from tests.gui.conftest import JOB_TIMEOUT_MS, pay, ready_pane, run_async

pytestmark = pytest.mark.gui


def test_a_vanity_job_runs_from_the_form_to_a_verified_result(qtbot, node_window):
    window = node_window
    names = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert names[:2] == ["Wallet", "Jobs"] and names[-1] == "Settings"
    assert isinstance(window.controller.backend, NodeBackend)
    assert window.steps == sorted(window.steps) and window.steps[-1] == 1.0
    pane = ready_pane(qtbot, window)
    assert pane.current_app().name == "vanity"
    assert "pool fee" in pane.price.text()

    # An impossible pattern: the sentence, and no way to pay for it.
    pane.form.patterns_edit.setText("1O")
    assert "invalid character 'O'" in pane.form.validation.text()
    assert pane.form.validation.isVisibleTo(pane)
    assert not pane.run_button.isEnabled()

    pane.form.patterns_edit.setText("1A")
    assert pane.form.validation.text() == ""
    assert "1 in" in pane.form.difficulty.text()
    qtbot.waitUntil(pane.run_button.isEnabled, timeout=5000)
    qtbot.mouseClick(pane.run_button, Qt.MouseButton.LeftButton)
    assert not pane.run_button.isEnabled()  # one review at a time
    # A review first, as Send has: the price, the network fee, where the key is kept.
    qtbot.waitUntil(lambda: pane.review is not None and pane.review.isVisible(), timeout=10_000)
    review = pane.review
    assert review.price.text().startswith("4 RLC for the app + 1 x 1 RLC pool fee")
    assert "= <b>5 RLC</b>" in review.price.text()  # level 1, the default for VanityGen
    assert review.trust.text().startswith("1 — verified")
    assert review.fee.text().startswith("up to ") and "ETH (gas " in review.fee.text()
    assert "never leaves it" in review.kept.text() and "resumes the task" in review.kept.text()
    assert pane.my_jobs.jobs == []  # nothing is paid before Pay
    review.cancel_button.click()
    qtbot.waitUntil(pane.run_button.isEnabled, timeout=5000)
    assert pane.status.text() == "Nothing was paid." and pane.my_jobs.jobs == []
    qtbot.mouseClick(pane.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.review is not review and pane.review.isVisible(), timeout=10_000)
    pane.review.pay_button.click()

    qtbot.waitUntil(lambda: pane.result.address.text().startswith("1A"), timeout=JOB_TIMEOUT_MS)
    address, wif = pane.result.address.text(), pane.result.wif.text()
    key, compressed = wif_decode(wif)
    assert address_from_private_key(key, compressed) == address
    kinds = pane.timeline.kinds
    assert "finalized" in kinds
    happened = [kinds.index(k) for k in ("requested", "queued", "completed", "finalized")]
    assert happened == sorted(happened), kinds  # shown in the order it happened
    assert pane.timeline.progress.value() == 100
    assert "Traceback" not in pane.status.text()
    job = pane.my_jobs.jobs[0]
    assert job.state == "finalized" and job.cost > 0 and job.result == (address, wif)
    assert pane.my_jobs.table.item(0, 2).text() == "finalized"
    assert pane.my_jobs.table.item(0, 3).text() == "100 %"
    states = [pane.my_jobs.table.horizontalHeaderItem(i).text() for i in range(3)]
    assert states == ["Task", "App", "State"]
    assert pane.run_button.isEnabled()
    pane.result.copy_address.click()  # a copy is confirmed in the pane's own words
    assert pane.status.text() == "Copied the address to the clipboard."
    assert pane.status.kind == "ok"


def test_two_tasks_run_at_once_each_with_its_own_row_and_result(qtbot, make_node_window):
    window = make_node_window(workers=2)
    pane = ready_pane(qtbot, window)
    pay(qtbot, pane, "1A")
    assert pane.run_button.isEnabled()  # Run stays available while a task runs
    pay(qtbot, pane, "1B")
    table = pane.my_jobs
    second, first = table.jobs  # the newest on top
    assert first.task_id != second.task_id and second.running
    assert pane.shown is second  # the task just paid is the one shown
    assert window.quit_sentence() is not None  # the second one at least is still running

    table.table.selectRow(table.row_of(first))  # the person looks at the first task
    assert pane.shown is first and pane.timeline.title.text().endswith(first.hex_id[:18] + "…")
    qtbot.waitUntil(
        lambda: first.result is not None and second.result is not None, timeout=JOB_TIMEOUT_MS
    )
    for job, pattern in ((first, "1A"), (second, "1B")):
        address, wif = job.result
        key, compressed = wif_decode(wif)
        assert address.startswith(pattern) and address_from_private_key(key, compressed) == address
        assert job.state == "finalized"
        assert table.table.item(table.row_of(job), 2).text() == "finalized"
        kinds = [e.kind for e in job.events]
        assert kinds[0] == "requested" and kinds[-1] == "finalized", kinds
    # the first stayed in view; the second's end was a notice, not a switch
    assert pane.shown is first and pane.result.address.text() == first.result[0]
    assert "finalized" in pane.timeline.kinds
    notice = pane.notices.notice(second.hex_id)
    assert notice is not None and notice.action == "Show"
    assert f"task {second.short_id} finished: it found {second.result[0]}" in notice.text
    assert window.quit_sentence() is None

    pane.notices.button(second.hex_id).click()  # "Show" brings the second one up
    assert pane.shown is second and pane.result.address.text() == second.result[0]
    assert table.selected() is second and pane.notices.notice(second.hex_id) is None
    assert pane.timeline.title.text().endswith(second.hex_id[:18] + "…")
    table.table.selectRow(table.row_of(first))  # and a row brings back its own result
    assert pane.result.address.text() == first.result[0]
    assert pane.result.wif.text() == first.result[1]


def test_the_result_saves_to_a_file_and_refunds_need_a_late_task(qtbot, tmp_path, monkeypatch):
    form = VanityForm()
    qtbot.addWidget(form)
    form.patterns_edit.setText("1O")
    assert not form.valid and "Base58" in form.validation.text()
    form.patterns_edit.setText("1a, 1B")
    form.case_box.setChecked(True)
    assert form.valid and form.patterns() == ["1a", "1B"]
    assert duration_text(0.2) == "under a second" and duration_text(7200) == "about 2 hours"

    from deskgrid.ui.my_jobs_table import MyJobsTable
    from deskgrid.ui.result_view import ResultView, save_folder

    view = ResultView()
    qtbot.addWidget(view)
    view.show_result("1AbcExample", "Kwif")
    monkeypatch.chdir(tmp_path)  # the folder the app was started from
    view.ask_save()  # the dialog starts in Documents or home, never there
    start = Path(view.dialog.directory().absolutePath())
    assert start == Path(save_folder()).resolve() and start != tmp_path
    view.dialog.reject()
    target = tmp_path / "key.txt"
    view.save_to(str(target))
    assert "1AbcExample" in target.read_text() and "Kwif" in target.read_text()

    table = MyJobsTable()
    qtbot.addWidget(table)
    claimed = []
    table.claim_requested.connect(claimed.append)
    late = JobRecord(b"\x01" * 32, "vanity", 10**9, state="requested")
    table.add(late)
    assert table.claim_button(late) is None  # nothing to claim while it may still be done
    late.state, late.claimable = "failed", True
    table.add(JobRecord(b"\x02" * 32, "vanity", 10**9))  # a newer row moves it down
    button = table.claim_button(late)
    assert button is not None and table.table.cellWidget(1, 6) is button
    assert table.table.cellWidget(0, 6) is None and table.table.item(1, 2).text() == "failed"
    button.click()
    assert claimed == [b"\x01" * 32] and not button.isEnabled()  # once: a claim is on its way


def test_my_jobs_come_back_from_the_journal_and_quitting_says_they_resume(qtbot, make_node_window):
    # nobody computes or settles: the paid task stays active
    window = make_node_window(workers=0, oracle=False)
    pane = ready_pane(qtbot, window)
    assert window.quit_sentence() is None
    pay(qtbot, pane, "1A")
    task_id = pane.my_jobs.jobs[0].task_id
    assert window.quit_sentence().startswith("1 task is still running")
    assert "resumes them when it starts again" in window.quit_sentence()

    # the pane of an app started afresh on the same wallet lists it from the journal
    again = JobsPane(window.controller.session, pane.market)
    qtbot.addWidget(again)
    try:
        qtbot.waitUntil(lambda: bool(again.my_jobs.jobs), timeout=JOB_TIMEOUT_MS)
        [job] = again.my_jobs.jobs
        assert (job.task_id, job.state, job.cost) == (task_id, "requested", 5_000_000_000)
        assert job.what == "an address starting with 1A"
        assert again.unfinished_tasks() == 1
        # followed there too: past its deadline, its notice offers the refund
        chain = window.controller.backend.chain
        run_async(qtbot, asyncio.to_thread(chain.advance_time, 30 * 86_400))
        qtbot.waitUntil(lambda: job.claimable, timeout=JOB_TIMEOUT_MS)
        assert again.notices.notice(job.hex_id).action == "Claim refund"
        assert job.state == "failed" and again.unfinished_tasks() == 0
    finally:
        again.clock.stop()
        for task in again._tasks:
            task.cancel()


def test_the_trust_level_sets_the_price_and_level_1_needs_a_verifier(qtbot, booted):
    from deskgrid.chain.contracts import HubContract
    from deskgrid.chain.transactions import TxSender
    from deskgrid.desktop.jobs_market import jobs_market_for
    from deskgrid.money import NRLC_PER_RLC
    from deskgrid.ui.trust_selector import NO_VERIFIER

    backend = booted.controller.backend
    chain = backend.chain
    hub = HubContract(chain, backend.market.hub)
    # an app without a verifier, listed on the chain beside VanityGen
    hub.register_app(
        TxSender(chain, chain.dev_accounts[2]), "tally", "builtin:tally", b"\0" * 32, NRLC_PER_RLC
    )
    pane = JobsPane(booted.controller.session, jobs_market_for(backend))
    qtbot.addWidget(pane)
    qtbot.waitUntil(lambda: pane.pool_fee is not None, timeout=10_000)
    trust = pane.trust
    assert pane.current_app().name == "vanity"
    assert trust.level() == 1 and trust.is_offered(1)  # verified: price and gas unchanged
    assert pane.price.text().startswith("4 RLC for the app + 1 × 1 RLC pool fee = <b>5 RLC</b>")
    assert "(1× the price at level 1)" in pane.price.text()
    trust.setCurrentIndex(2)  # level 3, high
    assert trust.currentText() == "3 — high"
    assert "4 RLC for the app + 3 × 1 RLC pool fee = <b>7 RLC</b>" in pane.price.text()
    assert "(1.4× the price at level 1)" in pane.price.text()

    pane.apps.setCurrentIndex(
        pane.apps.findData(next(a for a in pane.catalog if a.name == "tally").app_id)
    )
    assert trust.level() == 2 and not trust.is_offered(1)  # standard by default
    assert trust.itemData(0, Qt.ItemDataRole.ToolTipRole) == NO_VERIFIER
    assert "1 RLC for the app + 2 × 1 RLC pool fee = <b>3 RLC</b>" in pane.price.text()
    assert "(1.5× the price at level 1)" in pane.price.text()
    trust.setCurrentIndex(4)
    assert "= <b>6 RLC</b> (3× the price at level 1)" in pane.price.text()

    pane.apps.setCurrentIndex(pane.apps.findData(pane.catalog[0].app_id))  # back to VanityGen
    assert trust.level() == 1 and trust.is_offered(1)
    trust.setCurrentIndex(1)
    pane.form.patterns_edit.setText("1A")
    qtbot.waitUntil(pane.run_button.isEnabled, timeout=5000)
    pane.run_button.click()
    qtbot.waitUntil(lambda: pane.review is not None and pane.review.isVisible(), timeout=10_000)
    review = pane.review  # the review repeats the level and prices it
    assert review.trust.text().startswith("2 — standard: the grid requires at least 2")
    assert "= <b>6 RLC</b>" in review.price.text() and "trust level 2" in review.price.text()
    assert review.pay_button.text() == "Pay 6 RLC"
    review.cancel_button.click()

"""The job composer on the local node: an impossible pattern is refused with its sentence; a
VanityGen job runs from Run to a shown result whose key really gives the address."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from deskgrid.apps.vanity.keys import address_from_private_key, wif_decode
from deskgrid.desktop.node_backend import NodeBackend
from deskgrid.desktop.settings import SettingsStore
from deskgrid.ui.controller import AppController
from deskgrid.ui.jobs_pane import JobsPane
from deskgrid.ui.main_window import MainWindow
from deskgrid.ui.my_jobs_table import JobRecord
from deskgrid.ui.vanity_form import VanityForm, duration_text
from tests.gui.conftest import run_async

pytestmark = pytest.mark.gui

NODE_BOOT_TIMEOUT_MS = 60_000
JOB_TIMEOUT_MS = 90_000


@pytest.fixture
def make_node_window(qtbot):
    made: list[MainWindow] = []

    def make(workers: int = 1, oracle: bool = True) -> MainWindow:
        settings = SettingsStore()
        settings.update(first_run_done=True, network_mode="demo")
        controller = AppController(
            settings,
            backend_factory=lambda _s, bus: NodeBackend(bus, workers=workers, oracle=oracle),
            block_interval=0.2,
        )
        window = MainWindow(controller)
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        window.steps = []
        controller.bridge.boot_progress.connect(lambda _step, f: window.steps.append(f))
        with qtbot.waitSignal(controller.booted, timeout=NODE_BOOT_TIMEOUT_MS):
            window.start()
        return window

    yield make
    for window in made:
        run_async(qtbot, window.controller.shutdown(), timeout=60_000)
        assert window.controller.backend is None


@pytest.fixture
def node_window(make_node_window):
    return make_node_window()


def ready_pane(qtbot, window: MainWindow) -> JobsPane:
    window.show_pane("jobs")
    pane: JobsPane = window.panes["jobs"]
    qtbot.waitUntil(lambda: pane.current_app() is not None, timeout=10_000)
    return pane


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
    assert not pane.run_button.isEnabled()  # one job at a time from the form
    # A review first, as Send has: the price, the network fee, where the key is kept.
    qtbot.waitUntil(lambda: pane.review is not None and pane.review.isVisible(), timeout=10_000)
    review = pane.review
    assert "4 RLC for the app + 1 RLC pool fee = <b>5 RLC</b>" in review.price.text()
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
    assert job.status == "COMPLETED" and job.cost > 0
    assert pane.my_jobs.table.item(0, 2).text() == "COMPLETED"
    assert pane.run_button.isEnabled()
    pane.result.copy_address.click()  # a copy is confirmed in the pane's own words
    assert pane.status.text() == "Copied the address to the clipboard."
    assert pane.status.kind == "ok"


def test_a_task_past_its_deadline_is_refunded_with_claim_refund(qtbot, make_node_window):
    # nobody computes or settles: the task stays active past its deadline
    window = make_node_window(workers=0, oracle=False)
    pane = ready_pane(qtbot, window)
    pane.form.patterns_edit.setText("1A")
    qtbot.waitUntil(pane.run_button.isEnabled, timeout=5000)
    pane.run()
    qtbot.waitUntil(lambda: pane.review is not None and pane.review.isVisible(), timeout=10_000)
    pane.review.pay_button.click()
    qtbot.waitUntil(lambda: bool(pane.my_jobs.jobs), timeout=JOB_TIMEOUT_MS)
    table = pane.my_jobs
    table.table.selectRow(0)
    assert not table.claim_button.isEnabled()
    chain = window.controller.backend.chain  # the node's chain, over JSON-RPC
    run_async(qtbot, asyncio.to_thread(chain.advance_time, 30 * 86_400))
    qtbot.waitUntil(lambda: table.jobs[0].claimable, timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(table.claim_button.isEnabled, timeout=5000)
    qtbot.mouseClick(table.claim_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: table.jobs[0].status == "FAILED", timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(lambda: "claimed" in pane.timeline.kinds, timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(pane.run_button.isEnabled, timeout=JOB_TIMEOUT_MS)  # the run has ended
    assert not table.claim_button.isEnabled()
    assert pane.status.text().startswith("Refunded")
    assert "Traceback" not in pane.status.text()


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
    table.add(JobRecord(b"\x01" * 32, "vanity", 10**9))
    table.table.selectRow(0)
    assert not table.claim_button.isEnabled()
    table.jobs[0].claimable = True
    table.refresh()
    assert table.claim_button.isEnabled()
    table.claim_button.click()
    assert claimed == [b"\x01" * 32]


def test_my_jobs_come_back_from_the_journal_and_quitting_says_they_resume(qtbot, make_node_window):
    # nobody computes or settles: the paid task stays active
    window = make_node_window(workers=0, oracle=False)
    pane = ready_pane(qtbot, window)
    assert window.quit_sentence() is None
    pane.form.patterns_edit.setText("1A")
    qtbot.waitUntil(pane.run_button.isEnabled, timeout=5000)
    pane.run()
    qtbot.waitUntil(lambda: pane.review is not None and pane.review.isVisible(), timeout=10_000)
    pane.review.pay_button.click()
    qtbot.waitUntil(lambda: bool(pane.my_jobs.jobs), timeout=JOB_TIMEOUT_MS)
    task_id = pane.my_jobs.jobs[0].task_id
    assert window.quit_sentence().startswith("1 task is still running")
    assert "resumes them when it starts again" in window.quit_sentence()

    # the pane of an app started afresh on the same wallet lists it from the journal
    again = JobsPane(window.controller.session, pane.market)
    qtbot.addWidget(again)
    try:
        qtbot.waitUntil(lambda: bool(again.my_jobs.jobs), timeout=JOB_TIMEOUT_MS)
        [job] = again.my_jobs.jobs
        assert (job.task_id, job.status, job.cost) == (task_id, "ACTIVE", 5_000_000_000)
        assert again.unfinished_tasks() == 1
    finally:
        again.clock.stop()
        for task in again._tasks:
            task.cancel()

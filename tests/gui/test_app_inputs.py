"""A published app's input files and result in the desktop app: a file picker per input the
manifest declares, file params chosen among the inputs with a file, Run only once each names
one; on a real grid on loopback, Run sends the file (signed in with the wallet) and pays with
its digest and the wallet's key, and "Download result…" fetches, checks and decrypts the
result, saying why when it cannot (a damaged copy, another wallet's result, no grid)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox

from deskgrid.chain.contracts import HubContract, TaskRequest
from deskgrid.chain.deployment import Roles
from deskgrid.chain.transactions import TxSender
from deskgrid.chain.trust import task_price
from deskgrid.crypto import ecies
from deskgrid.desktop.jobs_market import jobs_market_for
from deskgrid.grid.client import GridClient
from deskgrid.grid.config import GridConfig
from deskgrid.grid.server import GridServer
from deskgrid.market.input_files import NO_FILE_YET
from deskgrid.market.manifest import load_document, manifest_from, with_image_id
from deskgrid.market.published import publish
from deskgrid.money import NRLC_PER_RLC
from deskgrid.ui.jobs_pane import OPEN_FOLDER, JobsPane
from deskgrid.ui.my_jobs_table import JobRecord
from deskgrid.ui.schema_form import NO_FILE, SchemaForm
from tests.gui.conftest import JOB_TIMEOUT_MS, TX_TIMEOUT_MS, run_async

pytestmark = pytest.mark.gui

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "apps"
TEXT = b"the cat and the hat and the bat\n" * 100


def wordfreq():
    doc = load_document((EXAMPLES / "wordfreq" / "manifest.json").read_bytes())
    return manifest_from(with_image_id(doc, "sha256:" + "cd" * 32))


def two_inputs():
    doc = load_document((EXAMPLES / "wordfreq" / "manifest.json").read_bytes())
    doc["inputs"] = [
        {"name": "first", "description": "The first text."},
        {"name": "second", "description": "The second text."},
    ]
    doc["params_schema"]["required"] = ["input"]
    return manifest_from(with_image_id(doc, "sha256:" + "cd" * 32))


def sized(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)  # sparse: its size without writing it
    return path


def free_port() -> int:
    """A loopback port nobody listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_file_pickers_offer_the_inputs_with_a_file(qtbot, tmp_path):
    manifest = two_inputs()
    form = SchemaForm()
    qtbot.addWidget(form)
    form.set_schema(manifest.params_schema, manifest.inputs)
    first, second = form.input_rows["first"], form.input_rows["second"]
    files = form.editors["input"]
    assert isinstance(files, QComboBox) and files.count() == 0
    assert first.chosen.text() == NO_FILE and not first.clear_button.isEnabled()
    assert form.errors["input"].text() == "Required: fill it in." and not form.runnable

    assert form.choose_input("second", sized(tmp_path / "book.txt", 3_200_000))
    assert second.chosen.text() == "book.txt (3.2 MB)" and second.clear_button.isEnabled()
    assert [files.itemText(i) for i in range(files.count())] == ["second"]
    assert form.runnable and form.params() == {"input": "second", "top": 20}
    assert form.input_files() == {"second": tmp_path / "book.txt"}

    form.choose_input("first", sized(tmp_path / "a.txt", 10))
    assert [files.itemText(i) for i in range(files.count())] == ["first", "second"]
    assert files.currentData() == "second"  # the choice stays while its input has a file
    second.clear_button.click()
    assert second.chosen.text() == NO_FILE and files.currentData() == "first"
    assert form.input_files() == {"first": tmp_path / "a.txt"} and form.runnable
    first.clear_button.click()
    assert files.count() == 0 and not form.runnable

    assert not form.choose_input("first", tmp_path)  # a folder: said, nothing chosen
    assert "is not a file; choose a file." in form.notice.text()
    assert form.notice.isVisibleTo(form) and form.input_files() == {}

    optional = wordfreq()  # its file param is optional: the first input is still named
    form.set_schema(optional.params_schema, optional.inputs)
    assert not form.runnable and form.errors["input"].text() == NO_FILE_YET
    assert not form.notice.isVisibleTo(form)  # a new form: the old sentence is gone
    form.choose_input("text", sized(tmp_path / "t.txt", 1))
    assert form.runnable and form.params() == {"input": "text", "top": 20}
    assert not form.errors["input"].isVisibleTo(form)


def _published_pane(qtbot, booted, grid_url: str | None) -> tuple[JobsPane, HubContract]:
    backend = booted.controller.backend
    chain = backend.chain
    hub = HubContract(chain, backend.market.hub)
    developer = TxSender(chain, chain.dev_accounts[2])
    publish(hub, developer, wordfreq(), NRLC_PER_RLC)
    pane = JobsPane(booted.controller.session, jobs_market_for(backend, grid_url=grid_url))
    qtbot.addWidget(pane)
    qtbot.waitUntil(lambda: pane.pool_fee is not None, timeout=10_000)
    app_id = next(a.app_id for a in pane.catalog if a.name == "wordfreq")
    pane.apps.setCurrentIndex(pane.apps.findData(app_id))
    return pane, hub


def _stop(pane: JobsPane) -> None:
    pane.clock.stop()
    for running in pane._tasks:
        running.cancel()


def _review_and_pay(qtbot, pane: JobsPane) -> None:
    pane.run_button.click()
    qtbot.waitUntil(lambda: pane.review is not None and pane.review.isVisible(), timeout=10_000)
    pane.review.pay_button.click()


def test_an_upload_that_fails_pays_nothing(qtbot, booted, tmp_path):
    grid_url = f"http://127.0.0.1:{free_port()}"
    pane, hub = _published_pane(qtbot, booted, grid_url)
    try:
        address = booted.controller.session.service.address
        before = hub.next_task_id(address)
        pane.schema_form.choose_input("text", sized(tmp_path / "book.txt", 2000))
        assert pane.run_button.isEnabled() and not pane.run_note.isVisibleTo(pane)
        _review_and_pay(qtbot, pane)
        qtbot.waitUntil(lambda: "Nothing was paid" in pane.status.text(), timeout=TX_TIMEOUT_MS)
        assert pane.status.text().startswith("book.txt could not be sent to the grid: ")
        assert "Cannot reach the grid" in pane.status.text()
        assert pane.my_jobs.jobs == [] and hub.next_task_id(address) == before
        assert pane.run_button.isEnabled()  # it can be tried again
    finally:
        _stop(pane)


def _store_for(qtbot, url: str, account, content: bytes) -> None:
    """Store `content` on the grid so that the wallet `account` may read it back (its own
    upload; a real task's result is a lease's, which any requester may read)."""

    async def store() -> None:
        async with GridClient(url) as requester:
            await requester.sign_in_requester(account)
            await requester.upload_data(content)

    run_async(qtbot, store())


def test_a_file_goes_to_the_grid_and_the_result_comes_back_decrypted(qtbot, booted, tmp_path):
    server = GridServer(GridConfig(data_dir=tmp_path / "grid", idle_retry_s=0.1))
    url = run_async(qtbot, server.start())
    submitter = GridClient(url, token=server.submitter_token)
    pane, hub = _published_pane(qtbot, booted, url)
    service = booted.controller.session.service
    account = service.sender.account
    try:
        book = tmp_path / "book.txt"
        book.write_bytes(TEXT)
        pane.schema_form.choose_input("text", book)
        assert pane.encrypt.isChecked() and pane.encrypt.isVisibleTo(pane)
        _review_and_pay(qtbot, pane)
        qtbot.waitUntil(
            lambda: (
                pane.status.kind == "error"
                or (bool(pane.my_jobs.jobs) and pane.my_jobs.jobs[0].task_id is not None)
            ),
            timeout=JOB_TIMEOUT_MS,
        )
        assert pane.status.kind != "error", pane.status.text()
        [job] = pane.my_jobs.jobs
        digest = hashlib.sha256(TEXT).hexdigest()
        key = ecies.public_key_of(bytes(account.key))
        assert json.loads(hub.task(job.task_id).params) == {
            "params": {"input": "text", "top": 20},
            "inputs": {"text": digest},
            "result_key": key.hex(),
        }
        assert run_async(qtbot, submitter.download_data(digest)) == TEXT  # what the grid holds

        # the grid's workers would store the result encrypted to the key; the chain its digest
        result = json.dumps({"top": [["the", 200]]}).encode() * 3000  # a file in the store
        # as every honest replica encrypts it: convergent, under the task's id
        sealed = ecies.encrypt_convergent(key, result, ecies.encryption_context(job.hex_id, ""))
        _store_for(qtbot, url, account, sealed)
        sealed_digest = hashlib.sha256(sealed).digest()
        scheduler = TxSender(service.chain, Roles.dev(service.chain).scheduler)
        run_async(
            qtbot,
            asyncio.to_thread(hub.finalize, scheduler, job.task_id, sealed_digest, b"", [], []),
        )
        qtbot.waitUntil(lambda: job.downloadable, timeout=JOB_TIMEOUT_MS)
        assert pane.my_jobs.download_button(job) is not None
        assert pane.output.text().startswith("Its result waits in the grid's data store")
        assert pane.result_name(job) == job.hex_id + ".json"

        to = tmp_path / "out" / pane.result_name(job)
        pane.save_result_to(job, to)
        qtbot.waitUntil(lambda: job.hex_id in pane.saved, timeout=TX_TIMEOUT_MS)
        assert to.read_bytes() == result
        notice = pane.notices.notice(job.hex_id)
        assert notice is not None and notice.action == OPEN_FOLDER
        assert f"is saved in {to}" in pane.status.text()

        # a damaged copy on the grid: refused, and nothing written
        stored = server.service.data.path(sealed_digest.hex())
        damaged = bytearray(stored.read_bytes())
        damaged[-1] ^= 1
        stored.write_bytes(bytes(damaged))
        again = tmp_path / "again.json"
        pane.save_result_to(job, again)
        qtbot.waitUntil(lambda: "could not be downloaded" in pane.status.text(), timeout=10_000)
        assert "does not match the digest the chain records" in pane.status.text()
        assert not again.exists()

        # the journal keeps the order: a pane opened later lists it, ready to download
        later = JobsPane(booted.controller.session, jobs_market_for(booted.controller.backend, url))
        qtbot.addWidget(later)
        try:
            qtbot.waitUntil(lambda: later.my_jobs.find(job.task_id) is not None, timeout=10_000)
            kept = later.my_jobs.find(job.task_id)
            assert kept.downloadable and kept.state == "finalized"
            assert kept.what == 'input = "text", top = 20' and kept.app_id == job.app_id
        finally:
            _stop(later)
    finally:
        _stop(pane)
        run_async(qtbot, submitter.aclose())
        run_async(qtbot, server.stop())


def test_a_result_for_another_wallet_or_without_a_grid_is_said(qtbot, booted, tmp_path):
    server = GridServer(GridConfig(data_dir=tmp_path / "grid", idle_retry_s=0.1))
    url = run_async(qtbot, server.start())
    pane, hub = _published_pane(qtbot, booted, url)
    service = booted.controller.session.service
    try:
        other = ecies.public_key_of(b"\x07" * 32)
        sealed = ecies.encrypt(other, b"not yours")
        _store_for(qtbot, url, service.sender.account, sealed)
        app_id = next(a.app_id for a in pane.catalog if a.name == "wordfreq")
        document = json.dumps({"params": {}, "inputs": {}, "result_key": "02" + "11" * 32})
        scheduler = TxSender(service.chain, Roles.dev(service.chain).scheduler)

        def request_and_finalize() -> bytes:
            pool = pane.market.pool_id
            price = task_price(NRLC_PER_RLC, hub.pool(pool).fee, 2)
            request = TaskRequest(app_id, pool, document, price, trust=2)
            task = hub.pay_and_request(service.sender, service.rlc, request)
            hub.finalize(scheduler, task, hashlib.sha256(sealed).digest(), b"", [], [])
            return task

        task = run_async(qtbot, asyncio.to_thread(request_and_finalize))
        job = JobRecord(task, "wordfreq", 0, state="finalized", app_id=app_id, downloadable=True)
        pane.my_jobs.add(job)
        pane.save_result_to(job, tmp_path / "r.json")
        qtbot.waitUntil(lambda: "could not be downloaded" in pane.status.text(), timeout=10_000)
        assert "This result was encrypted for another wallet: open the wallet that paid" in (
            pane.status.text()
        )
        assert not (tmp_path / "r.json").exists()

        run_async(qtbot, server.stop())  # the grid is gone
        pane.save_result_to(job, tmp_path / "r.json")
        qtbot.waitUntil(lambda: "Cannot reach the grid" in pane.status.text(), timeout=10_000)
        assert pane.status.text().startswith(f"The result of task {job.short_id} could not be")

        pane.market.grid_url = None
        pane.save_result_to(job, tmp_path / "r.json")
        assert pane.status.text() == (
            "The result is in the grid's data store; set the grid in Settings to fetch it."
        )
    finally:
        _stop(pane)
        run_async(qtbot, server.stop())

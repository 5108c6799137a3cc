"""The composer's form for a published app, on the embedded chain: the Monte-Carlo example is
published with its manifest, the Jobs pane makes its form from the schema, refuses a bad seed
under the field, offers level 2 at the price it makes with the manifest's estimate, and paying
creates the task on chain at level 2 with its task document (the params typed, the wallet's key
to encrypt the result to), followed in My jobs to its refund; an app whose manifest does not
match the hub is not listed, and an app needing input files shows its file pickers and waits
for a grid to send them to."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from deskgrid.chain.contracts import HubContract
from deskgrid.chain.transactions import TxSender
from deskgrid.crypto.ecies import public_key_of
from deskgrid.desktop.jobs_market import jobs_market_for
from deskgrid.market.input_files import NEEDS_GRID
from deskgrid.market.manifest import load_document, manifest_from, with_image_id
from deskgrid.market.published import publish
from deskgrid.money import NRLC_PER_RLC
from deskgrid.ui.jobs_pane import JobsPane
from deskgrid.ui.schema_form import SchemaForm
from tests.gui.conftest import JOB_TIMEOUT_MS, run_async

pytestmark = pytest.mark.gui

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "apps"


def example_manifest(name: str, image_byte: str):
    doc = load_document((EXAMPLES / name / "manifest.json").read_bytes())
    return manifest_from(with_image_id(doc, "sha256:" + image_byte * 32))


def select(pane: JobsPane, name: str) -> None:
    app_id = next(a for a in pane.catalog if a.name == name).app_id
    pane.apps.setCurrentIndex(pane.apps.findData(app_id))


def test_a_published_app_gets_its_form_its_price_and_a_task_at_level_2(qtbot, booted):
    backend = booted.controller.backend
    chain = backend.chain
    hub = HubContract(chain, backend.market.hub)
    developer = TxSender(chain, chain.dev_accounts[2])
    montecarlo = example_manifest("montecarlo", "ab")
    publish(hub, developer, montecarlo, 3 * NRLC_PER_RLC)
    publish(hub, developer, example_manifest("wordfreq", "cd"), NRLC_PER_RLC)
    # an app whose schema hash does not match its manifest: never offered
    wrong = example_manifest("montecarlo", "ef")
    hub.publish_app(developer, "forged", wrong.uri, b"\1" * 32, 1, b'{"name":"forged"}')

    pane = JobsPane(booted.controller.session, jobs_market_for(backend))
    qtbot.addWidget(pane)
    try:
        qtbot.waitUntil(lambda: pane.pool_fee is not None, timeout=10_000)
        names = [a.name for a in pane.catalog]
        assert "montecarlo" in names and "wordfreq" in names and "forged" not in names
        assert pane.current_app().name == "vanity" and not pane.schema_form.isVisibleTo(pane)

        select(pane, "montecarlo")
        form = pane.schema_form
        assert form.isVisibleTo(pane) and not pane.form.isVisibleTo(pane)
        assert pane.description.text() == montecarlo.description
        seed, samples = form.editors["seed"], form.editors["samples"]
        assert isinstance(seed, QLineEdit) and (seed.text(), samples.text()) == ("1", "1000000")
        assert form.helps["seed"].text().startswith("Starts the random generator")
        assert pane.trust.level() == 2 and not pane.trust.is_offered(1)  # no verifier
        assert "3 RLC for the app + 2 × 1 RLC pool fee = <b>5 RLC</b>" in pane.price.text()
        assert pane.estimate.text() == "at most 600 s of computing per replica"
        assert pane.estimate.isVisibleTo(pane)
        assert pane.run_button.isEnabled()  # the defaults are valid

        seed.setText("-3")  # checked as it is typed
        assert form.errors["seed"].text() == "Must be at least 0."
        assert form.errors["seed"].isVisibleTo(pane) and not pane.run_button.isEnabled()
        seed.setText("forty-two")
        assert form.errors["seed"].text() == "Type a whole number, such as 1."
        seed.setText("42")
        samples.setText("5000")
        assert form.errors["seed"].text() == "" and not form.errors["seed"].isVisibleTo(pane)
        assert pane.run_button.isEnabled()

        pane.run_button.click()
        qtbot.waitUntil(lambda: pane.review is not None and pane.review.isVisible(), timeout=10_000)
        review = pane.review
        assert review.what.text() == "montecarlo"
        assert review.trust.text().startswith("2 — standard: the grid requires at least 2")
        assert "= <b>5 RLC</b>" in review.price.text() and "trust level 2" in review.price.text()
        assert review.params.text() == "samples = 5000, seed = 42"
        assert "on chain with the request" in review.kept.text()
        assert review.pay_button.text() == "Pay 5 RLC"
        review.pay_button.click()
        qtbot.waitUntil(
            lambda: bool(pane.my_jobs.jobs) and pane.my_jobs.jobs[0].task_id is not None,
            timeout=JOB_TIMEOUT_MS,
        )
        [job] = pane.my_jobs.jobs
        task = hub.task(job.task_id)
        assert task.trust == 2 and task.price == 5 * NRLC_PER_RLC
        assert task.app_id == next(a.app_id for a in pane.catalog if a.name == "montecarlo")
        account = booted.controller.session.service.sender.account
        assert json.loads(task.params) == {
            "params": {"seed": 42, "samples": 5000},
            "inputs": {},
            "result_key": public_key_of(bytes(account.key)).hex(),
        }
        assert job.app == "montecarlo" and job.what == "samples = 5000, seed = 42"
        qtbot.waitUntil(lambda: "requested" in pane.timeline.kinds, timeout=JOB_TIMEOUT_MS)

        # nobody computes it here: past its deadline, its refund is offered as VanityGen's is
        run_async(qtbot, asyncio.to_thread(chain.advance_time, 30 * 86_400))
        qtbot.waitUntil(lambda: job.claimable, timeout=JOB_TIMEOUT_MS)
        assert pane.notices.notice(job.hex_id).action == "Claim refund"

        select(pane, "wordfreq")  # an input file: its picker, and a grid to send it to
        assert isinstance(form.editors["input"], QComboBox) and "text" in form.input_rows
        assert not form.runnable and not pane.run_button.isEnabled()
        assert pane.run_note.text() == NEEDS_GRID and pane.run_note.isVisibleTo(pane)
    finally:
        pane.clock.stop()
        for running in pane._tasks:
            running.cancel()


def test_booleans_enums_and_unsupported_keywords_in_the_widget(qtbot):
    form = SchemaForm()
    qtbot.addWidget(form)
    form.set_schema(
        {
            "type": "object",
            "properties": {
                "fast": {"type": "boolean", "title": "Fast"},
                "mode": {"enum": ["quick", "full"], "default": "full"},
                "name": {"type": "string", "minLength": 1},
            },
            "required": ["name"],
        }
    )
    fast, mode, name = (form.editors[n] for n in ("fast", "mode", "name"))
    assert isinstance(fast, QCheckBox) and isinstance(mode, QComboBox)
    assert mode.currentData() == "full" and not form.runnable
    assert form.errors["name"].text() == "Required: fill it in."
    name.setText("x")
    fast.setChecked(True)
    mode.setCurrentIndex(mode.findData("quick"))
    assert form.runnable and form.params() == {"fast": True, "mode": "quick", "name": "x"}
    assert not form.notice.isVisibleTo(form)

    form.set_schema(
        {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
                "where": {"type": "object"},
            },
        }
    )
    assert "The parameter 'where' is of type 'object'" in form.notice.text()
    assert form.notice.isVisibleTo(form) and not form.runnable
    tags = form.editors["tags"]
    tags.setText("a, b, c")
    assert form.errors["tags"].text() == "Must have at most 2 items."
    tags.setText("a, b")
    assert form.errors["tags"].text() == "" and form.params() == {"tags": ["a", "b"]}
    assert not form.runnable  # the object param keeps it from running

"""The volunteer's choice "Run apps from other developers in Docker": off by default, saved with
the other preferences and applied to the running worker at once; disabled with a sentence when
no Docker daemon answers."""

from __future__ import annotations

import pytest

from deskgrid.desktop.settings import SettingsStore
from deskgrid.worker.docker_runner import NO_DOCKER_FOR_APPS, docker_available
from deskgrid.worker.donation import Donation
from tests.conftest import require
from tests.gui.conftest import run_async
from tests.gui.fake_worker import FakeWorker

pytestmark = pytest.mark.gui

GRID = "http://127.0.0.1:1"


@pytest.fixture
def make_pane(qtbot):
    from deskgrid.ui.volunteer_pane import VolunteerPane

    made = []

    def make():
        donation = Donation(
            worker_factory=FakeWorker, cpu_count=4, preferences=SettingsStore().preferences()
        )
        pane = VolunteerPane(donation, GRID, earnings_interval_ms=60_000)
        qtbot.addWidget(pane)
        pane.show()
        qtbot.waitUntil(lambda: pane.docker_checked, timeout=10_000)
        made.append(pane)
        return pane

    yield make
    for pane in made:
        if pane.donation.running:
            run_async(qtbot, pane.donation.stop())


def test_the_choice_is_off_by_default_saved_and_applied_live(qtbot, make_pane):
    require(docker_available(), "Docker: a running daemon (start it with .ci/start-docker)")
    pane = make_pane()
    box = pane.form.docker_apps
    assert box.isEnabled() and not box.isChecked()
    assert not pane.form.docker_note.isVisible()
    assert box.text() == "Run apps from other developers in Docker"
    pane.toggle.setChecked(True)
    qtbot.waitUntil(lambda: pane.donation.running, timeout=3000)
    worker = pane.donation.worker
    assert not worker.preferences.run_docker_apps
    box.setChecked(True)
    qtbot.waitUntil(lambda: worker.preferences.run_docker_apps, timeout=3000)
    assert pane.donation.worker is worker  # applied to the running worker, no restart
    assert SettingsStore().preferences().run_docker_apps
    pane.form.cpu_pct.setValue(40)  # another preference keeps the choice
    qtbot.waitUntil(lambda: worker.preferences.cpu_usage_limit == 40, timeout=3000)
    assert worker.preferences.run_docker_apps
    again = make_pane()  # the app started again: the saved choice is shown
    assert again.form.docker_apps.isChecked()
    box.setChecked(False)
    qtbot.waitUntil(lambda: not worker.preferences.run_docker_apps, timeout=3000)
    assert not SettingsStore().preferences().run_docker_apps


def test_without_docker_the_choice_is_disabled_with_a_sentence(qtbot, make_pane, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    pane = make_pane()
    assert not pane.form.docker_apps.isEnabled()
    assert pane.form.docker_note.isVisible()
    assert pane.form.docker_note.text() == NO_DOCKER_FOR_APPS
    assert NO_DOCKER_FOR_APPS.startswith("Docker is not installed or not running here: ")

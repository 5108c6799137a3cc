"""The "Publish an app" dialog on the embedded demo chain: the example montecarlo manifest
published with an image id typed in (no Docker needed), through the review with its URI and
fee, read back from the hub; sentences for an invalid manifest, an image the manifest does not
name, a wallet without ETH and Docker absent; with Docker, the example images to choose from;
the File menu item follows the open wallet; the Jobs pane lists the app once published."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from deskgrid.market.manifest import canonical_json, load_document, parse_manifest, with_image_id
from tests.conftest import REPO_ROOT
from tests.gui.conftest import BOOT_TIMEOUT_MS, TX_TIMEOUT_MS, ready_pane
from tests.integration.examples.conftest import examples  # noqa: F401 - a fixture

pytestmark = pytest.mark.gui

MONTECARLO = REPO_ROOT / "examples" / "apps" / "montecarlo" / "manifest.json"
IMAGE_ID = "sha256:" + "5e" * 32


def images_looked_up(qtbot, dialog) -> None:
    qtbot.waitUntil(lambda: "Looking for" not in dialog.image_info, timeout=TX_TIMEOUT_MS)


def open_dialog(qtbot, window):
    dialog = window.open_publish()
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    images_looked_up(qtbot, dialog)
    return dialog


def review(qtbot, dialog) -> None:
    assert dialog.review_button.isEnabled()
    dialog.review_button.click()
    qtbot.waitUntil(
        lambda: dialog.pages.currentIndex() == 1 or dialog.status.kind == "error",
        timeout=TX_TIMEOUT_MS,
    )


def test_publish_the_montecarlo_example_with_an_image_id(qtbot, booted):
    jobs_listed: list[int] = []
    dialog = open_dialog(qtbot, booted)
    dialog.published.connect(jobs_listed.append)
    dialog.load_manifest(MONTECARLO)
    # the example's placeholder id is no image id: the image is asked for
    assert not dialog.review_button.isEnabled()
    assert "names no image id yet" in dialog.image_note.text()
    dialog.image.setEditText(IMAGE_ID)
    dialog.price.setText("0.25")
    assert "App 'montecarlo' version 1" in dialog.manifest_note.text()
    review(qtbot, dialog)
    assert dialog.status.kind != "error", dialog.status.text()
    address = booted.controller.session.address
    assert dialog.review_what.text() == (
        f"Publish app 'montecarlo' 1 at 0.25 RLC per task, owned by {address}"
    )
    assert dialog.review_uri.text() == "docker:" + IMAGE_ID
    manifest = dialog.manifest
    assert dialog.review_schema.text() == "0x" + manifest.params_schema_hash.hex()
    assert dialog.review_size.text().startswith(f"{len(canonical_json(manifest)):,} bytes")
    assert dialog.review_fee.text().startswith("up to 0.")

    dialog.confirm_button.click()
    qtbot.waitUntil(lambda: dialog.app_id is not None, timeout=TX_TIMEOUT_MS)
    app_id = dialog.app_id
    assert dialog.pages.currentIndex() == 2 and dialog.cancel_button.text() == "Close"
    assert dialog.result.text().startswith(f"Published as app #{app_id} (gas ")
    assert jobs_listed == [app_id]
    assert f"Published app #{app_id}" in booted.statusBar().currentMessage()

    hub = booted.controller.session.service.hub
    info = hub.app(app_id)
    assert (info.name, info.uri, info.price) == ("montecarlo", "docker:" + IMAGE_ID, 250_000_000)
    assert info.owner == booted.controller.session.address
    on_chain = parse_manifest(hub.app_manifest(app_id))
    expected = with_image_id(load_document(MONTECARLO.read_bytes()), IMAGE_ID)
    assert on_chain.model_dump(mode="json") == parse_manifest(json.dumps(expected)).model_dump(
        mode="json"
    )
    dialog.reject()


def test_an_invalid_manifest_is_a_sentence_and_publish_stays_disabled(qtbot, booted, tmp_path):
    doc = with_image_id(load_document(MONTECARLO.read_bytes()), IMAGE_ID)
    doc["resources"]["cores"] = 0
    doc["extra"] = 1
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    dialog = open_dialog(qtbot, booted)
    dialog.load_manifest(path)
    dialog.price.setText("1")
    note = dialog.manifest_note.text()
    assert note.startswith("The manifest manifest.json is not valid:")
    assert "resources.cores" in note and "extra is not a manifest field" in note
    assert not dialog.review_button.isEnabled()
    path.write_text("{not json", encoding="utf-8")
    dialog.load_manifest(path)
    assert "is not usable JSON" in dialog.manifest_note.text()
    dialog.load_manifest(tmp_path / "missing.json")
    assert "Cannot read the manifest" in dialog.manifest_note.text()
    assert not dialog.review_button.isEnabled()
    dialog.reject()


def test_an_image_the_manifest_does_not_name_and_a_bad_price(qtbot, booted, tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(
        json.dumps(with_image_id(load_document(MONTECARLO.read_bytes()), IMAGE_ID)),
        encoding="utf-8",
    )
    dialog = open_dialog(qtbot, booted)
    dialog.load_manifest(path)
    assert dialog.image.currentText() == IMAGE_ID  # the manifest's own id, filled in
    dialog.price.setText("1")
    assert dialog.review_button.isEnabled()
    other = "sha256:" + "ab" * 32
    dialog.image.setEditText(other)
    assert f"names the image {IMAGE_ID}, not the one chosen ({other})" in dialog.image_note.text()
    assert not dialog.review_button.isEnabled()
    dialog.image.setEditText("no such image")
    assert "is neither an image listed here nor an image id" in dialog.image_note.text()
    dialog.image.setEditText("")  # empty: the manifest's own id
    assert dialog.review_button.isEnabled()
    dialog.price.setText("-1")
    assert "'-1' is not a price" in dialog.price_note.text()
    assert not dialog.review_button.isEnabled()
    dialog.reject()


def test_a_wallet_without_eth_is_told_to_get_some(qtbot, booted):
    session = booted.controller.session
    session.add("Empty", Account.create())
    dialog = open_dialog(qtbot, booted)
    assert dialog.service.address == session.address
    dialog.load_manifest(MONTECARLO)
    dialog.image.setEditText(IMAGE_ID)
    dialog.price.setText("0")
    review(qtbot, dialog)
    assert dialog.status.kind == "error" and dialog.pages.currentIndex() == 0
    assert "no ETH to pay the network fee; get some ETH for fees first" in dialog.status.text()
    dialog.reject()


def test_without_docker_the_image_is_typed(qtbot, booted, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    dialog = open_dialog(qtbot, booted)
    assert dialog.image.count() == 0
    assert dialog.image_note.text().startswith("Docker does not answer on this computer")
    dialog.reject()


def test_the_image_combo_lists_the_built_example_images(qtbot, booted, examples):  # noqa: F811
    dialog = open_dialog(qtbot, booted)
    listed = {
        dialog.image.itemText(i): dialog.image.itemData(i) for i in range(dialog.image.count())
    }
    tag, image_id = examples.images["montecarlo"], examples.ids["montecarlo"]
    assert listed[f"{tag} — {image_id}"] == image_id
    dialog.load_manifest(MONTECARLO)
    dialog.image.setCurrentIndex(dialog.image.findData(image_id))
    dialog.price.setText("0")
    review(qtbot, dialog)
    assert dialog.review_uri.text() == "docker:" + image_id
    dialog.reject()


def test_the_menu_item_follows_the_open_wallet(qtbot, make_window):
    window = make_window()
    action = window.publish_action
    assert not action.isEnabled() and "Open or unlock a wallet" in action.toolTip()
    assert window.open_publish() is None
    assert "Open or unlock a wallet" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.controller.booted, timeout=BOOT_TIMEOUT_MS):
        window.start()
    qtbot.waitUntil(action.isEnabled, timeout=TX_TIMEOUT_MS)
    session = window.controller.session
    session.add("Mine", Account.create())
    session.lock()
    qtbot.waitUntil(lambda: not action.isEnabled(), timeout=TX_TIMEOUT_MS)


def test_the_jobs_pane_lists_a_published_app(qtbot, node_window):
    pane = ready_pane(qtbot, node_window)
    dialog = open_dialog(qtbot, node_window)
    dialog.load_manifest(MONTECARLO)
    dialog.image.setEditText(IMAGE_ID)
    dialog.price.setText("0.5")
    review(qtbot, dialog)
    dialog.confirm_button.click()
    qtbot.waitUntil(lambda: dialog.app_id is not None, timeout=TX_TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: any(app.app_id == dialog.app_id for app in pane.catalog), timeout=TX_TIMEOUT_MS
    )
    dialog.reject()

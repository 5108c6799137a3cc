"""Publish an app: its manifest file (checked as it is chosen), its Docker image (one of the
local daemon's, or an id typed in), its price; then the review every money dialog has (what
goes on chain and the network fee) and an explicit confirmation. The core of `deskgrid app
publish` does the work (`market.manifest`, `market.published`); chain calls run off the GUI
thread, errors are sentences."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from deskgrid.chain.transactions import FeeQuote
from deskgrid.errors import DeskGridError
from deskgrid.market.docker_image import LocalImage, local_images
from deskgrid.market.manifest import (
    IMAGE_ID,
    ImageChoiceError,
    Manifest,
    ManifestError,
    canonical_json,
    load_document,
    manifest_for_image,
    read_manifest_file,
)
from deskgrid.market.price import parse_price
from deskgrid.market.published import publish, quote_publish
from deskgrid.money import format_fee, format_rlc
from deskgrid.ui.confirm_flow import ConfirmFlowDialog
from deskgrid.ui.tasks import spawn
from deskgrid.wallet.service import WalletService

RESULT_PAGE = 2
_INTRO = (
    "Register a Docker app on the hub, with its manifest (docs/developer.md, Publishing): "
    "requesters then pay its price to you for each task."
)
_NOTE_STYLE = {"error": "color: #8c1d18;", "ok": "color: #1e4620;", "info": "color: palette(mid);"}


def _note() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _with_note(field: QWidget | QHBoxLayout, note: QLabel) -> QWidget:
    """`field` with its note under it, the two as wide as the form."""
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(2)
    if isinstance(field, QWidget):
        column.addWidget(field)
    else:
        column.addLayout(field)
    column.addWidget(note)
    box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    return box


def _say(label: QLabel, text: str, kind: str = "info") -> None:
    label.setText(text)
    label.setStyleSheet(_NOTE_STYLE[kind])
    label.setVisible(bool(text))


class PublishDialog(ConfirmFlowDialog):
    published = Signal(int)  # the new app's id

    def __init__(self, service: WalletService, parent: QWidget | None = None) -> None:
        super().__init__(service, "Publish an app", parent)
        self.setMinimumWidth(760)  # an image id (71 characters) fits on one line
        self.document: Any = None  # the manifest file's JSON, not yet checked
        self.read_error = ""
        self.manifest: Manifest | None = None  # checked with the image chosen
        self.price_nrlc: int | None = None
        self.images: list[LocalImage] = []
        self.image_info = "Looking for the images of Docker on this computer…"
        self.plan: tuple[Manifest, int, FeeQuote] | None = None
        self.app_id: int | None = None
        self.confirm_button.setText("Confirm and publish")
        self.review_uri = _note()
        self.review_schema = _note()
        self.review_size = _note()
        # what goes on chain, between the action and the fee
        self.review_form.insertRow(1, "<b>URI</b>", self.review_uri)
        self.review_form.insertRow(2, "<b>Params schema hash</b>", self.review_schema)
        self.review_form.insertRow(3, "<b>Manifest</b>", self.review_size)

        intro = QLabel(_INTRO)
        intro.setWordWrap(True)
        self.manifest_path = QLineEdit()
        self.manifest_path.setPlaceholderText("the app's manifest.json")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.setContentsMargins(0, 0, 0, 0)
        path_row.addWidget(self.manifest_path, 1)
        path_row.addWidget(self.browse_button)
        self.manifest_note = _note()
        self.image = QComboBox()
        self.image.setEditable(True)
        self.image.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.image.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.image.lineEdit().setPlaceholderText("the manifest's image id, or sha256:…")
        self.image_note = _note()
        self.price = QLineEdit()
        self.price.setPlaceholderText("RLC paid to you per task, e.g. 0.5 (0: free)")
        self.price_note = _note()
        self.form.addRow(intro)
        self.form.addRow("Manifest", _with_note(path_row, self.manifest_note))
        self.form.addRow("Image", _with_note(self.image, self.image_note))
        self.form.addRow("Price (RLC)", _with_note(self.price, self.price_note))

        result_page = QWidget()
        result = QVBoxLayout(result_page)
        self.result = _note()
        result.addWidget(self.result)
        result.addStretch(1)
        self.pages.addWidget(result_page)

        self.manifest_path.editingFinished.connect(self._path_entered)
        # methods, not lambdas: their connections go with the dialog
        self.image.currentTextChanged.connect(self._edited)
        self.image.activated.connect(self._image_chosen)
        self.price.textChanged.connect(self._edited)
        self.check()
        spawn(self._load_images(), self._no_images)

    # -- the form ----------------------------------------------------------------------

    def _browse(self) -> None:
        start = self.manifest_path.text().strip() or str(Path.home())
        dialog = QFileDialog(self, "App manifest", start, "JSON (*.json);;All (*)")
        dialog.fileSelected.connect(self.load_manifest)
        dialog.open()

    def _edited(self, _text: str) -> None:
        self.check()

    def _image_chosen(self, _index: int) -> None:
        self.image.lineEdit().setCursorPosition(0)  # the tag first

    def _path_entered(self) -> None:
        text = self.manifest_path.text().strip()
        if text:
            self.load_manifest(text)

    def load_manifest(self, path: str | Path) -> None:
        """Read the manifest file at `path` and check it at once."""
        file = Path(path).expanduser()
        self.manifest_path.setText(str(file))
        self.document, self.read_error = None, ""
        try:
            self.document = load_document(read_manifest_file(file), where=self._where())
        except ManifestError as exc:
            self.read_error = str(exc)
        named = self._named_image()
        if named and not self.image.currentText().strip():
            self.image.setEditText(named)
        self.check()

    def _where(self) -> str:
        return f"The manifest {Path(self.manifest_path.text().strip()).name}"

    def _named_image(self) -> str | None:
        image = self.document.get("image") if isinstance(self.document, dict) else None
        named = image.get("id") if isinstance(image, dict) else None
        return named if isinstance(named, str) and IMAGE_ID.match(named) else None

    async def _load_images(self) -> None:
        self.images = await asyncio.to_thread(local_images)
        typed = self.image.currentText()
        self.image.blockSignals(True)
        for found in self.images:
            self.image.addItem(f"{found.tag} — {found.image_id}", found.image_id)
        self.image.setEditText(typed)
        self.image.blockSignals(False)
        count = len(self.images)
        self.image_info = (
            f"{count} image{'s' if count != 1 else ''} of Docker on this computer to choose from"
            ", or type an image id."
            if count
            else "Docker has no tagged image on this computer: build the app's image, or type "
            "its id."
        )
        self.check()

    def _no_images(self, sentence: str) -> None:
        """Docker does not answer: the image id is typed (or the manifest's)."""
        self.image_info = sentence
        self.check()

    def chosen_image_id(self) -> str | None:
        """The image id chosen or typed (None: the manifest's own), else a sentence."""
        text = self.image.currentText().strip()
        index = self.image.currentIndex()
        if index >= 0 and text == self.image.itemText(index):
            return str(self.image.itemData(index))
        if not text:
            return None
        if IMAGE_ID.match(text):
            return text
        listed = next((i.image_id for i in self.images if i.tag == text), None)
        if listed is not None:
            return listed
        raise DeskGridError(
            f"'{text}' is neither an image listed here nor an image id: choose one, or type "
            "sha256: and 64 hex digits (docker inspect --format '{{.Id}}' IMAGE prints it)."
        )

    def check(self) -> None:
        """Check the form as it is; Review is enabled only when everything is publishable."""
        self.manifest = None
        image_sentence = ""
        image_id = None
        try:
            image_id = self.chosen_image_id()
        except DeskGridError as exc:
            image_sentence = str(exc)
        if self.document is None:
            _say(self.manifest_note, self.read_error, "error")
        else:
            try:
                manifest = manifest_for_image(self.document, image_id, where=self._where())
            except ImageChoiceError as exc:
                image_sentence = image_sentence or str(exc)
                _say(self.manifest_note, "")
            except ManifestError as exc:
                _say(self.manifest_note, str(exc), "error")
            else:
                size = len(canonical_json(manifest))
                _say(
                    self.manifest_note,
                    f"App '{manifest.name}' version {manifest.version}: {size:,} bytes of "
                    "manifest on chain.",
                    "ok",
                )
                if not image_sentence:
                    self.manifest = manifest
        if image_sentence:
            _say(self.image_note, image_sentence, "error")
        else:
            _say(self.image_note, self.image_info)
        self._check_price()
        self._busy(self.busy)

    def _check_price(self) -> None:
        self.price_nrlc = None
        text = self.price.text()
        if not text.strip():
            _say(self.price_note, "")
            return
        try:
            self.price_nrlc = parse_price(text)
        except DeskGridError as exc:
            _say(self.price_note, str(exc), "error")
        else:
            _say(self.price_note, "")

    def ready(self) -> bool:
        return self.manifest is not None and self.price_nrlc is not None

    def _busy(self, busy: bool, text: str = "") -> None:
        super()._busy(busy, text)
        self.review_button.setEnabled(not busy and self.ready())

    def _show_page(self, index: int) -> None:
        super()._show_page(index)
        self.cancel_button.setText("Close" if index == RESULT_PAGE else "Cancel")

    # -- review and publish ----------------------------------------------------------------

    def review(self) -> None:
        self.check()
        if self.manifest is None or self.price_nrlc is None:
            return
        self._busy(True, "Estimating the network fee…")
        spawn(self._quote_publish(self.manifest, self.price_nrlc), self._fail)

    async def _quote_publish(self, manifest: Manifest, price: int) -> None:
        service = self.service
        fee = await asyncio.to_thread(
            service.quote_with, lambda sender: quote_publish(service.hub, sender, manifest, price)
        )
        self.plan = (manifest, price, fee)
        self.review_what.setText(
            f"Publish app '{manifest.name}' {manifest.version} at {format_rlc(price)} per task, "
            f"owned by {service.address}"
        )
        self.review_uri.setText(manifest.uri)
        self.review_schema.setText("0x" + manifest.params_schema_hash.hex())
        self.review_size.setText(
            f"{len(canonical_json(manifest)):,} bytes of canonical JSON, in the AppManifest event"
        )
        self.review_fee.setText(f"up to {format_fee(fee.max_cost_wei)} (gas {fee.gas:,})")
        self._busy(False)
        self.status.clear_message()
        self._show_page(1)

    def confirm(self) -> None:
        if self.plan is None:
            return
        self._busy(True, "Publishing… waiting for the transaction to be mined.")
        manifest, price, _fee = self.plan
        spawn(self._publish(manifest, price), self._fail)

    async def _publish(self, manifest: Manifest, price: int) -> None:
        service = self.service
        done = await asyncio.to_thread(publish, service.hub, service.sender, manifest, price)
        self.app_id = done.app_id
        self.result.setText(
            f"Published as app #{done.app_id} (gas {done.tx.gas_used:,}).\n"
            f"Transaction {done.tx.tx_hash}\n"
            f"Requesters find '{manifest.name}' in the hub's apps from now on."
        )
        self._busy(False)
        self.status.clear_message()
        self._show_page(RESULT_PAGE)
        self.published.emit(done.app_id)

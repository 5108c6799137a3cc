"""The VanityGen request form, built from the app's parameter schema: the prefixes and "ignore
case", checked as they are typed, with the difficulty and the expected time."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QLineEdit, QWidget

from deskgrid.apps.registry import get_app
from deskgrid.apps.sdk import AppParamsError, AppSpec

# The fields a requester fills in; the key fields are set by the requester's side itself.
SHOWN_FIELDS = ("patterns", "case_insensitive")


def duration_text(seconds: float) -> str:
    """A rough duration for people: "under a second", "about 3 minutes", …"""
    if seconds < 1:
        return "under a second"
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = round(seconds / size)
            return f"about {count:,} {unit}{'s' if count != 1 else ''}"
    count = round(seconds)
    return f"about {count} second{'s' if count != 1 else ''}"


class VanityForm(QWidget):
    """`changed(valid)` follows every edit; `patterns()` and `case_insensitive()` the values."""

    changed = Signal(bool)

    def __init__(self, app: AppSpec | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app = app or get_app("vanity")
        self.workers = 1  # the grid's workers, to scale the expected time
        props: dict[str, Any] = self.app.params_schema.get("properties", {})
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        spec = props.get("patterns", {})
        self.patterns_edit = QLineEdit()
        self.patterns_edit.setPlaceholderText("1LoVE, 1Cafe")
        self.patterns_edit.setToolTip(
            spec.get("description", "") + " Separate several prefixes with commas or spaces."
        )
        layout.addRow(spec.get("title", "Patterns"), self.patterns_edit)

        spec = props.get("case_insensitive", {})
        self.case_box = QCheckBox(spec.get("title", "Ignore case"))
        self.case_box.setChecked(bool(spec.get("default", False)))
        layout.addRow("", self.case_box)

        self.validation = QLabel()
        self.validation.setWordWrap(True)
        self.validation.setStyleSheet("color: #8c1d18;")
        layout.addRow("", self.validation)
        self.difficulty = QLabel()
        self.difficulty.setWordWrap(True)
        layout.addRow("Difficulty", self.difficulty)

        self.valid = False
        self.patterns_edit.textChanged.connect(self._check)
        self.case_box.toggled.connect(self._check)
        self._check()

    # -- values -------------------------------------------------------------------------

    def patterns(self) -> list[str]:
        text = self.patterns_edit.text().replace(",", " ")
        return [p for p in text.split() if p]

    def case_insensitive(self) -> bool:
        return self.case_box.isChecked()

    def set_workers(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._check()

    # -- checking -----------------------------------------------------------------------

    def _check(self) -> None:
        patterns = self.patterns()
        params: dict[str, Any] = {
            "patterns": patterns,
            "case_insensitive": self.case_insensitive(),
            "full_key": True,  # only for checking: the request itself is split-key
        }
        self.valid = False
        if not patterns:
            self.validation.setText("Type the prefix the address must start with, e.g. 1LoVE.")
            self.difficulty.setText("—")
        else:
            try:
                self.app.validate(dict(params))
            except AppParamsError as exc:
                self.validation.setText(str(exc))
                self.difficulty.setText("—")
            else:
                self.valid = True
                self.validation.clear()
                self.difficulty.setText(self._estimate(params))
        self.validation.setVisible(bool(self.validation.text()))
        self.changed.emit(self.valid)

    def _estimate(self, params: dict[str, Any]) -> str:
        if self.app.estimate is None:
            return "—"
        try:
            figures = self.app.estimate(params)
        except AppParamsError:
            return "—"
        difficulty = int(figures.get("difficulty", 0))
        rate = float(figures.get("reference_keys_per_second", 0)) * self.workers
        text = f"1 in {difficulty:,} keys"
        if rate > 0:
            text += f"; expected time {duration_text(difficulty / rate)}"
            text += f" at {rate:,.0f} keys/s"
        return text

"""A published app's request form, made from its params schema (deskgrid.market.params_form):
a field per param (a line for text, numbers and lists separated by commas, a box for booleans,
a choice for enums, a line and "Choose…" for an input file), its description as the help line
under it, and its error under that, checked as it is typed. `runnable` is true when every field
is valid, the schema is fully supported and no input file is needed (this version cannot send
them yet)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deskgrid.market.params_form import FieldSpec, FormCheck, ParamsForm, build_form

NEEDS_FILES = "This app needs input files, which this version cannot send yet."
ERROR_STYLE = "color: #8c1d18;"
HELP_STYLE = "color: palette(mid);"
EMPTY_CHOICE = "—"


def _wrapped(text: str = "", style: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if style:
        label.setStyleSheet(style)
    return label


class SchemaForm(QWidget):
    """`changed(runnable)` follows every edit; `params()` the checked params."""

    changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form: ParamsForm = build_form({"type": "object", "properties": {}})
        self.editors: dict[str, QWidget] = {}
        self.helps: dict[str, QLabel] = {}
        self.errors: dict[str, QLabel] = {}
        self.last = FormCheck({}, {})
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.fields_box = QWidget()
        self.layout_ = QFormLayout(self.fields_box)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.fields_box)
        self.notice = _wrapped(style=ERROR_STYLE)  # what keeps the whole form from running
        outer.addWidget(self.notice)

    # -- building -----------------------------------------------------------------------

    def set_schema(self, schema: Any) -> None:
        """Show the form of `schema` (a new one each time: the values start at the defaults)."""
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        self.editors, self.helps, self.errors = {}, {}, {}
        self.form = build_form(schema)
        for spec in self.form.fields:
            editor, row = self._editor(spec)
            self.editors[spec.name] = editor
            column = QWidget()
            lines = QVBoxLayout(column)
            lines.setContentsMargins(0, 0, 0, 0)
            lines.setSpacing(2)
            lines.addWidget(row)
            self.helps[spec.name] = _wrapped(spec.help, HELP_STYLE)
            self.helps[spec.name].setVisible(bool(spec.help))
            lines.addWidget(self.helps[spec.name])
            self.errors[spec.name] = _wrapped(style=ERROR_STYLE)
            lines.addWidget(self.errors[spec.name])
            title = spec.title + ("" if spec.required or spec.kind == "boolean" else " (optional)")
            self.layout_.addRow(title, column)
        sentences = list(self.form.unsupported)
        if self.form.file_fields:
            sentences.append(NEEDS_FILES)
        self.notice.setText(" ".join(sentences))
        self.notice.setVisible(bool(sentences))
        self._check()

    def _editor(self, spec: FieldSpec) -> tuple[QWidget, QWidget]:
        """The widget holding the value, and the row it sits in."""
        if spec.kind == "boolean":
            box = QCheckBox(spec.title)
            box.setChecked(bool(spec.default))
            box.toggled.connect(self._check)
            return box, box
        if spec.kind == "enum":
            combo = QComboBox()
            if not spec.required and spec.default is None:
                combo.addItem(EMPTY_CHOICE, None)
            for choice in spec.choices:
                combo.addItem(str(choice) if not isinstance(choice, bool) else str(choice).lower())
                combo.setItemData(combo.count() - 1, choice)
            if spec.default is not None and spec.default in spec.choices:
                combo.setCurrentIndex(combo.findData(spec.default))
            combo.currentIndexChanged.connect(self._check)
            return combo, combo
        line = QLineEdit(spec.text_of(spec.default))
        if spec.kind == "list":
            line.setPlaceholderText("first, second, …")
        elif spec.pattern:
            line.setPlaceholderText(f"matching {spec.pattern}")
        line.textChanged.connect(self._check)
        if spec.kind != "file":
            return line, line
        row = QWidget()
        across = QHBoxLayout(row)
        across.setContentsMargins(0, 0, 0, 0)
        across.addWidget(line, 1)
        choose = QPushButton("Choose…")
        choose.clicked.connect(lambda: self._choose_file(line, spec))
        across.addWidget(choose)
        return line, row

    def _choose_file(self, line: QLineEdit, spec: FieldSpec) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Choose {spec.title}")
        if path:
            line.setText(path)

    # -- values -------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """What is in the fields: text as typed, booleans and chosen values as they are."""
        found: dict[str, Any] = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QCheckBox):
                found[name] = editor.isChecked()
            elif isinstance(editor, QComboBox):
                found[name] = editor.currentData()
            elif isinstance(editor, QLineEdit):
                found[name] = editor.text()
        return found

    def params(self) -> dict[str, Any]:
        return dict(self.last.params)

    @property
    def valid(self) -> bool:
        return self.last.valid and self.form.supported

    @property
    def runnable(self) -> bool:
        return self.valid and not self.form.file_fields

    def _check(self) -> None:
        self.last = self.form.check(self.values())
        for name, label in self.errors.items():
            label.setText(self.last.errors.get(name, ""))
            label.setVisible(name in self.last.errors)
        self.changed.emit(self.runnable)

"""A published app's request form, made from its params schema (deskgrid.market.params_form):
a field per param (a line for text, numbers and lists separated by commas, a box for booleans,
a choice for enums), its description as the help line under it, and its error under that,
checked as it is typed. Above them, a row per input file the manifest declares ("Choose file…",
the file's name and size, "Clear"); a file param is a choice among the inputs that have a file
(the first one at first). `runnable` is true when every field is valid, the schema is fully
supported and every file param names an input with a file (`deskgrid.market.input_files`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
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

from deskgrid.market.input_files import NO_FILE_YET, ChosenInputs, InputFileError
from deskgrid.market.manifest import InputFile
from deskgrid.market.params_form import FieldSpec, FormCheck, ParamsForm, build_form

NO_FILE = "No file chosen"
ERROR_STYLE = "color: #8c1d18;"
HELP_STYLE = "color: palette(mid);"
EMPTY_CHOICE = "—"


def _wrapped(text: str = "", style: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if style:
        label.setStyleSheet(style)
    return label


class InputRow(QWidget):
    """One input file of the manifest: "Choose file…", the chosen file's name and size, and
    "Clear"."""

    def __init__(self, item: InputFile, owner: SchemaForm) -> None:
        super().__init__()
        self.name = item.name
        self.owner = owner
        across = QHBoxLayout(self)
        across.setContentsMargins(0, 0, 0, 0)
        self.chosen = QLabel(NO_FILE)
        self.choose_button = QPushButton("Choose file…")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setEnabled(False)
        across.addWidget(self.chosen, 1)
        across.addWidget(self.choose_button)
        across.addWidget(self.clear_button)
        self.choose_button.clicked.connect(self._choose)
        self.clear_button.clicked.connect(self._clear)

    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Choose the file for {self.name}")
        if path:
            self.owner.choose_input(self.name, Path(path))

    def _clear(self) -> None:
        self.owner.clear_input(self.name)

    def show_file(self, label: str | None) -> None:
        self.chosen.setText(label or NO_FILE)
        self.clear_button.setEnabled(label is not None)


class SchemaForm(QWidget):
    """`changed(runnable)` follows every edit; `params()` the checked params, `input_files()`
    the chosen files by input name."""

    changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form: ParamsForm = build_form({"type": "object", "properties": {}})
        self.editors: dict[str, QWidget] = {}
        self.helps: dict[str, QLabel] = {}
        self.errors: dict[str, QLabel] = {}
        self.inputs = ChosenInputs(())
        self.input_rows: dict[str, InputRow] = {}
        self.last = FormCheck({}, {})
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.inputs_box = QWidget()
        self.inputs_layout = QFormLayout(self.inputs_box)
        self.inputs_layout.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.inputs_box)
        self.fields_box = QWidget()
        self.layout_ = QFormLayout(self.fields_box)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.fields_box)
        self.notice = _wrapped(style=ERROR_STYLE)  # what keeps the whole form from running
        outer.addWidget(self.notice)

    # -- building -----------------------------------------------------------------------

    def set_schema(self, schema: Any, inputs: Sequence[InputFile] = ()) -> None:
        """Show the form of `schema` with a file picker per input of `inputs` (a new form
        each time: the values start at the defaults, no file is chosen)."""
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        while self.inputs_layout.rowCount():
            self.inputs_layout.removeRow(0)
        self.editors, self.helps, self.errors = {}, {}, {}
        self.inputs = ChosenInputs(tuple(inputs))
        self.input_rows = {}
        for item in inputs:
            row = InputRow(item, self)
            self.input_rows[item.name] = row
            self.inputs_layout.addRow(f"Input “{item.name}”", _column(row, item.description))
        self.inputs_box.setVisible(bool(inputs))
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
        if spec.kind == "file":  # a choice among the inputs that have a file
            files = QComboBox()
            files.setPlaceholderText(NO_FILE)
            files.currentIndexChanged.connect(self._check)
            return files, files
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
        return line, line

    # -- input files --------------------------------------------------------------------

    def choose_input(self, name: str, path: Path) -> bool:
        """Take `path` as the input `name` (only its size is read); False, with the sentence
        in the notice, when it cannot be."""
        try:
            chosen = self.inputs.choose(name, path)
        except InputFileError as exc:
            self.notice.setText(str(exc))
            self.notice.setVisible(True)
            return False
        self.input_rows[name].show_file(chosen.label)
        self._inputs_changed()
        return True

    def clear_input(self, name: str) -> None:
        self.inputs.clear(name)
        self.input_rows[name].show_file(None)
        self._inputs_changed()

    def input_files(self) -> dict[str, Path]:
        """The chosen files by input name, in the manifest's order."""
        return self.inputs.paths()

    def _inputs_changed(self) -> None:
        """Offer the inputs that have a file to each file param, keeping its choice while it
        still has one, else the first."""
        self.notice.setText(" ".join(self.form.unsupported))
        self.notice.setVisible(bool(self.form.unsupported))
        named = self.inputs.named()
        for spec in self.form.file_fields:
            combo = self.editors[spec.name]
            assert isinstance(combo, QComboBox)
            kept = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for name in named:
                combo.addItem(name, name)
            combo.setCurrentIndex(combo.findData(kept) if kept in named else 0 if named else -1)
            combo.blockSignals(False)
        self._check()

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
    def files_problem(self) -> str | None:
        """What keeps the file params from naming an input with a file, if anything."""
        return self.inputs.problem(self.last.params, (f.name for f in self.form.file_fields))

    @property
    def runnable(self) -> bool:
        return self.valid and self.files_problem is None

    def _check(self) -> None:
        self.last = self.form.check(self.values())
        errors = dict(self.last.errors)
        for spec in self.form.file_fields:
            if spec.name not in errors and self.last.params.get(spec.name) is None:
                errors[spec.name] = NO_FILE_YET
        for name, label in self.errors.items():
            label.setText(errors.get(name, ""))
            label.setVisible(name in errors)
        self.changed.emit(self.runnable)


def _column(row: QWidget, help_text: str) -> QWidget:
    """A row with its help line under it."""
    column = QWidget()
    lines = QVBoxLayout(column)
    lines.setContentsMargins(0, 0, 0, 0)
    lines.setSpacing(2)
    lines.addWidget(row)
    lines.addWidget(_wrapped(help_text, HELP_STYLE))
    return column

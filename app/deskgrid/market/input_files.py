"""The input files of a published app's request, without Qt: which of the manifest's inputs
have a file chosen, whether each file param names one of them, the sentences a form shows, and
the progress line of an upload.

    chosen = ChosenInputs(manifest.inputs)
    chosen.choose("text", Path("book.txt"))        # InputFileError when it is not a file
    chosen.named()                                  # ["text"]: the inputs with a file
    chosen.problem(params, file_params(schema))     # None, or what to choose first
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deskgrid.errors import DeskGridError
from deskgrid.market.manifest import InputFile

NO_FILE_YET = "Choose a file for one of the app's inputs first."
NEEDS_GRID = "This app needs a grid to send its files to; set one in Settings."


class InputFileError(DeskGridError):
    """A chosen input file that cannot be sent; the message says what to do."""


@dataclass(frozen=True)
class ChosenFile:
    path: Path
    size: int

    @property
    def label(self) -> str:
        """What the form shows: the file's name and size, "book.txt (3.2 MB)"."""
        return f"{self.path.name} ({size_text(self.size)})"


@dataclass
class ChosenInputs:
    """The manifest's inputs and the file chosen for each (none at first)."""

    inputs: Sequence[InputFile]
    files: dict[str, ChosenFile] = field(default_factory=dict)

    def choose(self, name: str, path: Path) -> ChosenFile:
        """Take `path` as the input `name` (its size read, never its content)."""
        if name not in {item.name for item in self.inputs}:
            raise InputFileError(f"The app has no input called {name!r}.")
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InputFileError(
                f"{path} cannot be read ({exc.strerror}); choose another file."
            ) from None
        if not path.is_file():
            raise InputFileError(f"{path} is not a file; choose a file.")
        self.files[name] = ChosenFile(path, size)
        return self.files[name]

    def clear(self, name: str) -> None:
        self.files.pop(name, None)

    def named(self) -> list[str]:
        """The inputs with a file, in the manifest's order."""
        return [item.name for item in self.inputs if item.name in self.files]

    def paths(self) -> dict[str, Path]:
        """What to upload: each input with a file, by name."""
        return {name: self.files[name].path for name in self.named()}

    def problem(self, params: Mapping[str, Any], file_params: Iterable[str]) -> str | None:
        """None when every file param names an input with a file, else what to choose."""
        have = set(self.named())
        for name in file_params:
            if params.get(name) not in have:
                return NO_FILE_YET
        return None


def size_text(size: int) -> str:
    """A file size for people: "512 bytes", "3.2 MB", "1.5 GB" (powers of 1000)."""
    if size < 1000:
        return f"{size} byte{'s' if size != 1 else ''}"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def uploading_text(chosen: ChosenFile) -> str:
    """The progress line while a file goes to the grid: "Uploading book.txt (3.2 MB)…"."""
    return f"Uploading {chosen.label}…"

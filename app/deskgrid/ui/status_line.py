"""A one-line message under a form or pane: errors as sentences, confirmations, progress.

The line keeps its place while empty (one line's height), so the form above it does not jump
when a message appears; a longer message grows it."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

_STYLES = {
    "error": "color: #8c1d18; background: #fde7e9; border: 1px solid #f2b8b5;"
    " border-radius: 4px; padding: 6px;",
    "info": "padding: 6px; border: 1px solid transparent;",
    "ok": "color: #1e4620; background: #e6f4ea; border: 1px solid #b7dfc1;"
    " border-radius: 4px; padding: 6px;",
}


class StatusLine(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.kind = "info"
        self.clear_message()
        # one line of text, the padding and the border of every kind of message
        self.setMinimumHeight(self.fontMetrics().lineSpacing() + 2 * 6 + 2)

    def show_message(self, text: str, kind: str = "info") -> None:
        self.kind = kind
        self.setText(text)
        self.setStyleSheet(_STYLES.get(kind, ""))

    def error(self, text: str) -> None:
        self.show_message(text, "error")

    def info(self, text: str) -> None:
        self.show_message(text, "info")

    def ok(self, text: str) -> None:
        self.show_message(text, "ok")

    def clear_message(self) -> None:
        self.show_message("", "info")

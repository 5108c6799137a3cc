"""One balance: a caption over a large exact amount."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget


class BalanceCard(QFrame):
    def __init__(self, caption: str, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.caption = QLabel(caption)
        self.caption.setEnabled(False)
        self.value = QLabel("—")
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.value.setFont(font)
        if hint:
            self.setToolTip(hint)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)

    def set_amount(self, text: str, exact: str | None = None) -> None:
        """Show `text`; `exact` (when it was rounded for display) goes in the tooltip."""
        self.value.setText(text)
        self.value.setToolTip(f"{exact} exactly" if exact and exact != text else text)

    def clear(self) -> None:
        self.value.setText("—")

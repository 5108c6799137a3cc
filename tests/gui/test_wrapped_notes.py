"""The wrapped notes of the wallet dialogs (the Withdraw and Deposit notes, the note shown
when no system keyring is available) are shown whole, also with a large system font: each
label is as tall as its text needs at its width."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QLabel

from deskgrid.ui.escrow_dialog import EscrowDialog
from deskgrid.ui.import_wallet_dialog import ImportWalletDialog

pytestmark = pytest.mark.gui


async def _store(*_args: object) -> None:
    return None


def _dialogs() -> list[tuple[str, QDialog]]:
    return [
        ("withdraw", EscrowDialog(None, "withdraw")),  # type: ignore[arg-type]
        ("deposit", EscrowDialog(None, "deposit")),  # type: ignore[arg-type]
        ("import", ImportWalletDialog(_store, lambda name: name, True)),
    ]


@pytest.mark.parametrize("point_size", [None, 16])
def test_every_wrapped_note_is_shown_whole(qtbot, point_size: int | None) -> None:
    app = QApplication.instance()
    font = app.font()
    if point_size is not None:
        large = app.font()
        large.setPointSize(point_size)
        app.setFont(large)
    try:
        for name, dialog in _dialogs():
            qtbot.addWidget(dialog)
            dialog.show()
            qtbot.waitExposed(dialog)
            notes = [
                label
                for label in dialog.findChildren(QLabel)
                if label.wordWrap() and label.isVisible() and label.text()
            ]
            assert notes, f"the {name} dialog shows no wrapped note"
            for label in notes:
                needed = label.heightForWidth(label.width())
                assert label.height() >= needed, (name, label.text(), label.height(), needed)
            dialog.close()
    finally:
        app.setFont(font)

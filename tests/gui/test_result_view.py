"""The VanityGen result view: the address QR is shown with the result; the private key's QR
only while its toggle is on, and the toggle is off again for every new result."""

from __future__ import annotations

import pytest

from deskgrid.ui.qr import qr_pixmap
from deskgrid.ui.result_view import QR_SIZE, ResultView

pytestmark = pytest.mark.gui

ADDRESS = "1LoveYouxxxxxxxxxxxxxxxxxxxxxxxxxx"
WIF = "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn"


def _same(label_pixmap, text: str) -> bool:
    return label_pixmap.toImage() == qr_pixmap(text, QR_SIZE).toImage()


def test_address_qr_shown_and_key_qr_only_after_the_toggle(qtbot):
    view = ResultView()
    qtbot.addWidget(view)
    assert view.isHidden() and view.address_qr.pixmap().isNull()

    view.show_result(ADDRESS, WIF)
    assert not view.isHidden()
    assert _same(view.address_qr.pixmap(), ADDRESS)
    assert not view.show_key_qr.isChecked()
    assert view.key_qr.isHidden() and view.key_qr.pixmap().isNull()

    view.show_key_qr.click()
    assert view.show_key_qr.isChecked() and not view.key_qr.isHidden()
    assert _same(view.key_qr.pixmap(), WIF)
    assert not _same(view.key_qr.pixmap(), ADDRESS)
    assert view.show_key_qr.text() == "Hide private key QR"

    view.show_key_qr.click()
    assert view.key_qr.isHidden() and view.key_qr.pixmap().isNull()

    # a new result starts with its key's QR hidden again
    view.show_key_qr.click()
    view.show_result("1Other", "L1other")
    assert not view.show_key_qr.isChecked() and view.key_qr.pixmap().isNull()
    assert _same(view.address_qr.pixmap(), "1Other")

    view.clear()
    assert view.isHidden() and view.address_qr.pixmap().isNull()


def test_the_whole_key_and_address_fit_their_fields(qtbot):
    view = ResultView()
    qtbot.addWidget(view)
    view.show_result(ADDRESS, WIF)
    view.show_wif.click()  # shown in clear
    view.show()
    qtbot.waitExposed(view)
    for edit, text in ((view.address, ADDRESS), (view.wif, WIF)):
        margins = edit.textMargins().left() + edit.textMargins().right()
        assert edit.contentsRect().width() - margins >= edit.fontMetrics().horizontalAdvance(text)

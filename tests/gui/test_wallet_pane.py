"""The wallet pane on the embedded demo chain: send through the dialog, sentences for bad
input, escrow, faucet, create / import / lock / unlock."""

from __future__ import annotations

import json

import keyring
import pytest
from eth_account import Account
from keyring.backends import fail
from PySide6.QtCore import Qt

from deskgrid.chain.keyfile import encrypt_keystore
from deskgrid.wallet.keystores import FileKeyStore
from tests.gui.conftest import BOOT_TIMEOUT_MS, TX_TIMEOUT_MS

pytestmark = pytest.mark.gui

DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_send_rlc_end_to_end(qtbot, booted):
    pane = booted.panes["wallet"]
    recipient = Account.create().address
    click(qtbot, pane.send_button)
    dialog = pane.dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.recipient.setText(recipient)
    dialog.amount.setText("12.345678901")
    click(qtbot, dialog.review_button)
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 1, timeout=TX_TIMEOUT_MS)
    assert dialog.review_what.text() == f"Send 12.345678901 RLC to {recipient}"
    assert dialog.review_fee.text().startswith("up to 0.")
    click(qtbot, dialog.confirm_button)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=TX_TIMEOUT_MS)
    assert pane.status.text().startswith("Sent 12.345678901 RLC")
    qtbot.waitUntil(lambda: pane.rlc_card.value.text() == "987.654321099 RLC", timeout=5000)
    assert pane.history.status_of(0) == "mined"
    assert pane.history.text_of(0, "Amount") == "−12.345678901 RLC"
    assert pane.history.text_of(0, "In/Out") == "Out"
    service = booted.controller.session.service
    assert service.rlc.balance_of(recipient) == 12_345_678_901


@pytest.mark.parametrize(
    "to, amount, sentence",
    [
        ("0x1234", "1", "is not an Ethereum recipient address"),
        (DEV_ADDRESS.replace("f39Fd", "f39fD"), "1", "wrong mix of capital letters"),
        (DEV_ADDRESS, "1.0000000001", "more than 9 decimal places"),
        (DEV_ADDRESS, "1e3", "is not an amount of RLC"),
        (DEV_ADDRESS, "5000", "you cannot send 5,000 RLC"),
    ],
)
def test_bad_address_or_amount_shows_a_sentence(qtbot, booted, to, amount, sentence):
    pane = booted.panes["wallet"]
    click(qtbot, pane.send_button)
    dialog = pane.dialog
    dialog.recipient.setText(to)
    dialog.amount.setText(amount)
    click(qtbot, dialog.review_button)
    qtbot.waitUntil(lambda: dialog.status.kind == "error", timeout=TX_TIMEOUT_MS)
    assert sentence in dialog.status.text()
    assert "Traceback" not in dialog.status.text()
    assert dialog.pages.currentIndex() == 0 and dialog.isVisible()
    dialog.reject()


def test_deposit_withdraw_and_faucet(qtbot, booted):
    pane = booted.panes["wallet"]
    for action, amount, escrow in (("deposit", "100", "100 RLC"), ("withdraw", "40.5", "59.5 RLC")):
        pane.open_escrow(action)
        dialog = pane.dialog
        dialog.amount.setText(amount)
        click(qtbot, dialog.review_button)
        qtbot.waitUntil(lambda d=dialog: d.pages.currentIndex() == 1, timeout=TX_TIMEOUT_MS)
        click(qtbot, dialog.confirm_button)
        qtbot.waitUntil(lambda d=dialog: not d.isVisible(), timeout=TX_TIMEOUT_MS)
        qtbot.waitUntil(lambda e=escrow: pane.escrow_card.value.text() == e, timeout=5000)
    assert pane.rlc_card.value.text() == "940.5 RLC"
    click(qtbot, pane.faucet_button)
    qtbot.waitUntil(lambda: "faucet sent RLC and ETH" in pane.status.text(), timeout=TX_TIMEOUT_MS)
    qtbot.waitUntil(lambda: pane.rlc_card.value.text() == "1,940.5 RLC", timeout=5000)


def test_a_transaction_of_ours_moves_the_head_at_once(qtbot, make_window):
    window = make_window(block_interval=600.0)  # the periodic poll would not come in time
    with qtbot.waitSignal(window.controller.booted, timeout=BOOT_TIMEOUT_MS):
        window.start()
    pane = window.panes["wallet"]
    qtbot.waitUntil(lambda: pane.balances is not None, timeout=TX_TIMEOUT_MS)
    before = pane.rlc_card.value.text()
    click(qtbot, pane.faucet_button)
    qtbot.waitUntil(lambda: "faucet sent RLC and ETH" in pane.status.text(), timeout=TX_TIMEOUT_MS)
    head = window.controller.backend.chain.block_number()
    qtbot.waitUntil(lambda: window.block_label.text() == f"Block {head:,}", timeout=5000)
    qtbot.waitUntil(lambda: pane.rlc_card.value.text() != before, timeout=5000)


def test_create_wallet_shows_the_phrase_once_and_checks_three_words(qtbot, booted):
    pane = booted.panes["wallet"]
    click(qtbot, pane.create_button)
    dialog = pane.dialog
    dialog.name.setText("Savings")
    click(qtbot, dialog.next_button)
    words = [label.text().split(". ")[1] for label in dialog.word_labels]
    assert len(words) == 12 and not dialog.back_button.isVisible()
    click(qtbot, dialog.next_button)
    assert "tick the box" in dialog.status.text()
    dialog.written.setChecked(True)
    click(qtbot, dialog.next_button)
    assert dialog.back_button.isVisible()
    assert [label.text() for label in dialog.answer_labels] == [
        f"Word {p + 1}" for p in dialog.positions
    ]  # each field says which word it wants
    for edit in dialog.answers:
        edit.setText("wrong")
    click(qtbot, dialog.next_button)
    assert f"Word {dialog.positions[0] + 1} does not match" in dialog.status.text()
    click(qtbot, dialog.back_button)  # "go back": the same phrase again
    assert dialog.pages.currentIndex() == 1 and not dialog.back_button.isVisible()
    assert [label.text().split(". ")[1] for label in dialog.word_labels] == words
    click(qtbot, dialog.next_button)
    assert dialog.back_button.isVisible()
    for edit, position in zip(dialog.answers, dialog.positions, strict=True):
        edit.setText(words[position])
    click(qtbot, dialog.next_button)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=TX_TIMEOUT_MS)
    assert dialog.new is None and all(not label.text() for label in dialog.word_labels)
    session = booted.controller.session
    assert session.current().name == "Savings"
    assert pane.account.name.text() == "Savings"
    settings_text = (booted.controller.settings.path).read_text()
    assert " ".join(words) not in settings_text
    qtbot.waitUntil(lambda: pane.rlc_card.value.text() == "0 RLC", timeout=5000)


def test_import_with_keystore_backend_then_lock_and_unlock(qtbot, make_window):
    keyring.set_keyring(fail.Keyring())  # no usable keyring: encrypted files and passwords
    window = make_window()
    window.controller.manager.new_store = FileKeyStore(scrypt_n=2**10)
    window.controller.manager.stores["keystore"] = window.controller.manager.new_store
    with qtbot.waitSignal(window.controller.booted, timeout=BOOT_TIMEOUT_MS):
        window.start()
    pane = window.panes["wallet"]
    click(qtbot, pane.import_button)
    dialog = pane.dialog
    assert dialog.needs_password
    dialog.tabs.setCurrentIndex(1)
    dialog.phrase.setPlainText(DEV_MNEMONIC)
    dialog.name.setText("Dev")
    dialog.password.setText("short")
    dialog.repeat.setText("short")
    click(qtbot, dialog.import_button)
    assert "at least 8 characters" in dialog.status.text()
    dialog.password.setText("a long password")
    dialog.repeat.setText("a long password")
    click(qtbot, dialog.import_button)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=TX_TIMEOUT_MS)
    session = window.controller.session
    assert session.address == DEV_ADDRESS and not session.locked

    qtbot.waitUntil(lambda: pane.rlc_card.value.text() != "—", timeout=5000)
    unlocked_rlc = pane.rlc_card.value.text()
    click(qtbot, pane.lock_button)
    assert session.locked and pane.locked_banner.isVisible()
    assert not pane.send_button.isEnabled() and not pane.deposit_button.isEnabled()
    # locked, the wallet still shows what anyone can read: its address and balances
    assert pane.account.address_label.text() == DEV_ADDRESS
    qtbot.waitUntil(lambda: pane.rlc_card.value.text() == unlocked_rlc, timeout=5000)
    assert "(locked)" in pane.chooser.currentText()
    click(qtbot, pane.unlock_button)
    prompt = pane.dialog
    prompt.password.setText("not it")
    click(qtbot, prompt.ok_button)
    qtbot.waitUntil(lambda: prompt.status.kind == "error", timeout=TX_TIMEOUT_MS)
    assert "password does not open" in prompt.status.text()
    prompt.password.setText("a long password")
    click(qtbot, prompt.ok_button)
    qtbot.waitUntil(lambda: not prompt.isVisible(), timeout=TX_TIMEOUT_MS)
    assert not session.locked and not pane.locked_banner.isVisible()
    assert pane.send_button.isEnabled()


def test_import_keystore_file(qtbot, booted, tmp_path):
    account = Account.create()
    path = tmp_path / "key.json"
    path.write_text(json.dumps(encrypt_keystore(account, "file password", scrypt_n=2**10)))
    pane = booted.panes["wallet"]
    pane.open_import()
    dialog = pane.dialog
    dialog.tabs.setCurrentIndex(2)
    dialog.keystore_path.setText(str(path))
    dialog.keystore_password.setText("wrong")
    click(qtbot, dialog.import_button)
    qtbot.waitUntil(lambda: dialog.status.kind == "error", timeout=TX_TIMEOUT_MS)
    assert "password does not open" in dialog.status.text()
    dialog.keystore_password.setText("file password")
    click(qtbot, dialog.import_button)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=TX_TIMEOUT_MS)
    assert booted.controller.session.address == account.address


def test_a_message_does_not_move_the_pane_above_it(qtbot, booted):
    pane = booted.panes["wallet"]
    pane.status.clear_message()
    qtbot.wait(50)
    before = pane.views.geometry()
    pane.status.ok("Copied the address to the clipboard.")
    qtbot.wait(50)
    assert pane.views.geometry() == before
    pane.status.error("A sentence.")
    qtbot.wait(50)
    assert pane.views.geometry() == before

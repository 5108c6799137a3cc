"""The Volunteer pane's "Stake" card: the payout account's stake on the hub (staked, locked by
tasks being computed, free), its reputation (results that won / were out-voted), what stake is
for, and the buttons to stake, unstake and, when nothing is free to stake, deposit first.
Display only: the pane decides who signs and opens the dialogs."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QWidget

from deskgrid.chain.contracts import StakeInfo
from deskgrid.money import format_rlc

PURPOSE = (
    "Jobs of apps without a verifier go only to volunteers with stake; each replica locks "
    "30 % of the task's price; an out-voted result loses it."
)


def reputation_text(stake: StakeInfo) -> str:
    """ "3 wins / 1 loss": results that agreed with the consensus, and that were out-voted."""
    wins = f"{stake.wins:,} win{'' if stake.wins == 1 else 's'}"
    losses = f"{stake.losses:,} loss{'' if stake.losses == 1 else 'es'}"
    return f"{wins} / {losses}"


class StakeCard(QGroupBox):
    stake_clicked = Signal()
    unstake_clicked = Signal()
    deposit_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Stake", parent)
        self.purpose = QLabel(PURPOSE)
        self.purpose.setWordWrap(True)
        self.staked = QLabel("—")
        self.locked = QLabel("—")
        self.free = QLabel("—")
        self.reputation = QLabel("—")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setVisible(False)
        self.stake_button = QPushButton("Stake…")
        self.unstake_button = QPushButton("Unstake…")
        self.deposit_button = QPushButton("Deposit…")
        self.deposit_button.setToolTip("Deposit RLC from the open wallet into the hub escrow")
        self.deposit_button.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.stake_button)
        buttons.addWidget(self.unstake_button)
        buttons.addWidget(self.deposit_button)
        buttons.addStretch(1)
        form = QFormLayout(self)
        form.addRow(self.purpose)
        form.addRow("Staked", self.staked)
        form.addRow("Locked by tasks", self.locked)
        form.addRow("Free", self.free)
        form.addRow("Reputation", self.reputation)
        form.addRow(buttons)
        form.addRow(self.note)
        self.stake_button.clicked.connect(self.stake_clicked)
        self.unstake_button.clicked.connect(self.unstake_clicked)
        self.deposit_button.clicked.connect(self.deposit_clicked)

    def show_stake(self, stake: StakeInfo) -> None:
        self.staked.setText(format_rlc(stake.amount))
        self.locked.setText(format_rlc(stake.locked))
        self.free.setText(format_rlc(stake.free))
        self.reputation.setText(reputation_text(stake))

    def say(self, sentence: str, *, deposit: bool = False) -> None:
        """A sentence under the buttons (empty: none); `deposit` offers Deposit… beside them."""
        self.note.setText(sentence)
        self.note.setVisible(bool(sentence))
        self.deposit_button.setVisible(deposit)

"""The history of the current wallet, newest first: every movement of its RLC and ETH, with
its direction (in / out), what it was (a send, a job payment, a refund, a reward, an escrow
deposit or withdrawal, a network fee...), the side it moved (the wallet, or its escrow on the
hub), the exact amount, the other side, the block, the state (pending, mined, confirmed,
failed) and the transaction."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from deskgrid.chain.addresses import short_address
from deskgrid.money import format_eth, format_rlc
from deskgrid.wallet.history import TxRecord

COLUMNS = (
    "When",
    "In/Out",
    "What",
    "Account",
    "Amount",
    "With",
    "Block",
    "Status",
    "Transaction",
)
WHAT, AMOUNT, WITH, STATUS = (COLUMNS.index(c) for c in ("What", "Amount", "With", "Status"))
_WHAT = {
    "send": "Sent",
    "receive": "Received",
    "deposit": "Deposit to escrow",
    "withdraw": "Withdrawal from escrow",
    "faucet": "Demo faucet",
    "payment": "Job payment",
    "refund": "Refund",
    "reward": "Reward",
    "fee": "Network fee",
    "stake": "Stake",
    "unstake": "Unstake",
    "slashed": "Stake slashed",
}
_ACCOUNT = {"wallet": "Wallet", "escrow": "Escrow", "stake": "Stake"}
_STATUS_COLOURS = {
    "pending": "#b26a00",
    "mined": "#2e7d32",
    "confirmed": "#2e7d32",
    "failed": "#c62828",
}
_DIRECTION = {"in": "In", "out": "Out"}


def amount_text(record: TxRecord) -> str:
    shown = format_rlc(record.amount) if record.asset == "RLC" else format_eth(record.amount)
    return ("−" if record.direction == "out" else "+") + shown


def _state(record: TxRecord, head: int | None, depth: int | None) -> str:
    if record.status != "mined" or head is None or not depth:
        return record.status
    return f"mined · {min(record.confirmations(head), depth)} of {depth} confirmations"


class HistoryTable(QTableWidget):
    def __init__(self) -> None:
        super().__init__(0, len(COLUMNS))
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.setShowGrid(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.records: list[TxRecord] = []
        self.head: int | None = None

    def show_records(
        self, records: list[TxRecord], head: int | None = None, depth: int | None = None
    ) -> None:
        """Show `records`; with the newest block `head` and the confirmation `depth`, a mined
        record's state says how many blocks are on top of it."""
        if records == self.records and head == self.head:
            return
        self.records, self.head = list(records), head
        self.setRowCount(len(records))
        for row, record in enumerate(records):
            when = dt.datetime.fromtimestamp(record.created_at).strftime("%Y-%m-%d %H:%M")
            cells = (
                when,
                _DIRECTION[record.direction],
                _WHAT.get(record.kind, record.kind),
                _ACCOUNT[record.account],
                amount_text(record),
                short_address(record.counterparty),
                f"{record.block_number:,}" if record.block_number is not None else "—",
                _state(record, head, depth),
                record.tx_hash,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == WHAT and record.task_id:
                    item.setToolTip(f"Task {record.task_id}")
                if column == AMOUNT:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                    if record.fee_wei:
                        item.setToolTip(f"Network fee: {format_eth(record.fee_wei)}")
                if column == WITH:
                    item.setToolTip(record.counterparty)
                if column == STATUS:
                    colour = _STATUS_COLOURS.get(record.status, _STATUS_COLOURS["pending"])
                    item.setForeground(QBrush(QColor(colour)))
                    if record.error:
                        item.setToolTip(record.error)
                self.setItem(row, column, item)

    def text_of(self, row: int, column: str) -> str:
        """The text of a cell, by column title."""
        item = self.item(row, COLUMNS.index(column))
        return item.text() if item is not None else ""

    def status_of(self, row: int) -> str:
        """The record's state (pending, mined, confirmed, failed)."""
        return self.records[row].status

"""A worker stand-in for GUI tests: no grid, statuses pushed by the test."""

from __future__ import annotations

import asyncio
import dataclasses

from eth_account import Account

from deskgrid.worker.status import WorkerStatus
from deskgrid.worker.worker import WorkerConfig


class FakeWorker:
    made: list[FakeWorker] = []

    def __init__(self, config: WorkerConfig, account=None) -> None:
        self.config = config
        self.account = account or Account.create()
        self.preferences = config.preferences
        self.paused_by_user = False
        self.on_status = None
        self.status = WorkerStatus(address=self.account.address)
        FakeWorker.made.append(self)

    def push(self, **changes: object) -> None:
        self.status = dataclasses.replace(self.status, **changes)
        if self.on_status is not None:
            self.on_status(self.status)

    async def run(self, stop: asyncio.Event) -> None:
        self.push(state="idle", reason="Waiting for work from the grid.")
        await stop.wait()
        self.push(state="stopped", reason="Stopped.")

"""One grid: database (migrated), data store, scheduler, authenticator and limits, wired
together; the HTTP layer and the embeddable server both sit on it."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError

from deskgrid.apps.sdk import AppSpec
from deskgrid.grid.auth import Authenticator, bound_url
from deskgrid.grid.catalog import LiveCatalog
from deskgrid.grid.clock import Clock, SystemClock
from deskgrid.grid.collection import Collector
from deskgrid.grid.config import GridConfig
from deskgrid.grid.data_access import DataAccess
from deskgrid.grid.datastore import DataStore
from deskgrid.grid.db import Database
from deskgrid.grid.events import EventBell
from deskgrid.grid.longpoll import LongPoll
from deskgrid.grid.migrations import upgrade
from deskgrid.grid.ratelimit import RateLimiter
from deskgrid.grid.retention import Retention
from deskgrid.grid.scheduler import Scheduler
from deskgrid.grid.stakes import StakeBook
from deskgrid.grid.tokens import load_submitter_tokens
from deskgrid.grid.uploads import UploadGuard

log = logging.getLogger(__name__)
T = TypeVar("T")


class GridService:
    def __init__(
        self,
        config: GridConfig,
        catalog: Mapping[str, AppSpec],
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        stakes: StakeBook | None = None,
    ) -> None:
        """`stakes`: where stakeholders' free stake is read (None: nobody has stake)."""
        self.config = config
        self.catalog = LiveCatalog.of(catalog)  # read live, never copied
        self.clock = clock or SystemClock()
        self.db = Database(config.resolved_db_url())
        try:
            self.schema_version = upgrade(self.db)
        except OperationalError as exc:  # unreachable server, unwritable file
            self.db.close()
            raise self.db.cannot_open(exc) from exc
        self.data = DataStore(config.resolved_data_dir() / "data", self.db, clock=self.clock)
        self.uploads = UploadGuard(self.db, config, self.clock, self.data.root)
        self.access = DataAccess(self.db, self.clock, self.catalog)  # who reads what
        self.retention = Retention(self.db, config, self.clock)
        self.collector = Collector(
            self.db, self.data, config, self.clock, keep=lambda: self.catalog.archives
        )
        self.bell = EventBell()
        self.longpoll = LongPoll(self.bell)  # work requests and event reads that wait
        self.scheduler = Scheduler(
            self.db,
            self.catalog,
            self.data,
            config,
            clock=self.clock,
            rng=rng,
            bell=self.bell,
            stakes=stakes,
        )
        tokens, self.token_file = load_submitter_tokens(config)
        self.submitter_tokens = tuple(tokens)
        self.auth = Authenticator(self.db, config, self.clock, tokens)
        if config.public_url is None and config.port:
            self.auth.set_origin(bound_url(config.host, config.port))
        on = config.rate_limit_per_s > 0
        keys = config.rate_limit_keys
        self.limiter = RateLimiter(config.rate_limit_per_s, config.rate_limit_burst, max_keys=keys)
        self.address_limiter = RateLimiter(
            config.address_rate_limit_per_s if on else 0.0,
            config.address_rate_limit_burst,
            max_keys=keys,
        )
        self.login_limiter = RateLimiter(
            config.login_rate_limit_per_s if on else 0.0,
            config.login_rate_limit_burst,
            max_keys=keys,
            what="sign-in requests",
        )

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """Run a blocking store call for a request: inline on SQLite (it has one writer at a
        time, so a thread would only add switching), in a thread on PostgreSQL (requests then
        overlap their round trips to the database instead of queueing behind them)."""
        if self.db.is_postgresql:
            return await asyncio.to_thread(call, *args)
        return call(*args)

    @property
    def token_path(self) -> Path | None:
        return self.token_file

    def housekeeping_once(self) -> dict[str, int]:
        """One round of housekeeping, its cleanup done to the end (tests, tools)."""
        done = self.scheduler.tick()
        for name, step in self.cleanup_steps():
            done[name] = 0
            while (count := step(self.config.cleanup_batch)) > 0:
                done[name] += count
                if count < self.config.cleanup_batch:
                    break
        return done

    def cleanup_steps(self) -> list[tuple[str, Callable[[int], int]]]:
        """The cleanup's steps, each `step(batch) -> how many it looked at`."""
        return [
            ("jobs_forgotten", self.retention.forget_jobs),
            ("events_forgotten", self.retention.forget_events),
            ("blobs_examined", self.collector.collect_rows),
            ("files_examined", self.collector.collect_files),
        ]

    async def housekeeping(self) -> None:
        """Expire lost leases and passed deadlines, then forget finished jobs, old events and
        unreferenced data in small batches; runs until cancelled."""
        rounds = 0
        while True:
            await asyncio.sleep(self.config.reap_interval_s)
            rounds += 1
            try:
                await self.run(self.scheduler.tick)
                await self._cleanup(rounds)
            except Exception:  # a busy or restarting database: try again next round
                log.warning("grid housekeeping failed; retrying", exc_info=True)

    async def _cleanup(self, rounds: int) -> None:
        """Batches of each cleanup step while there is work, for at most a quarter of the
        round's interval, letting requests in between batches: a backlog (a grid upgraded
        with months of jobs) drains over many rounds and never holds the hot path up."""
        budget = time.monotonic() + self.config.reap_interval_s / 4
        batch = self.config.cleanup_batch
        for _name, step in self.cleanup_steps():
            while time.monotonic() < budget:
                count = await self.run(step, batch)
                await asyncio.sleep(0)
                if count < batch:
                    break
        if rounds % 600 == 1:
            await self.run(self.uploads.forget_old)

    def close(self) -> None:
        self.db.close()

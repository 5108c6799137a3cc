"""One grid: database (migrated), data store, scheduler, authenticator and limits, wired
together; the HTTP layer and the embeddable server both sit on it."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError

from deskgrid.apps.sdk import AppSpec
from deskgrid.grid.auth import Authenticator
from deskgrid.grid.clock import Clock, SystemClock
from deskgrid.grid.config import GridConfig
from deskgrid.grid.datastore import DataStore
from deskgrid.grid.db import Database
from deskgrid.grid.events import EventBell
from deskgrid.grid.migrations import upgrade
from deskgrid.grid.ratelimit import RateLimiter
from deskgrid.grid.scheduler import Scheduler
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
    ) -> None:
        self.config = config
        self.catalog = dict(catalog)
        self.clock = clock or SystemClock()
        self.db = Database(config.resolved_db_url())
        try:
            self.schema_version = upgrade(self.db)
        except OperationalError as exc:  # unreachable server, unwritable file
            self.db.close()
            raise self.db.cannot_open(exc) from exc
        self.data = DataStore(config.resolved_data_dir() / "data", self.db, clock=self.clock)
        self.uploads = UploadGuard(self.db, config, self.clock, self.data.root)
        self.bell = EventBell()
        self.scheduler = Scheduler(
            self.db, self.catalog, self.data, config, clock=self.clock, rng=rng, bell=self.bell
        )
        tokens, self.token_file = load_submitter_tokens(config)
        self.submitter_tokens = tuple(tokens)
        self.auth = Authenticator(self.db, config, self.clock, tokens)
        self.limiter = RateLimiter(config.rate_limit_per_s, config.rate_limit_burst)

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

    def housekeeping_once(self, *, prune: bool = True) -> dict[str, int]:
        done = self.scheduler.tick()
        if prune:
            cutoff = self.clock.now() - self.config.event_retention_s
            done["events_pruned"] = self.scheduler.events.prune(cutoff)
        return done

    async def housekeeping(self) -> None:
        """Expire lost leases and passed deadlines, forget old events; runs until cancelled."""
        rounds = 0
        while True:
            await asyncio.sleep(self.config.reap_interval_s)
            rounds += 1
            try:
                self.housekeeping_once(prune=rounds % 60 == 1)
            except Exception:  # a busy or restarting database: try again next round
                log.warning("grid housekeeping failed; retrying", exc_info=True)

    def close(self) -> None:
        self.db.close()

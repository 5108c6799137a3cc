"""Who may read which stored content (`GET`/`HEAD /data/{sha256}`).

A published app's task names its input files by sha256 on the chain, so digests are public
and knowing one proves nothing. The grid therefore decides by who asks:

* a submitter (the operator, the oracle) reads everything;
* a worker reads the inputs of the jobs it holds a live (IN_PROGRESS) lease on, the image
  archives of the published apps the grid serves, and the results of its own leases;
* a requester reads the content it uploaded itself (recorded once the grid has received and
  checked the bytes, so a digest alone claims nothing) and any lease's result: the grid
  cannot tell which requester paid which task, and a requester's result is encrypted to it
  unless it chose otherwise, so an unencrypted result is readable by any signed-in requester
  who knows its digest.

Each decision is one indexed query (`queries.WORKER_MAY_READ`, `REQUESTER_MAY_READ`); the
served archives are a set in memory (`LiveCatalog.archives`).
"""

from __future__ import annotations

from deskgrid.grid.catalog import LiveCatalog
from deskgrid.grid.clock import Clock
from deskgrid.grid.db import Database
from deskgrid.grid.queries import RECORD_UPLOAD, REQUESTER_MAY_READ, WORKER_MAY_READ
from deskgrid.grid.rawsql import Raw


class DataAccess:
    def __init__(self, db: Database, clock: Clock, catalog: LiveCatalog) -> None:
        self.db = db
        self.clock = clock
        self.catalog = catalog

    def record_upload(self, sha256: str, address: str) -> None:
        """The requester `address` uploaded `sha256` (its bytes received and checked)."""
        params = {"sha256": sha256, "address": address, "now": self.clock.now()}
        with self.db.write() as conn:
            Raw(conn).execute(RECORD_UPLOAD, params)

    def worker_may_read(self, worker: str, sha256: str) -> bool:
        """An input of a job the worker holds a live lease on, a served app's image archive,
        or a result of one of its leases."""
        if sha256 in self.catalog.archives:
            return True
        with self.db.read() as conn:
            return bool(Raw(conn).scalar(WORKER_MAY_READ, {"sha256": sha256, "worker": worker}))

    def requester_may_read(self, address: str, sha256: str) -> bool:
        """Content the requester uploaded itself, or a lease's result."""
        with self.db.read() as conn:
            params = {"sha256": sha256, "address": address}
            return bool(Raw(conn).scalar(REQUESTER_MAY_READ, params))

"""The oracle's own state, kept so that a restart at any moment neither misses nor
duplicates anything: the chain cursor, every task it has seen and how far it got, the
transactions it has sent, the stake it locked per grid lease, and a timeline of facts per
task."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine

from deskgrid.chain.trust import DEFAULT_TRUST

# 2: tasks have the trust level their requester paid for (`trust`, 1 for tasks stored before).
SCHEMA_VERSION = 2


class OracleTaskState(StrEnum):
    """How far the oracle got with one on-chain task."""

    NEW = "NEW"  # seen on chain, confirmed, not yet on the grid
    SUBMITTED = "SUBMITTED"  # a grid job runs it
    FINALIZING = "FINALIZING"  # result verified; finalize being sent
    FINALIZED = "FINALIZED"  # finalize mined
    FAILING = "FAILING"  # fail being sent (refund)
    FAILED = "FAILED"  # fail mined
    CLOSED = "CLOSED"  # closed on chain by someone else (claimed)

    @property
    def open(self) -> bool:
        return self not in (
            OracleTaskState.FINALIZED,
            OracleTaskState.FAILED,
            OracleTaskState.CLOSED,
        )


class StakeLockState(StrEnum):
    """The stake of one grid lease's stakeholder, locked on the hub for one task."""

    LOCKING = "LOCKING"  # lockStake being sent
    LOCKED = "LOCKED"  # lockStake mined: one contribution of the stakeholder is locked
    UNLOCKABLE = "UNLOCKABLE"  # lockStake refused it (not enough free stake): never retried
    RELEASING = "RELEASING"  # releaseStake being sent
    RELEASED = "RELEASED"  # releaseStake mined: unlocked without reward nor penalty
    SETTLED = "SETTLED"  # finalize mined: unlocked with a win, or slashed with a loss


class StakeOutcome(StrEnum):
    """What finalize does with a locked lease, decided when the job's vote is accepted."""

    WIN = "win"  # a VALID lease: its stake comes back with a win
    LOSE = "lose"  # an INVALID lease: its stake is slashed to the winners
    RELEASE = "release"  # no vote (expired, released, cancelled, unfinished): released first


FINAL_STATES = frozenset(
    {OracleTaskState.FINALIZED, OracleTaskState.FAILED, OracleTaskState.CLOSED}
)

metadata = MetaData()

meta = Table(
    "oracle_meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

cursor = Table(
    "oracle_cursor",
    metadata,
    Column("hub", Text, primary_key=True),
    Column("block", Integer, nullable=False),  # last block fully processed
    Column("block_hash", Text, nullable=False),
)

tasks = Table(
    "oracle_tasks",
    metadata,
    Column("task_id", Text, primary_key=True),  # 0x… 32 bytes
    Column("state", Text, nullable=False),
    Column("requester", Text, nullable=False),
    Column("app_id", Integer, nullable=False),
    Column("pool_id", Integer, nullable=False),
    Column("params", Text, nullable=False),
    Column("price", Integer, nullable=False),
    Column("trust", Integer, nullable=False, server_default=str(DEFAULT_TRUST)),
    Column("final_deadline", Integer, nullable=False),
    Column("block", Integer, nullable=False),
    Column("block_hash", Text, nullable=False),
    Column("app_name", Text),
    Column("job_id", Text),
    Column("result_digest", Text),
    Column("results", Text),  # hex of the bytes sent on chain
    Column("workers", Text),  # JSON [[address, weight], …]
    Column("reason", Text),
    Column("tx_hash", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

stake_locks = Table(
    "oracle_stake_locks",
    metadata,
    Column("lease_id", Text, primary_key=True),  # the grid lease the stake stands behind
    Column("task_id", Text, nullable=False, index=True),
    Column("account", Text, nullable=False),  # the lease's stakeholder
    Column("state", Text, nullable=False),
    Column("outcome", Text),  # StakeOutcome, once the job's vote is accepted
    Column("updated_at", Float, nullable=False),
)

timeline = Table(
    "oracle_timeline",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("task_id", Text, nullable=False, index=True),
    Column("kind", Text, nullable=False),
    Column("data", Text, nullable=False),  # JSON
    Column("at", Float, nullable=False),
)


@dataclass(frozen=True)
class OracleTask:
    task_id: str
    state: OracleTaskState
    requester: str
    app_id: int
    pool_id: int
    params: str
    price: int
    final_deadline: int
    block: int
    block_hash: str
    app_name: str | None
    job_id: str | None
    result_digest: str | None
    results: str | None
    workers: list[tuple[str, int]]
    reason: str | None
    tx_hash: str | None
    trust: int = DEFAULT_TRUST  # the level paid for on chain (1..5, `TaskRequested.trust`)


@dataclass(frozen=True)
class StakeLock:
    lease_id: str
    task_id: str
    account: str
    state: StakeLockState
    outcome: StakeOutcome | None


def _row_to_task(row: Any) -> OracleTask:
    return OracleTask(
        task_id=row.task_id,
        state=OracleTaskState(row.state),
        requester=row.requester,
        app_id=row.app_id,
        pool_id=row.pool_id,
        params=row.params,
        price=int(row.price),
        final_deadline=int(row.final_deadline),
        block=row.block,
        block_hash=row.block_hash,
        app_name=row.app_name,
        job_id=row.job_id,
        result_digest=row.result_digest,
        results=row.results,
        workers=[(a, int(w)) for a, w in json.loads(row.workers or "[]")],
        reason=row.reason,
        tx_hash=row.tx_hash,
        trust=int(row.trust),
    )


def _add_trust_column(conn: Any) -> None:
    """Schema 1 → 2: tasks stored before trust levels were requested at level 1 (the only
    price there was: the app's price and one pool fee)."""
    if "trust" in {c["name"] for c in inspect(conn).get_columns(tasks.name)}:
        return
    conn.execute(
        text(f"ALTER TABLE {tasks.name} ADD COLUMN trust INTEGER NOT NULL DEFAULT {DEFAULT_TRUST}")
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


class OracleStore:
    """SQLite (WAL) by default; any SQLAlchemy URL works."""

    def __init__(self, url_or_path: str | Path) -> None:
        url = str(url_or_path)
        if "://" not in url:
            Path(url).parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{url}"
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._migrate()

    def _migrate(self) -> None:
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            row = conn.execute(select(meta.c.value).where(meta.c.key == "schema")).first()
            if row is None:
                conn.execute(insert(meta).values(key="schema", value=str(SCHEMA_VERSION)))
                return
            version = int(row.value)
            if version > SCHEMA_VERSION:
                from deskgrid.errors import DeskGridError

                raise DeskGridError(
                    "The oracle database was written by a newer DeskGrid; upgrade DeskGrid."
                )
            if version < 2:
                _add_trust_column(conn)
            if version < SCHEMA_VERSION:
                conn.execute(
                    update(meta).where(meta.c.key == "schema").values(value=str(SCHEMA_VERSION))
                )

    def close(self) -> None:
        self.engine.dispose()

    # -- cursor -------------------------------------------------------------------------

    def get_cursor(self, hub: str) -> tuple[int, str] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(cursor).where(cursor.c.hub == hub)).first()
        return (row.block, row.block_hash) if row else None

    def set_cursor(self, hub: str, block: int, block_hash: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(cursor).where(cursor.c.hub == hub).values(block=block, block_hash=block_hash)
            ).rowcount
            if not done:
                conn.execute(insert(cursor).values(hub=hub, block=block, block_hash=block_hash))

    # -- tasks --------------------------------------------------------------------------

    def add_task(self, **fields: Any) -> bool:
        """Record a newly seen task; False when it was already known (duplicate event)."""
        now = time.time()
        with self.engine.begin() as conn:
            if conn.execute(
                select(tasks.c.task_id).where(tasks.c.task_id == fields["task_id"])
            ).first():
                return False
            conn.execute(
                insert(tasks).values(
                    state=OracleTaskState.NEW.value, created_at=now, updated_at=now, **fields
                )
            )
            self._add_event(
                conn,
                fields["task_id"],
                "requested",
                {
                    "block": fields["block"],
                    "price": fields["price"],
                    "trust": fields.get("trust", DEFAULT_TRUST),
                    "final_deadline": fields["final_deadline"],
                },
            )
        return True

    def task(self, task_id: str) -> OracleTask | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).first()
        return _row_to_task(row) if row else None

    def tasks_in(self, *states: OracleTaskState) -> list[OracleTask]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(tasks)
                .where(tasks.c.state.in_([s.value for s in states]))
                .order_by(tasks.c.block)
            ).all()
        return [_row_to_task(r) for r in rows]

    def all_tasks(self) -> list[OracleTask]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tasks).order_by(tasks.c.block)).all()
        return [_row_to_task(r) for r in rows]

    def update_task(
        self, task_id: str, *, event: tuple[str, dict[str, Any]] | None = None, **fields: Any
    ) -> None:
        """Change a task and (in the same transaction) add a timeline fact."""
        if "state" in fields and isinstance(fields["state"], OracleTaskState):
            fields["state"] = fields["state"].value
        if "workers" in fields and not isinstance(fields["workers"], str):
            fields["workers"] = json.dumps([[a, int(w)] for a, w in fields["workers"]])
        with self.engine.begin() as conn:
            conn.execute(
                update(tasks)
                .where(tasks.c.task_id == task_id)
                .values(updated_at=time.time(), **fields)
            )
            if event is not None:
                self._add_event(conn, task_id, *event)

    def forget_tasks_after(self, block: int) -> list[str]:
        """A reorg removed blocks after `block`: tasks first seen there must be seen again."""
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(tasks.c.task_id).where(tasks.c.block > block, tasks.c.state == "NEW")
            ).all()
            ids = [r.task_id for r in rows]
            if ids:
                conn.execute(tasks.delete().where(tasks.c.task_id.in_(ids)))
        return ids

    # -- stake locks --------------------------------------------------------------------

    def stake_locks(self, task_id: str) -> list[StakeLock]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(stake_locks)
                .where(stake_locks.c.task_id == task_id)
                .order_by(stake_locks.c.lease_id)
            ).all()
        return [
            StakeLock(
                r.lease_id,
                r.task_id,
                r.account,
                StakeLockState(r.state),
                StakeOutcome(r.outcome) if r.outcome else None,
            )
            for r in rows
        ]

    def add_stake_locks(
        self, task_id: str, leases: list[tuple[str, str]], state: StakeLockState
    ) -> None:
        """Record (lease id, stakeholder) pairs of a task in `state`."""
        now = time.time()
        with self.engine.begin() as conn:
            for lease_id, account in leases:
                conn.execute(
                    insert(stake_locks).values(
                        lease_id=lease_id,
                        task_id=task_id,
                        account=account,
                        state=state.value,
                        updated_at=now,
                    )
                )

    def set_stake_locks(
        self,
        lease_ids: list[str],
        *,
        state: StakeLockState | None = None,
        outcome: StakeOutcome | None = None,
    ) -> None:
        values: dict[str, Any] = {"updated_at": time.time()}
        if state is not None:
            values["state"] = state.value
        if outcome is not None:
            values["outcome"] = outcome.value
        with self.engine.begin() as conn:
            conn.execute(
                update(stake_locks).where(stake_locks.c.lease_id.in_(lease_ids)).values(**values)
            )

    def forget_stake_locks(self, lease_ids: list[str]) -> None:
        """Locks that were never mined: the leases may be locked again."""
        with self.engine.begin() as conn:
            conn.execute(stake_locks.delete().where(stake_locks.c.lease_id.in_(lease_ids)))

    def tasks_with_stake_locks(self, *states: StakeLockState) -> list[str]:
        """The tasks that have a lock in one of `states`."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(stake_locks.c.task_id)
                .where(stake_locks.c.state.in_([s.value for s in states]))
                .distinct()
            ).all()
        return sorted(r.task_id for r in rows)

    # -- timeline -----------------------------------------------------------------------

    @staticmethod
    def _add_event(conn: Any, task_id: str, kind: str, data: dict[str, Any]) -> None:
        conn.execute(
            insert(timeline).values(
                task_id=task_id, kind=kind, data=json.dumps(data), at=time.time()
            )
        )

    def add_event(self, task_id: str, kind: str, data: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            self._add_event(conn, task_id, kind, data)

    def events(self, task_id: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        query = select(timeline).where(timeline.c.seq > since).order_by(timeline.c.seq)
        if task_id is not None:
            query = query.where(timeline.c.task_id == task_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            {"seq": r.seq, "task_id": r.task_id, "kind": r.kind, "at": r.at, **json.loads(r.data)}
            for r in rows
        ]

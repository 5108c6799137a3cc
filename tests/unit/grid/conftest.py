"""A scheduler on a fresh SQLite file with a manual clock, and workers to drive it."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from deskgrid.apps.sdk import AppSpec
from deskgrid.grid.clock import ManualClock
from deskgrid.grid.config import GridConfig, JobDefaults
from deskgrid.grid.datastore import DataStore
from deskgrid.grid.db import Database
from deskgrid.grid.migrations import upgrade
from deskgrid.grid.models import Capabilities, DataRef, JobSubmit, Lease
from deskgrid.grid.scheduler import Scheduler
from deskgrid.grid.stakes import StakeBook
from tests.grid_fixtures import catalog
from tests.integration.grid.conftest import fresh_database


@dataclass
class Harness:
    scheduler: Scheduler
    clock: ManualClock
    data: DataStore

    def worker(
        self, n: int, apps: tuple[str, ...] = ("echo", "sum"), payout: str | None = None, **caps
    ) -> str:
        address = "0x" + f"{n:040x}"
        capabilities = Capabilities(apps=list(apps), **caps)
        self.scheduler.register_worker(address, f"w{n}", capabilities, payout)
        return address

    def submit(self, app: str = "echo", **fields) -> str:
        params = fields.pop("params", {"message": "hello"})
        job, _ = self.scheduler.submit(JobSubmit(app=app, params=params, **fields))
        return job.id

    def lease(self, worker: str, n: int = 1) -> list[Lease]:
        return self.scheduler.request_work(worker, n).leases

    def upload(self, worker: str, lease_id: str, content: bytes):
        ref: DataRef = self.data.put_bytes(content)
        return self.scheduler.upload_result(worker, lease_id, ref)

    def job(self, job_id: str):
        job = self.scheduler.store.get_job(job_id)
        assert job is not None
        return job


def make_harness(
    tmp_path: Path,
    db_url: str | None = None,
    stakes: StakeBook | None = None,
    apps: Mapping[str, AppSpec] | None = None,
    **config_fields,
) -> Harness:
    """A scheduler on a fresh SQLite file in `tmp_path`, or on the empty database `db_url`;
    `stakes`: the stakeholders' free stake (None: nobody has stake); `apps`: its catalog
    (default: the test apps)."""
    clock = ManualClock()
    defaults = config_fields.pop("defaults", JobDefaults(delay_bound=60.0))
    config = replace(GridConfig(data_dir=tmp_path), defaults=defaults, **config_fields)
    db = Database(db_url or f"sqlite:///{tmp_path / 'grid.db'}")
    upgrade(db)
    data = DataStore(tmp_path / "data", db, clock=clock)
    scheduler = Scheduler(
        db,
        catalog() if apps is None else apps,
        data,
        config,
        clock=clock,
        rng=random.Random(7),
        stakes=stakes,
    )
    return Harness(scheduler, clock, data)


@pytest.fixture
def grid(tmp_path: Path) -> Harness:
    return make_harness(tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (a SQLite file) or a fresh PostgreSQL database (skipped without one)."""
    if request.param == "sqlite":
        yield None
    else:
        yield from fresh_database(request.getfixturevalue("postgres_url"))


class Stakes(dict):
    """Free stakes a test gives its stakeholders: address -> nRLC (absent: none)."""

    on_chain = True

    def free_stake(self, owner: str) -> int:
        return self.get(owner, 0)


SUBMITTER = "submitter-token-for-tests"


@dataclass
class Api:
    client: object  # fastapi.testclient.TestClient
    service: object  # deskgrid.grid.service.GridService
    clock: ManualClock

    @property
    def submitter(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {SUBMITTER}"}

    @staticmethod
    def message(challenge: dict, payout: str | None = None) -> str:
        """The sign-in message a worker builds from a challenge's fields."""
        from deskgrid.grid.signin import SignInChallenge, sign_in_message

        return sign_in_message(SignInChallenge.model_validate(challenge), payout)

    def login(self, account=None, apps=("echo", "sum")) -> tuple[object, dict[str, str]]:
        from eth_account import Account
        from eth_account.messages import encode_defunct

        account = account or Account.create()
        challenge = self.client.post(
            "/api/v1/workers/challenge", json={"address": account.address}
        ).json()
        signed = account.sign_message(encode_defunct(text=self.message(challenge)))
        reply = self.client.post(
            "/api/v1/workers/login",
            json={
                "address": account.address,
                "nonce": challenge["nonce"],
                "signature": signed.signature.hex(),
                "capabilities": {"apps": list(apps), "cores": 2},
            },
        )
        assert reply.status_code == 200, reply.text
        return account, {"Authorization": f"Bearer {reply.json()['token']}"}


def make_api(tmp_path: Path, **config_fields) -> Api:
    from fastapi.testclient import TestClient

    from deskgrid.grid.api.app import create_app
    from deskgrid.grid.service import GridService

    clock = ManualClock()
    base = GridConfig(
        data_dir=tmp_path, submitter_tokens=(SUBMITTER,), public_url="http://testserver"
    )
    config = replace(base, **config_fields)
    service = GridService(config, catalog(), clock=clock, rng=random.Random(1))
    client = TestClient(create_app(service, housekeeping=False))
    return Api(client, service, clock)


@pytest.fixture
def api(tmp_path: Path):
    made = make_api(tmp_path)
    yield made
    made.service.close()

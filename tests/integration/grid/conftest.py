"""A fresh PostgreSQL database per test, dropped afterwards."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.engine.url import make_url

from deskgrid.grid.db import normalize_url


@pytest.fixture
def pg_grid_url(postgres_url: str):
    yield from fresh_database(postgres_url)


@pytest.fixture
def another_pg_grid_url(postgres_url: str):
    """A second fresh database, for a test that compares two grids."""
    yield from fresh_database(postgres_url)


def fresh_database(postgres_url: str):
    import psycopg

    base = make_url(normalize_url(postgres_url))
    name = f"grid_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

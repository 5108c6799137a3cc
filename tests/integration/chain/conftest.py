"""A real anvil process on loopback for the chain's integration tests."""

from __future__ import annotations

import pytest

from deskgrid.chain.anvil import AnvilNode, find_anvil
from tests.conftest import require


@pytest.fixture
def anvil():
    require(find_anvil() is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    node = AnvilNode().start()
    yield node
    node.stop()

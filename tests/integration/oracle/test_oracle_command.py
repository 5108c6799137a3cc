"""`deskgrid oracle`'s choices about the chain it runs on. Its default state file belongs to one
chain: a restarted anvil is a new chain whose hub has the same address (and whose tasks get the
same ids), so it must not inherit the old chain's cursor and tasks. And it says when the chain
mines only for transactions, where waiting for confirmations stalls every task."""

from __future__ import annotations

import time

import pytest

from deskgrid.chain.anvil import AnvilNode, find_anvil
from deskgrid.chain.connection import connect
from deskgrid.chain.deployment import Roles, deploy
from deskgrid.oracle.commands import default_db_path, warn_if_blocks_wait_for_transactions
from tests.conftest import require

pytestmark = pytest.mark.integration


def _deployed_hub_and_state_file() -> tuple[str, str, int]:
    node = AnvilNode().start()
    try:
        chain = connect(node.url)
        try:
            hub = deploy(chain, Roles.dev(chain)).hub
            born = int(chain.w3.eth.get_block(0)["timestamp"])
            return hub, str(default_db_path(chain, hub)), born
        finally:
            chain.close()
    finally:
        node.stop()


def test_a_restarted_development_chain_gets_a_state_file_of_its_own() -> None:
    require(find_anvil() is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    first_hub, first, born = _deployed_hub_and_state_file()
    while time.time() < born + 1:  # anvil's genesis holds its start time, in whole seconds
        time.sleep(0.1)
    second_hub, second, _ = _deployed_hub_and_state_file()
    assert first_hub == second_hub  # the same deployer and nonces: the same address
    assert first != second


def test_a_development_chain_leaves_a_state_file_without_genesis_alone(deskgrid_home) -> None:
    require(find_anvil() is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    node = AnvilNode().start()
    try:
        chain = connect(node.url)
        hub = "0x" + "11" * 20
        older = deskgrid_home / "oracle" / f"oracle-{chain.chain_id}-{hub}.sqlite"
        older.parent.mkdir()
        older.write_bytes(b"")  # an oracle of an earlier version, on an earlier anvil
        assert default_db_path(chain, hub) != older
        assert chain.genesis_hash[2:14] in default_db_path(chain, hub).name
        chain.close()
    finally:
        node.stop()


@pytest.mark.parametrize(("block_time", "warned"), [(None, True), (1, False)])
def test_a_chain_that_mines_only_for_transactions_is_named(block_time, warned, caplog) -> None:
    require(find_anvil() is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    node = AnvilNode(block_time=block_time).start()
    try:
        chain = connect(node.url)
        warn_if_blocks_wait_for_transactions(chain, 2)
        assert ("start anvil with --block-time 1" in caplog.text) is warned
        caplog.clear()
        warn_if_blocks_wait_for_transactions(chain, 0)  # nothing to wait for
        assert caplog.text == ""
        chain.close()
    finally:
        node.stop()

"""On a real anvil process over JSON-RPC: the requester's public key recovered from its request
transaction (EIP-1559; EIP-2930 and legacy transfers too), and a result encrypted to it that
only the payer opens."""

from __future__ import annotations

import pytest

from deskgrid.chain.connection import connect
from deskgrid.chain.deployment import Roles, ensure_deployment
from deskgrid.chain.signer_keys import requester_public_key
from deskgrid.crypto.ecies import public_key_of
from tests.unit.chain.conftest import TEST_LISTINGS
from tests.unit.chain.test_signer_keys import (
    PLAIN_KINDS,
    check_result_reaches_only_the_payer,
    send_plain,
)

pytestmark = pytest.mark.integration


def test_the_payers_key_from_its_request_on_anvil(anvil):
    chain = connect(anvil.url)
    try:
        roles = Roles.dev(chain)
        deployment, _ = ensure_deployment(chain, roles, listings=TEST_LISTINGS)
        check_result_reaches_only_the_payer(chain, roles, deployment)
        for kind in PLAIN_KINDS:
            tx_hash = send_plain(chain, chain.dev_accounts[7], kind)
            assert requester_public_key(chain, tx_hash) == public_key_of(chain.dev_accounts[7].key)
    finally:
        chain.close()

"""The requester's public key recovered from its request transaction (found, as the oracle
finds it, through the TaskRequested event), then used to encrypt a result only that wallet
opens; legacy transactions too, and a transaction that is not there or does not add up."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import HubContract, RLCToken, TaskRequest
from deskgrid.chain.deployment import Deployment, Roles
from deskgrid.chain.reverts import ChainError
from deskgrid.chain.signer_keys import requester_public_key, signer_public_key
from deskgrid.chain.transactions import TxSender
from deskgrid.crypto.ecies import WrongKeyError, address_of, decrypt, encrypt, public_key_of


def request_tx_hash(chain: Chain, roles: Roles, deployment: Deployment, user: LocalAccount) -> str:
    """Pay a VanityGen task as `user`; the hash of the request transaction, read from the
    hub's TaskRequested event."""
    rlc, hub = RLCToken(chain, deployment.rlc), HubContract(chain, deployment.hub)
    price = hub.app(deployment.apps["vanity"]).price + hub.pool(deployment.pool_id).fee
    rlc.transfer(TxSender(chain, roles.faucet), user.address, price)
    request = TaskRequest(
        deployment.apps["vanity"], deployment.pool_id, "{}", price, 0, deployment.vanity_requester
    )
    task_id = hub.pay_and_request(TxSender(chain, user), rlc, request)
    [event] = hub.logs("TaskRequested", deployment.block, taskId=task_id)
    return event["transactionHash"].to_0x_hex()


def check_result_reaches_only_the_payer(chain, roles, deployment) -> None:
    """The oracle's side: the payer's key from the request; the app's side: only the payer's
    wallet opens the result."""
    user, other = chain.dev_accounts[4], chain.dev_accounts[5]
    public_key = requester_public_key(chain, request_tx_hash(chain, roles, deployment, user))
    assert public_key == public_key_of(user.key)
    assert address_of(public_key) == user.address
    blob = encrypt(public_key, b'{"address": "1LoVE..."}')
    assert decrypt(user.key, blob) == b'{"address": "1LoVE..."}'
    with pytest.raises(WrongKeyError):
        decrypt(other.key, blob)


def test_the_payers_key_from_the_request_transaction(market):
    check_result_reaches_only_the_payer(market.chain, market.roles, market.deployment)


def send_plain(chain: Chain, account: LocalAccount, kind: str) -> str:
    """A transfer signed as a legacy transaction (`eip155`, `pre-eip155`) or an EIP-2930 one
    (`eip2930`, with an access list); its hash once mined."""
    w3 = chain.w3
    tx = {
        "to": chain.dev_accounts[6].address,
        "value": 1,
        "gas": 30_000,
        "gasPrice": 2 * w3.eth.gas_price,
        "nonce": w3.eth.get_transaction_count(account.address),
    }
    if kind != "pre-eip155":
        tx["chainId"] = chain.chain_id
    if kind == "eip2930":
        tx["accessList"] = [{"address": chain.dev_accounts[6].address, "storageKeys": []}]
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    w3.eth.wait_for_transaction_receipt(tx_hash)
    return tx_hash.to_0x_hex()


PLAIN_KINDS = ["eip155", "pre-eip155", "eip2930"]


@pytest.mark.parametrize("kind", PLAIN_KINDS)
def test_legacy_and_access_list_transactions(market, kind):
    account = market.account(7)
    with market.chain.lock:
        tx_hash = send_plain(market.chain, account, kind)
    assert int(market.chain.w3.eth.get_transaction(tx_hash)["type"]) == (kind == "eip2930")
    assert requester_public_key(market.chain, tx_hash) == public_key_of(account.key)


def test_a_transaction_that_is_not_there(market):
    with pytest.raises(ChainError, match="There is no transaction 0x0000.*check the"):
        requester_public_key(market.chain, "0x" + "00" * 32)


def test_a_changed_field_recovers_someone_else(market):
    """What a lying node would answer: the signature no longer recovers the sender."""
    user = market.account(4)
    tx_hash = request_tx_hash(market.chain, market.roles, market.deployment, user)
    tx = dict(market.chain.w3.eth.get_transaction(tx_hash))
    assert signer_public_key(tx).to_checksum_address() == user.address
    tx["value"] = 1
    assert signer_public_key(tx).to_checksum_address() != user.address


def test_an_unknown_transaction_type_is_refused(market):
    tx_hash = request_tx_hash(market.chain, market.roles, market.deployment, market.account(4))
    tx = dict(market.chain.w3.eth.get_transaction(tx_hash), type=3)
    with pytest.raises(ChainError, match="type 3 are not supported"):
        signer_public_key(tx)

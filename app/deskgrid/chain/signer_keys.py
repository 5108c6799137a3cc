"""The public key of whoever signed a transaction, recovered from its signature.

The requester's request transaction carries its wallet's signature, so the oracle and the grid
can encrypt results to the payer (`deskgrid.crypto.ecies`) without asking for a key."""

from __future__ import annotations

from typing import Any

from eth_account._utils.legacy_transactions import serializable_unsigned_transaction_from_dict
from eth_keys import keys as eth_keys
from eth_keys.exceptions import BadSignature, ValidationError
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from deskgrid.chain.connection import Chain
from deskgrid.chain.reverts import ChainError

# The fields each transaction type signs (names as a node answers eth_getTransactionByHash).
SIGNED_FIELDS: dict[int, tuple[str, ...]] = {
    0: ("nonce", "gasPrice", "gas", "to", "value", "input"),
    1: ("chainId", "nonce", "gasPrice", "gas", "to", "value", "input", "accessList"),
    2: (
        "chainId",
        "nonce",
        "maxPriorityFeePerGas",
        "maxFeePerGas",
        "gas",
        "to",
        "value",
        "input",
        "accessList",
    ),
}


def requester_public_key(chain: Chain, tx_hash: str | bytes) -> bytes:
    """The compressed public key (33 bytes) of the account that signed the transaction
    `tx_hash` (the requester, for a request transaction), checked against its sender."""
    with chain.lock:
        try:
            tx = chain.w3.eth.get_transaction(HexBytes(tx_hash))
        except TransactionNotFound:
            tx = None
    if tx is None:
        raise ChainError(
            f"There is no transaction {HexBytes(tx_hash).to_0x_hex()} on chain "
            f"{chain.chain_id}: check the transaction hash and the network."
        )
    key = signer_public_key(dict(tx))
    if key.to_checksum_address() != tx["from"]:
        raise ChainError(
            f"The signature of transaction {HexBytes(tx_hash).to_0x_hex()} does not recover "
            f"its sender {tx['from']}: the node answered a transaction that does not add up; "
            "use another node."
        )
    return key.to_compressed_bytes()


def signer_public_key(tx: dict[str, Any]) -> eth_keys.PublicKey:
    """The public key that signed `tx`, a transaction as a node returns it (with v, r, s)."""
    kind = int(tx.get("type", 0))
    if kind not in SIGNED_FIELDS:
        raise ChainError(
            f"Transactions of type {kind} are not supported here: pay with an ordinary "
            "(legacy, EIP-2930 or EIP-1559) transaction."
        )
    unsigned = {field: tx[field] for field in SIGNED_FIELDS[kind] if field in tx}
    unsigned["data"] = unsigned.pop("input", b"")
    v = int(tx["v"])
    if kind == 0:
        if v in (27, 28):
            recovery = v - 27
        else:  # EIP-155: v = 35 + 2 * chain id + recovery id
            unsigned["chainId"], recovery = divmod(v - 35, 2)
    else:
        unsigned["type"] = kind
        recovery = int(tx.get("yParity", tx.get("y_parity", v)))
    if unsigned.get("to") is None:
        unsigned.pop("to", None)
    message_hash = serializable_unsigned_transaction_from_dict(unsigned).hash()
    r, s = (int.from_bytes(HexBytes(tx[name]), "big") for name in ("r", "s"))
    try:
        signature = eth_keys.Signature(vrs=(recovery, r, s))
        return signature.recover_public_key_from_msg_hash(message_hash)
    except (BadSignature, ValidationError) as exc:
        raise ChainError(
            f"The transaction's signature cannot be read ({exc}): use another node."
        ) from None

"""TxSender.observed: the hash and nonce are reported after signing and before the node sees
the transaction, then again once the node accepted it; a failing report stops the send."""

from __future__ import annotations

import pytest
from web3.exceptions import TransactionNotFound


def test_the_hash_is_known_before_the_node_sees_the_transaction(market):
    sender = market.sender(3)
    seen: list[tuple[str, object]] = []

    def signed(tx_hash: str, nonce: int) -> None:
        with pytest.raises(TransactionNotFound):
            market.chain.w3.eth.get_transaction(tx_hash)  # not sent yet
        seen.append(("signed", (tx_hash, nonce)))

    with sender.observed(signed, lambda h: seen.append(("accepted", h))):
        result = market.rlc.approve(sender, market.hub.address, 1)
    [(first, (tx_hash, nonce)), (second, accepted)] = seen
    assert (first, second) == ("signed", "accepted")
    assert tx_hash == accepted == result.tx_hash
    assert nonce == market.chain.w3.eth.get_transaction(tx_hash)["nonce"]
    market.rlc.approve(sender, market.hub.address, 2)  # outside the block: not reported
    assert len(seen) == 2


def test_a_failing_report_sends_nothing_and_frees_the_nonce(market):
    sender = market.sender(3)
    count = market.chain.w3.eth.get_transaction_count(sender.address)

    def refuse(_tx_hash: str, _nonce: int) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError), sender.observed(refuse):
        market.rlc.approve(sender, market.hub.address, 1)
    assert market.chain.w3.eth.get_transaction_count(sender.address) == count
    result = market.rlc.approve(sender, market.hub.address, 1)  # the same nonce, no gap
    assert market.chain.w3.eth.get_transaction(result.tx_hash)["nonce"] == count

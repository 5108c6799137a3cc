"""Whose a task's refund is, on the embedded chain: a task left active past its deadline is
claimed back into the requester's escrow, with the pool owner's stake the task locked for its
beneficiary; a task the scheduler failed is already refunded; a task
paid through the VanityRequester is withdrawn by its payer (after a claim when it was left
active); another wallet is told whose refund it is and cannot take it."""

from __future__ import annotations

import pytest
from eth_account import Account

from deskgrid.chain.contracts import TaskRequest, VanityRequesterContract
from deskgrid.chain.deployment import Roles
from deskgrid.chain.transactions import TxSender
from deskgrid.desktop.task_refunds import refund_of, take_refund
from deskgrid.errors import DeskGridError
from deskgrid.money import parse_rlc
from deskgrid.wallet.service import WalletService

PARAMS = '{"pattern":"1A"}'
LATE = 30 * 86_400


def _direct(service: WalletService, deployment) -> bytes:
    request = TaskRequest(deployment.apps["vanity"], deployment.pool_id, PARAMS, parse_rlc("10"))
    return service.hub.pay_and_request(service.sender, service.rlc, request)


def _through_contract(service: WalletService, requester: VanityRequesterContract) -> bytes:
    return requester.request(service.sender, service.rlc, PARAMS, parse_rlc("10"))


def _scheduler(service: WalletService) -> TxSender:
    return TxSender(service.chain, Roles.dev(service.chain).scheduler)


def _other(chain, deployment) -> WalletService:
    other = WalletService(chain, deployment, Account.create())
    other.faucet()
    return other


def test_a_late_task_is_claimed_back_into_the_requesters_escrow(wallet, market):
    chain, deployment = market
    task = _direct(wallet, deployment)
    price = wallet.hub.task(task).price
    running = refund_of(wallet.hub, wallet.address, task)
    assert running.way == "not_due" and not running.claimable
    assert "still running" in running.sentence
    with pytest.raises(DeskGridError, match="still running"):
        take_refund(wallet.hub, wallet.sender, running)

    chain.advance_time(LATE)
    late = refund_of(wallet.hub, wallet.address, task)
    stake = price * 3_000 // 10_000  # the pool owner's stake the request locked
    assert (late.way, late.amount, late.claimable) == ("claim", price, True)
    assert late.compensation == stake == wallet.hub.task(task).pool_stake_locked
    assert "passed its final deadline" in late.sentence and late.into == "your escrow on the hub"
    assert "of the pool's stake for the delay" in late.sentence
    other = _other(chain, deployment)
    theirs = refund_of(other.hub, other.address, task)
    assert theirs.way == "not_yours" and wallet.address in theirs.sentence
    assert theirs.compensation == 0
    with pytest.raises(DeskGridError, match="open that wallet"):
        take_refund(other.hub, other.sender, late)  # someone else's refund, even if claimable

    escrow = wallet.hub.balance_of(wallet.address)
    assert take_refund(wallet.hub, wallet.sender, late) == price
    assert wallet.hub.balance_of(wallet.address) == escrow + price + stake
    done = refund_of(wallet.hub, wallet.address, task)
    assert done.way == "returned" and "went back to your escrow" in done.sentence


def test_a_task_the_scheduler_failed_is_already_refunded(wallet, market):
    chain, deployment = market
    task = _direct(wallet, deployment)
    wallet.hub.fail(_scheduler(wallet), task, "invalid params: pattern")
    refund = refund_of(wallet.hub, wallet.address, task)
    assert refund.way == "returned" and not refund.claimable


def test_the_vanity_requester_gives_a_refund_to_its_payer_only(wallet, market):
    chain, deployment = market
    requester = VanityRequesterContract(chain, deployment.vanity_requester)
    failed = _through_contract(wallet, requester)
    late = _through_contract(wallet, requester)
    price = wallet.hub.task(failed).price
    wallet.hub.fail(_scheduler(wallet), failed, "the grid gave up")

    refund = refund_of(wallet.hub, wallet.address, failed, requester=requester)
    assert (refund.way, refund.amount, refund.payer) == ("withdraw", price, wallet.address)
    assert "VanityRequester holds" in refund.sentence and refund.into == "your wallet"
    other = _other(chain, deployment)
    theirs = refund_of(other.hub, other.address, failed, requester=requester)
    assert theirs.way == "not_yours" and wallet.address in theirs.sentence
    rlc = wallet.rlc.balance_of(wallet.address)
    assert take_refund(wallet.hub, wallet.sender, refund, requester=requester) == price
    assert wallet.rlc.balance_of(wallet.address) == rlc + price
    assert refund_of(wallet.hub, wallet.address, failed, requester=requester).way == "returned"

    chain.advance_time(LATE)
    claim = refund_of(wallet.hub, wallet.address, late, requester=requester)
    assert claim.way == "claim_and_withdraw" and claim.claimable
    # The payer is the task's beneficiary: the pool's stake goes to its escrow on the hub.
    assert claim.compensation == price * 3_000 // 10_000
    with pytest.raises(DeskGridError, match="VanityRequester of this network is not known"):
        take_refund(wallet.hub, wallet.sender, claim)  # without the contract: said, not half-done
    escrow = wallet.hub.balance_of(wallet.address)
    assert take_refund(wallet.hub, wallet.sender, claim, requester=requester) == price
    assert wallet.rlc.balance_of(wallet.address) == rlc + 2 * price
    assert wallet.hub.balance_of(wallet.address) == escrow + claim.compensation

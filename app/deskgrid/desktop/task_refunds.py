"""Whose refund a task's price is, and taking it back.

A task that ends without a result gives its price back, but not always by itself:
- failed by the pool's scheduler: the hub puts the price back in its requester's escrow at once;
- still active past its final deadline: anyone may `claim` it on the hub, which puts the price
  back in its requester's escrow and gives the task's beneficiary (its payer, unless it named
  another) the pool owner's stake the task locked (30 % of the price), for the pool's delay;
- paid through the VanityRequester (the contract is then the hub's requester): the hub refunds
  the contract, which keeps each payer's part until that payer takes it (`withdrawRefund`),
  after a `claim` when the task was left active past its deadline.
`refund_of` reads which case a task is in for one wallet (blocking chain reads), and
`take_refund` sends what that case needs from the wallet. A refund that belongs to another
account says whose it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from deskgrid.chain.contracts import HubContract, TaskStatus, VanityRequesterContract
from deskgrid.chain.transactions import TxSender
from deskgrid.errors import DeskGridError
from deskgrid.money import format_rlc

RefundWay = Literal[
    "claim",  # active past its deadline, requested by this wallet: claim on the hub
    "claim_and_withdraw",  # the same, paid through the VanityRequester: claim, then withdraw
    "withdraw",  # failed, paid through the VanityRequester: the payer withdraws it
    "returned",  # already back in this wallet's escrow (or wallet)
    "not_due",  # running, or finalized: nothing to refund
    "not_yours",  # another account's refund
]
CLAIMABLE: frozenset[RefundWay] = frozenset({"claim", "claim_and_withdraw", "withdraw"})


@dataclass(frozen=True)
class Refund:
    """What can be done about one task's price, for one wallet, and the sentence that says it."""

    task_id: bytes
    way: RefundWay
    amount: int  # nRLC
    payer: str  # the account the refund belongs to
    sentence: str
    through_contract: bool = False  # paid through the VanityRequester
    # The pool owner's stake a claim gives this wallet as the task's beneficiary (nRLC), into
    # its escrow on the hub; 0 when there is nothing to claim or another account gets it.
    compensation: int = 0

    @property
    def claimable(self) -> bool:
        return self.way in CLAIMABLE

    @property
    def into(self) -> str:
        """Where the refund lands (or landed): the payer's wallet when the VanityRequester
        held it, else the requester's escrow on the hub."""
        return "your wallet" if self.through_contract else "your escrow on the hub"


def _short(task_id: bytes) -> str:
    return f"0x{task_id.hex()[:8]}…"


def refund_of(
    hub: HubContract,
    wallet: str,
    task_id: bytes,
    *,
    requester: VanityRequesterContract | None = None,
    now: int | None = None,
) -> Refund:
    """Which refund `task_id` has for `wallet` (blocking). `requester`: the VanityRequester,
    whose payers' refunds it holds; `now`: the chain's time (read when not given)."""
    task = hub.task(task_id)
    through_contract = requester is not None and task.requester.lower() == requester.address.lower()
    if through_contract:
        assert requester is not None
        paid = requester.request_of(task_id)
        payer, owed = paid.user, paid.amount
    else:
        payer, owed = task.requester, task.price
    amount = task.price
    mine = payer.lower() == wallet.lower()
    short = _short(task_id)

    def refund(way: RefundWay, sentence: str, compensation: int = 0) -> Refund:
        return Refund(task_id, way, amount, payer, sentence, through_contract, compensation)

    if task.status is TaskStatus.COMPLETED:
        return refund("not_due", f"Task {short} was finalized: there is nothing to refund.")
    if task.status is TaskStatus.UNSET:
        return refund("not_due", f"Task {short} is not on this chain.")
    if task.status is TaskStatus.ACTIVE:
        moment = hub.chain.timestamp() if now is None else now
        if moment < task.final_deadline:
            return refund(
                "not_due",
                f"Task {short} is still running: its price can be claimed back only if it is "
                "not done by its final deadline.",
            )
    if not mine:
        return refund(
            "not_yours",
            f"The refund of task {short} belongs to {payer}, which paid it, not to this "
            "wallet: open that wallet to claim it.",
        )
    if task.status is TaskStatus.ACTIVE:  # past its final deadline
        way: RefundWay = "claim_and_withdraw" if through_contract else "claim"
        beneficiary = task.beneficiary.lower() == wallet.lower()
        compensation = task.pool_stake_locked if beneficiary else 0
        extra = (
            f", and {format_rlc(compensation)} of the pool's stake for the delay"
            if compensation
            else ""
        )
        return refund(
            way,
            f"Task {short} passed its final deadline without a result: claim its "
            f"{format_rlc(amount)} back{extra}.",
            compensation,
        )
    # FAILED: failed by the scheduler, or claimed after its deadline
    if through_contract and owed > 0:
        return refund(
            "withdraw",
            f"The VanityRequester holds the {format_rlc(owed)} of task {short} for you: "
            "claim it back into your wallet.",
        )
    where = "your wallet" if through_contract else "your escrow on the hub"
    return refund("returned", f"The {format_rlc(amount)} of task {short} went back to {where}.")


def take_refund(
    hub: HubContract,
    sender: TxSender,
    refund: Refund,
    *,
    requester: VanityRequesterContract | None = None,
) -> int:
    """Claim (and withdraw) a claimable refund from `sender`'s wallet (blocking); returns the
    price given back (a claim's `compensation` lands in the escrow on top of it). A refund that
    cannot be claimed is refused with its sentence."""
    if not refund.claimable:
        raise DeskGridError(refund.sentence)
    if refund.payer.lower() != sender.address.lower():
        raise DeskGridError(
            f"The refund of task {_short(refund.task_id)} belongs to {refund.payer}: open that "
            "wallet to claim it."
        )
    withdraw = refund.way in ("withdraw", "claim_and_withdraw")
    if withdraw and requester is None:  # said before anything is sent: nothing half done
        raise DeskGridError(
            "The VanityRequester of this network is not known to the app, so the refund it "
            "holds cannot be taken from here: choose a network whose deployment is recorded."
        )
    if refund.way in ("claim", "claim_and_withdraw"):
        hub.claim(sender, refund.task_id)
    if withdraw:
        assert requester is not None
        requester.withdraw_refund(sender, refund.task_id)
    return refund.amount

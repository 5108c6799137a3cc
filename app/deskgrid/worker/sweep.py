"""Sweeping a worker key: its free hub escrow balance withdrawn and its RLC (and, if asked, its
ETH minus the fee) sent to the volunteer's wallet.

A worker key is paid when it signed in without a payout address (or before one was set). It
pays the network fees itself, so it needs a little ETH; without it nothing is sent and the
sentence says how much to send to it. `plan_sweep` checks everything first (nothing to
withdraw, no ETH for the fee) and `execute_sweep` carries the plan out. Blocking; call it off
the GUI thread.

    plan = plan_sweep(hub, rlc, worker_account, wallet_address, include_eth=False)
    done = execute_sweep(plan)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount

from deskgrid.chain.addresses import check_address
from deskgrid.chain.contracts import HubContract, RLCToken
from deskgrid.chain.reverts import ChainError
from deskgrid.chain.transactions import TxSender
from deskgrid.errors import DeskGridError
from deskgrid.money import format_eth, format_fee, format_rlc, parse_eth

WITHDRAW_GAS = 100_000  # the hub's withdraw: a balance and an ERC-20 transfer
RLC_TRANSFER_GAS = 80_000  # an ERC-20 transfer to a new holder takes about 52,000
ETH_TRANSFER_GAS = 21_000
SUGGESTED_ETH = parse_eth("0.001")


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep will move, checked against the key's balances and the fee."""

    sender: TxSender = field(repr=False)
    hub: HubContract = field(repr=False)
    rlc: RLCToken = field(repr=False)
    worker: str
    to: str
    escrow: int  # nRLC free on the hub, withdrawn first
    held: int  # nRLC the key already holds
    eth: int  # wei the key holds
    fee_wei: int  # the most the transactions may cost
    include_eth: bool

    @property
    def rlc_total(self) -> int:
        return self.escrow + self.held

    def describe(self) -> str:
        """One sentence for a confirmation step."""
        what = f"Withdraw {format_rlc(self.rlc_total)} from worker {self.worker}"
        if self.include_eth:
            what += " with its ETH left after the fee"
        return f"{what} to {self.to}."


@dataclass(frozen=True)
class SweepResult:
    rlc_sent: int  # nRLC
    eth_sent: int  # wei
    fee_wei: int  # what the transactions cost
    tx_hashes: list[str]

    def describe(self, to: str) -> str:
        sent = format_rlc(self.rlc_sent)
        if self.eth_sent:
            sent += f" and {format_eth(self.eth_sent)}"
        return f"Sent {sent} to {to} (network fee {format_fee(self.fee_wei)})."


def plan_sweep(
    hub: HubContract, rlc: RLCToken, worker: LocalAccount, to: str, *, include_eth: bool = False
) -> SweepPlan:
    """Check that the worker key has something to sweep and ETH for the fee."""
    to = check_address(to, what="address to withdraw to")
    if to == worker.address:
        raise DeskGridError(
            "That is the worker's own address: withdraw to your wallet's address instead."
        )
    sender = TxSender(hub.chain, worker)
    escrow = hub.balance_of(worker.address)
    held = rlc.balance_of(worker.address)
    with hub.chain.lock:
        eth = int(hub.chain.w3.eth.get_balance(worker.address))
    if escrow == 0 and held == 0 and not (include_eth and eth > 0):
        raise DeskGridError(
            f"The worker {worker.address} has nothing to withdraw: no RLC is credited to it on "
            "the hub and it holds none. Its rewards go to the payout address when one is set."
        )
    if eth == 0:
        raise _no_eth(worker.address, None, eth)
    try:  # the price of gas now; the amounts of gas are bounds (an estimate needs the ETH)
        max_fee = sender.quote(to=worker.address, value=0).max_fee_per_gas
    except ChainError:
        raise _no_eth(worker.address, None, eth) from None
    gas = WITHDRAW_GAS if escrow else 0
    if escrow or held:
        gas += RLC_TRANSFER_GAS
    if include_eth:
        gas += ETH_TRANSFER_GAS
    fee = gas * max_fee
    if eth < fee:
        raise _no_eth(worker.address, fee, eth)
    return SweepPlan(sender, hub, rlc, worker.address, to, escrow, held, eth, fee, include_eth)


def _no_eth(worker: str, fee: int | None, eth: int) -> DeskGridError:
    needed = f"up to {format_fee(fee)}; " if fee is not None else ""
    suggested = max(SUGGESTED_ETH, fee or 0)
    return DeskGridError(
        f"The worker {worker} has no ETH to pay the network fee ({needed}it holds "
        f"{format_eth(eth)}): send {format_eth(suggested)} to {worker} from your wallet, then "
        "withdraw again."
    )


def execute_sweep(plan: SweepPlan) -> SweepResult:
    """Withdraw the escrow, send the RLC (and the ETH left minus its fee) to `plan.to`."""
    hashes: list[str] = []
    fee = 0
    if plan.escrow:
        # gas given, not estimated: some nodes estimate only for a sender with ETH for a block
        withdraw = plan.hub.contract.functions.withdraw(plan.escrow)
        done = plan.sender.send(withdraw, gas=WITHDRAW_GAS)
        hashes.append(done.tx_hash)
        fee += done.fee_wei
    rlc_sent = plan.rlc.balance_of(plan.worker)
    if rlc_sent:
        transfer = plan.rlc.contract.functions.transfer(plan.to, rlc_sent)
        done = plan.sender.send(transfer, gas=RLC_TRANSFER_GAS)
        hashes.append(done.tx_hash)
        fee += done.fee_wei
    eth_sent = 0
    if plan.include_eth:
        quote = plan.sender.quote(to=plan.to, value=0)
        with plan.hub.chain.lock:
            balance = int(plan.hub.chain.w3.eth.get_balance(plan.worker))
        value = balance - quote.max_cost_wei
        if value > 0:
            done = plan.sender.send(to=plan.to, value=value, gas=quote.gas)
            hashes.append(done.tx_hash)
            fee += done.fee_wei
            eth_sent = value
    return SweepResult(rlc_sent, eth_sent, fee, hashes)

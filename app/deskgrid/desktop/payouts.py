"""What the Volunteer pane shows about money, Qt-free: what the payout address earned (the
hub's `Rewarded` events, `desktop.earnings`), what it can withdraw (its free escrow), its stake
and reputation on the hub, and the worker key's own credit, which `withdraw_plan` /
`withdraw` sweep to a wallet (`worker.sweep`). Blocking; the UI calls it through
`asyncio.to_thread`."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount

from deskgrid.chain.contracts import HubContract, RLCToken, StakeInfo
from deskgrid.desktop.earnings import EarningsLedger
from deskgrid.worker.sweep import SweepPlan, SweepResult, execute_sweep, plan_sweep


@dataclass(frozen=True)
class PayoutView:
    payout: str
    earned: int  # nRLC: the sum of the Rewarded events to the payout address
    available: int  # nRLC: the payout address's free escrow (what it can withdraw)
    per_task: list[tuple[int, int]] = field(default_factory=list)  # (time, running total)
    per_day: list[tuple[int, int]] = field(default_factory=list)
    stake: StakeInfo = StakeInfo(0, 0, 0, 0)  # the payout address's stake and reputation
    worker: str | None = None
    worker_credit: int = 0  # nRLC free in escrow for the worker key itself
    worker_rlc: int = 0  # nRLC the worker key holds
    worker_eth: int = 0  # wei the worker key holds (it pays the withdrawal's fee)


class Payouts:
    """One hub's view of a volunteer's money; keeps one earnings ledger per address."""

    def __init__(self, hub: HubContract, *, kept: bool | None = None) -> None:
        """`kept`: ledgers kept in the data folder (default: except on a development chain,
        which is thrown away and may be made again with the same addresses)."""
        self.hub = hub
        self.kept = not hub.chain.is_dev if kept is None else kept
        self._rlc: RLCToken | None = None
        self._ledgers: dict[str, EarningsLedger] = {}
        self._lock = threading.Lock()  # one refresh of a ledger at a time

    @property
    def rlc(self) -> RLCToken:
        if self._rlc is None:
            self._rlc = RLCToken(self.hub.chain, self.hub.token())
        return self._rlc

    def ledger(self, address: str) -> EarningsLedger:
        found = self._ledgers.get(address)
        if found is None:
            if self.kept:
                found = EarningsLedger.kept(self.hub, address)
            else:
                found = EarningsLedger(self.hub, address)
            self._ledgers[address] = found
        return found

    def read(self, payout: str, worker: str | None) -> PayoutView:
        """Earnings of `payout` (new blocks read first), its stake, and the worker key's
        balances."""
        with self._lock:
            ledger = self.ledger(payout)
            ledger.refresh()
            view = PayoutView(
                payout=payout,
                earned=ledger.total,
                available=self.hub.balance_of(payout),
                per_task=ledger.per_task(),
                per_day=ledger.per_day(),
                stake=self.hub.stake_info(payout),
            )
        if worker is None:
            return view
        with self.hub.chain.lock:
            eth = int(self.hub.chain.w3.eth.get_balance(worker))
        return dataclasses.replace(
            view,
            worker=worker,
            worker_credit=self.hub.balance_of(worker),
            worker_rlc=self.rlc.balance_of(worker),
            worker_eth=eth,
        )

    def withdraw_plan(self, worker: LocalAccount, to: str) -> SweepPlan:
        """Checked first: a sentence when there is nothing to withdraw or no ETH for the fee."""
        return plan_sweep(self.hub, self.rlc, worker, to)

    def withdraw(self, plan: SweepPlan) -> SweepResult:
        return execute_sweep(plan)

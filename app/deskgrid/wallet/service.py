"""What a wallet shows and does on one marketplace. `WalletReader` needs only the address:
balances, history (pending transactions settled from their receipts, mined ones confirmed
after the network's confirmation depth); a locked wallet shows them too. `WalletService` is an
unlocked wallet: sends (RLC, ETH) with a fee quote for a confirmation step, escrow deposit /
withdraw, stake / unstake (free escrow RLC in and out of its stake on the hub), everything else
that moved its assets found on the chain, the demo faucet.

Every method blocks on the chain: call them off the GUI thread (`asyncio.to_thread`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from eth_account.signers.local import LocalAccount
from web3.exceptions import TransactionNotFound, Web3Exception

from deskgrid.chain.addresses import check_address
from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import HubContract, RLCToken
from deskgrid.chain.faucet import DemoFaucet
from deskgrid.chain.reverts import ChainError, explain
from deskgrid.chain.transactions import FeeQuote, TxResult
from deskgrid.errors import DeskGridError
from deskgrid.money import format_eth, format_fee, format_rlc
from deskgrid.wallet.activity import AccountScanner
from deskgrid.wallet.history import Asset, Side, TxHistory, TxKind, TxRecord
from deskgrid.wallet.sender import RecordingTxSender

log = logging.getLogger(__name__)

Action = Literal["send", "deposit", "withdraw", "stake", "unstake"]


class Market(Protocol):
    """Where the marketplace is (a `Deployment` is one)."""

    rlc: str
    hub: str


@dataclass(frozen=True)
class Balances:
    eth: int  # wei
    rlc: int  # nRLC in the wallet
    escrow: int  # nRLC free in the hub escrow
    locked: int  # nRLC locked in the hub for active tasks
    block_number: int


@dataclass(frozen=True)
class Quote:
    """A checked action and what it may cost, for the confirmation step."""

    action: Action
    asset: Asset
    amount: int
    to: str
    fee: FeeQuote

    @property
    def max_fee_wei(self) -> int:
        return self.fee.max_cost_wei

    def describe(self) -> str:
        shown = format_rlc(self.amount) if self.asset == "RLC" else format_eth(self.amount)
        if self.action == "deposit":
            return f"Deposit {shown} into the hub escrow"
        if self.action == "withdraw":
            return f"Withdraw {shown} from the hub escrow"
        if self.action == "stake":
            return f"Stake {shown} of the hub escrow"
        if self.action == "unstake":
            return f"Unstake {shown} back into the hub escrow"
        return f"Send {shown} to {self.to}"


def _fmt(asset: Asset, amount: int) -> str:
    return format_rlc(amount) if asset == "RLC" else format_eth(amount)


class WalletReader:
    """What anyone may read of an address: balances and history (no key needed)."""

    def __init__(
        self,
        chain: Chain,
        market: Market,
        address: str,
        *,
        history: TxHistory | None = None,
        on_change: Callable[[], None] | None = None,
        confirmations: int = 1,
    ) -> None:
        """`confirmations`: blocks that must follow a record's block before it is
        "confirmed"."""
        self.chain = chain
        self.confirmations = confirmations
        self.address = address
        self.rlc = RLCToken(chain, market.rlc)
        self.hub = HubContract(chain, market.hub)
        self.history = history or TxHistory.for_address(chain.chain_id, chain.genesis_hash, address)
        self._market = market
        self.on_change = on_change

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # -- reading ------------------------------------------------------------------------

    def balances(self) -> Balances:
        with self.chain.lock:
            try:
                eth = int(self.chain.w3.eth.get_balance(self.address))
                block = int(self.chain.w3.eth.block_number)
            except Exception as exc:
                raise explain(exc) from None
            return Balances(
                eth=eth,
                rlc=self.rlc.balance_of(self.address),
                escrow=self.hub.balance_of(self.address),
                locked=self.hub.locked_of(self.address),
                block_number=block,
            )

    def records(self) -> list[TxRecord]:
        return self.history.records()

    def refresh_history(self) -> list[TxRecord]:
        """Settle pending records whose receipts have appeared and confirm the mined ones deep
        enough; returns the records."""
        changed = False
        for record in self.history.pending():
            changed |= self._settle(record.tx_hash) is not None
        try:
            head = self.chain.block_number()
        except (ChainError, OSError):  # a node that is away now answers on a later block
            head = None
        if head is not None and self.history.confirm(head, self.confirmations):
            changed = True
        if changed:
            self._changed()
        return self.records()

    def _settle(self, tx_hash: str) -> TxRecord | None:
        """Record the outcome of one of the wallet's own transactions from its receipt (its
        block and fee); None while it has none."""
        try:
            with self.chain.lock:
                receipt = self.chain.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None
        except (OSError, ValueError, Web3Exception) as exc:  # a node away now answers later
            log.info("reading the receipt of %s failed: %s", tx_hash, exc)
            return None
        ok = receipt["status"] == 1
        fee = int(receipt["gasUsed"]) * int(receipt.get("effectiveGasPrice", 0) or 0)
        return self.history.update(
            tx_hash,
            status="mined" if ok else "failed",
            block_number=int(receipt["blockNumber"]),
            fee_wei=fee,
            error=None if ok else "The transaction failed on chain.",
        )


class WalletService(WalletReader):
    def __init__(
        self,
        chain: Chain,
        market: Market,
        account: LocalAccount,
        *,
        history: TxHistory | None = None,
        faucet: DemoFaucet | None = None,
        on_change: Callable[[], None] | None = None,
        confirmations: int = 1,
    ) -> None:
        super().__init__(
            chain,
            market,
            account.address,
            history=history,
            on_change=on_change,
            confirmations=confirmations,
        )
        self.account = account
        self.sender = RecordingTxSender(chain, account)
        self.scanner = AccountScanner(
            chain,
            self.rlc,
            self.hub,
            self.address,
            self.history,
            faucet=getattr(market, "faucet", None) or (faucet.sender.address if faucet else None),
        )
        self._faucet = faucet

    def scan_chain(self) -> list[TxRecord]:
        """Add what moved the wallet's assets since the last scan to the history (transfers
        received, task payments, refunds, rewards, escrow movements, fees of transactions sent
        elsewhere), then settle and confirm; returns the records added."""
        added = self.scanner.scan()
        if added:
            self._changed()
        self.refresh_history()
        return added

    # -- checks and quotes --------------------------------------------------------------

    def _recipient(self, to: str) -> str:
        to = check_address(to, what="recipient address")
        if to == self.address:
            raise DeskGridError(
                "That is this wallet's own address: sending to it moves nothing; enter another "
                "recipient."
            )
        return to

    def _positive(self, amount: int, asset: Asset) -> None:
        if amount <= 0:
            raise DeskGridError(f"Enter an amount of {asset} above zero.")

    def _check_fee(self, fee: FeeQuote, eth: int, extra_wei: int = 0) -> None:
        need = fee.max_cost_wei + extra_wei
        if eth < need:
            if extra_wei:
                raise DeskGridError(
                    f"You have {format_eth(eth)}: not enough for {format_eth(extra_wei)} plus up "
                    f"to {format_fee(fee.max_cost_wei)} of network fee; send less."
                )
            raise DeskGridError(
                f"The network fee may reach {format_fee(fee.max_cost_wei)} and you have "
                f"{format_eth(eth)}; get some ETH for fees first."
            )

    def _need_some_eth(self, balances: Balances) -> None:
        if balances.eth == 0:
            raise DeskGridError(
                "This wallet has no ETH to pay the network fee; get some ETH for fees first."
            )

    def quote_with(self, quote: Callable[[RecordingTxSender], FeeQuote]) -> FeeQuote:
        """The fee of a transaction this wallet would sign that `quote` estimates (such as
        publishing an app), checked against the wallet's ETH: a sentence when it falls short."""
        balances = self.balances()
        self._need_some_eth(balances)
        fee = quote(self.sender)
        self._check_fee(fee, balances.eth)
        return fee

    def quote_send(self, asset: Asset, to: str, amount: int) -> Quote:
        """Check a send (address, amount, funds) and estimate its fee."""
        to = self._recipient(to)
        self._positive(amount, asset)
        balances = self.balances()
        self._need_some_eth(balances)
        if asset == "RLC":
            if balances.rlc < amount:
                raise DeskGridError(
                    f"You have {format_rlc(balances.rlc)}; you cannot send {format_rlc(amount)}."
                )
            fee = self.sender.quote(self.rlc.contract.functions.transfer(to, amount))
            self._check_fee(fee, balances.eth)
        elif asset == "ETH":
            if balances.eth < amount:
                raise DeskGridError(
                    f"You have {format_eth(balances.eth)}; you cannot send {format_eth(amount)}."
                )
            # The gas of a transfer does not depend on its value; estimating with the full
            # value would fail before the sentence below could say why.
            fee = self.sender.quote(to=to, value=0)
            self._check_fee(fee, balances.eth, amount)
        else:
            raise DeskGridError(f"'{asset}' cannot be sent from this wallet: choose RLC or ETH.")
        return Quote("send", asset, amount, to, fee)

    def quote_deposit(self, amount: int) -> Quote:
        self._positive(amount, "RLC")
        balances = self.balances()
        if balances.rlc < amount:
            raise DeskGridError(
                f"You have {format_rlc(balances.rlc)} in the wallet; you cannot deposit "
                f"{format_rlc(amount)}."
            )
        self._need_some_eth(balances)
        fn = self.rlc.contract.functions.approveAndCall(self.hub.address, amount, b"")
        fee = self.sender.quote(fn)
        self._check_fee(fee, balances.eth)
        return Quote("deposit", "RLC", amount, self.hub.address, fee)

    def quote_withdraw(self, amount: int) -> Quote:
        self._positive(amount, "RLC")
        balances = self.balances()
        if balances.escrow < amount:
            raise DeskGridError(
                f"{format_rlc(balances.escrow)} is free in the escrow; you cannot withdraw "
                f"{format_rlc(amount)} (RLC locked for active tasks comes back when they end)."
            )
        self._need_some_eth(balances)
        fee = self.sender.quote(self.hub.contract.functions.withdraw(amount))
        self._check_fee(fee, balances.eth)
        return Quote("withdraw", "RLC", amount, self.hub.address, fee)

    def quote_stake(self, amount: int) -> Quote:
        """Check a stake (free escrow, ETH for the fee) and estimate its fee."""
        self._positive(amount, "RLC")
        balances = self.balances()
        if balances.escrow == 0:
            raise DeskGridError(
                "Nothing is free in the hub escrow to stake: deposit RLC into the escrow first."
            )
        if balances.escrow < amount:
            raise DeskGridError(
                f"{format_rlc(balances.escrow)} is free in the escrow; you cannot stake "
                f"{format_rlc(amount)} (deposit more RLC into the escrow first)."
            )
        self._need_some_eth(balances)
        fee = self.sender.quote(self.hub.contract.functions.stake(amount))
        self._check_fee(fee, balances.eth)
        return Quote("stake", "RLC", amount, self.hub.address, fee)

    def quote_unstake(self, amount: int) -> Quote:
        """Check an unstake (only stake no task holds locked) and estimate its fee."""
        self._positive(amount, "RLC")
        stake = self.hub.stake_info(self.address)
        if stake.free < amount:
            locked = (
                f"; {format_rlc(stake.locked)} is locked by tasks being computed and comes "
                "free when they end"
                if stake.locked
                else ""
            )
            raise DeskGridError(
                f"{format_rlc(stake.free)} of your stake is free; you cannot unstake "
                f"{format_rlc(amount)}{locked}."
            )
        balances = self.balances()
        self._need_some_eth(balances)
        fee = self.sender.quote(self.hub.contract.functions.unstake(amount))
        self._check_fee(fee, balances.eth)
        return Quote("unstake", "RLC", amount, self.hub.address, fee)

    def quote(self, action: Action, asset: Asset, amount: int, to: str = "") -> Quote:
        if action == "deposit":
            return self.quote_deposit(amount)
        if action == "withdraw":
            return self.quote_withdraw(amount)
        if action == "stake":
            return self.quote_stake(amount)
        if action == "unstake":
            return self.quote_unstake(amount)
        return self.quote_send(asset, to, amount)

    # -- sending ------------------------------------------------------------------------

    def _execute(
        self,
        kind: TxKind,
        asset: Asset,
        amount: int,
        counterparty: str,
        send: Callable[[RecordingTxSender], TxResult],
        side: Side = "wallet",
    ) -> TxRecord:
        """`side`: where the assets leave from (the escrow for a stake, the stake for an
        unstake); the logs tell the other side."""
        sent: list[str] = []

        def on_sent(tx_hash: str) -> None:
            sent.append(tx_hash)
            self.history.add(TxRecord(tx_hash, kind, asset, amount, counterparty, account=side))
            self._changed()

        with self.sender.reporting(on_sent):
            try:
                result = send(self.sender)
            except ChainError as exc:
                if sent:  # reverted (its fee was paid when it was mined), or never mined
                    self._settle(sent[-1])
                    self.history.update(sent[-1], status="failed", error=str(exc))
                    self._changed()
                raise
        record = self.history.update(
            result.tx_hash,
            status="mined",
            block_number=result.block_number,
            fee_wei=result.fee_wei,
        )
        self._changed()
        assert record is not None
        return record

    def execute(self, quote: Quote) -> TxRecord:
        """Carry out a quoted (and confirmed) action."""
        if quote.action == "deposit":
            return self.deposit(quote.amount)
        if quote.action == "withdraw":
            return self.withdraw(quote.amount)
        if quote.action == "stake":
            return self.stake(quote.amount)
        if quote.action == "unstake":
            return self.unstake(quote.amount)
        if quote.asset == "RLC":
            return self.send_rlc(quote.to, quote.amount)
        return self.send_eth(quote.to, quote.amount)

    def send_rlc(self, to: str, amount: int) -> TxRecord:
        to = self._recipient(to)
        self._positive(amount, "RLC")
        return self._execute("send", "RLC", amount, to, lambda s: self.rlc.transfer(s, to, amount))

    def send_eth(self, to: str, amount: int) -> TxRecord:
        to = self._recipient(to)
        self._positive(amount, "ETH")
        return self._execute("send", "ETH", amount, to, lambda s: s.send(to=to, value=amount))

    def deposit(self, amount: int) -> TxRecord:
        """Move RLC from the wallet into the hub escrow in one transaction (approveAndCall)."""
        self._positive(amount, "RLC")
        return self._execute(
            "deposit",
            "RLC",
            amount,
            self.hub.address,
            lambda s: self.rlc.approve_and_call(s, self.hub.address, amount, b""),
        )

    def withdraw(self, amount: int) -> TxRecord:
        self._positive(amount, "RLC")
        return self._execute(
            "withdraw", "RLC", amount, self.hub.address, lambda s: self.hub.withdraw(s, amount)
        )

    def stake(self, amount: int) -> TxRecord:
        """Move free escrow RLC into this wallet's stake on the hub."""
        self._positive(amount, "RLC")
        return self._execute(
            "stake",
            "RLC",
            amount,
            self.hub.address,
            lambda s: self.hub.stake(s, amount),
            side="escrow",
        )

    def unstake(self, amount: int) -> TxRecord:
        """Move stake no task holds locked back into this wallet's free escrow."""
        self._positive(amount, "RLC")
        return self._execute(
            "unstake",
            "RLC",
            amount,
            self.hub.address,
            lambda s: self.hub.unstake(s, amount),
            side="stake",
        )

    # -- demo faucet --------------------------------------------------------------------

    @property
    def faucet_available(self) -> bool:
        return self._faucet is not None or (
            self.chain.is_dev and getattr(self._market, "faucet", None) is not None
        )

    def faucet(self) -> list[TxRecord]:
        """Demo only: receive RLC and ETH from the development faucet."""
        if self._faucet is None:
            faucet_address = getattr(self._market, "faucet", None)
            if not faucet_address:
                raise ChainError("This network has no demo faucet.")
            self._faucet = DemoFaucet(self.chain, self.rlc.address, faucet_address)
        records = []
        for gift in self._faucet.fund(self.address):
            record = TxRecord(
                gift.result.tx_hash,
                "faucet",
                gift.asset,  # type: ignore[arg-type]
                gift.amount,
                gift.source,
                status="mined",
                block_number=gift.result.block_number,
                fee_wei=0,
            )
            records.append(self.history.add(record))
        self._changed()
        return records

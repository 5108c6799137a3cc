"""What one transaction did to an account, read from its receipt: the movements of the account's
RLC (wallet and hub escrow) and ETH, each a history record found in the logs.

- RLC `Transfer` from the account: to the hub, a task payment when the hub locked a price for
  the account in the same transaction (`approveAndCall` with a request), else a deposit; to a
  contract that emitted `VanityRequested` for the account, a task payment; else a send.
- RLC `Transfer` to the account: from the hub, a withdrawal; from a contract that emitted
  `VanityRefunded` for the account, a refund; from the demo faucet, a gift; else a receipt.
- The hub, on the escrow side: `Deposited` (a deposit, unless the price went straight into a
  task in the same transaction: then only the difference, if any), `Locked` (a task paid from
  the escrow), `Withdrawn`, `Unlocked` followed by `TaskFailed` / `TaskClaimed` (the refund of
  a failed task; an `Unlocked` that a `TaskFinalized` follows was spent), `Rewarded` (a
  task's pay, a share of stake slashed on it: an out-voted worker's for the honest ones, or a
  late pool owner's for the beneficiary of a claimed task).
- The hub, on the stake side (the account's whole stake, its locked part included):
  `Staked` (out of the escrow of the account that paid it, into the stake of the account it
  is for: both rows when they are the same), `Unstaked` (out of the stake, into the escrow),
  `Slashed` (out of the stake). `StakeLocked` / `StakeUnlocked` move nothing between sides:
  locked stake is still the account's stake until it is slashed.
- ETH: a plain payment (when the transaction itself is known), and the network fee of a
  transaction the account sent that the wallet did not record itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.exceptions import DecodingError
from hexbytes import HexBytes
from web3.exceptions import LogTopicError, MismatchedABI

from deskgrid.chain.artifacts import load_artifact
from deskgrid.chain.contracts import HubContract, RLCToken
from deskgrid.wallet.history import Asset, Side, TxKind, TxRecord

_HUB_EVENTS = (
    "Deposited",
    "Withdrawn",
    "Locked",
    "Unlocked",
    "Rewarded",
    "Staked",
    "Unstaked",
    "StakeLocked",
    "StakeUnlocked",
    "Slashed",
    "TaskRequested",
    "TaskFinalized",
    "TaskFailed",
    "TaskClaimed",
)
_REQUESTER_EVENTS = ("VanityRequested", "VanityRefunded")
_TASK_ENDS = ("TaskFinalized", "TaskFailed", "TaskClaimed")


@dataclass(frozen=True)
class Event:
    """A decoded log of a receipt."""

    name: str
    args: Any
    address: str
    log_index: int


def _hex(value: bytes) -> str:
    return HexBytes(value).to_0x_hex()


class MovementReader:
    """Decodes receipts for one account on one marketplace."""

    def __init__(
        self, rlc: RLCToken, hub: HubContract, address: str, faucet: str | None = None
    ) -> None:
        self.rlc, self.hub, self.address = rlc, hub, address
        self.faucet = faucet
        w3 = rlc.chain.w3
        # keyed by (emitter or None for any emitter, topic)
        self._events: dict[tuple[str | None, HexBytes], Any] = {}
        self._add(rlc.address, rlc.contract, ("Transfer",))
        self._add(hub.address, hub.contract, _HUB_EVENTS)
        requester = w3.eth.contract(abi=load_artifact("VanityRequester").abi)
        self._add(None, requester, _REQUESTER_EVENTS)

    def _add(self, address: str | None, contract: Any, names: tuple[str, ...]) -> None:
        for name in names:
            event = getattr(contract.events, name)()
            self._events[(address, HexBytes(event.topic))] = event

    def decode(self, receipt: Any) -> list[Event]:
        """The receipt's logs this reader knows, in order."""
        found = []
        for log in receipt["logs"]:
            if not log["topics"]:
                continue
            topic = HexBytes(log["topics"][0])
            event = self._events.get((log["address"], topic)) or self._events.get((None, topic))
            if event is None:
                continue
            try:
                decoded = event.process_log(log)
            except (DecodingError, LogTopicError, MismatchedABI):
                continue  # the same signature from an unrelated contract, laid out otherwise
            found.append(Event(decoded["event"], decoded["args"], log["address"], log["logIndex"]))
        return found

    def read(
        self,
        receipt: Any,
        *,
        timestamp: int,
        tx: Any | None = None,
        with_fee: bool = False,
    ) -> list[TxRecord]:
        """The account's movements in one mined transaction. `tx` (the transaction itself)
        adds a plain ETH payment; `with_fee` adds the network fee when the account sent it."""
        me = self.address
        tx_hash = _hex(receipt["transactionHash"])
        block = int(receipt["blockNumber"])
        ok = receipt["status"] == 1
        out: list[TxRecord] = []

        def row(
            kind: TxKind,
            asset: Asset,
            amount: int,
            counterparty: str,
            log_index: int | None,
            side: Side = "wallet",
            task: bytes | None = None,
        ) -> None:
            out.append(
                TxRecord(
                    tx_hash,
                    kind,
                    asset,
                    amount,
                    counterparty,
                    status="mined" if ok or kind == "fee" else "failed",
                    created_at=timestamp,
                    block_number=block,
                    fee_wei=0,
                    error=None if ok else "The transaction failed on chain.",
                    account=side,
                    origin="logs",
                    log_index=log_index,
                    task_id=_hex(task) if task is not None else None,
                )
            )

        events = self.decode(receipt) if ok else []

        def mine(name: str, key: str = "account") -> list[Event]:
            return [e for e in events if e.name == name and e.args[key] == me]

        def task_after(index: int, names: tuple[str, ...]) -> Event | None:
            return next((e for e in events if e.name in names and e.log_index > index), None)

        locked, deposited = mine("Locked"), mine("Deposited")
        requested = {e.address: e for e in mine("VanityRequested", "user")}
        refunded = {e.address: e for e in mine("VanityRefunded", "user")}
        hub = self.hub.address
        for e in events:
            args = e.args
            if e.name == "Transfer":
                sender, to, value = args["from"], args["to"], int(args["value"])
                if value == 0 or sender == to or me not in (sender, to):
                    continue
                if sender == me:
                    task = None
                    if to == hub and locked:
                        kind: TxKind = "payment"
                        found = task_after(e.log_index, ("TaskRequested",))
                        task = found.args["taskId"] if found is not None else None
                    elif to == hub:
                        kind = "deposit"
                    elif to in requested:
                        kind, task = "payment", requested[to].args["taskId"]
                    else:
                        kind = "send"
                    row(kind, "RLC", value, to, e.log_index, task=task)
                else:
                    task = None
                    if sender == hub:
                        kind = "withdraw"
                    elif sender in refunded:
                        kind, task = "refund", refunded[sender].args["taskId"]
                    elif self.faucet is not None and sender == self.faucet:
                        kind = "faucet"
                    else:
                        kind = "receive"
                    row(kind, "RLC", value, sender, e.log_index, task=task)
            elif e.name == "Staked" and e.address == hub:
                amount, account, payer = int(args["amount"]), args["account"], args["from"]
                if payer == me:
                    row("stake", "RLC", amount, account, e.log_index, "escrow")
                if account == me:
                    row("stake", "RLC", amount, payer, e.log_index, "stake")
            elif e.address != hub or "account" not in args or args["account"] != me:
                continue
            elif e.name == "Deposited":
                amount = int(args["amount"])
                if locked:  # paid and requested at once: only a difference stays in escrow
                    net = amount - sum(int(x.args["amount"]) for x in locked)
                    found = task_after(e.log_index, ("TaskRequested",))
                    task = found.args["taskId"] if found is not None else None
                    if net > 0:
                        row("deposit", "RLC", net, hub, e.log_index, "escrow")
                    elif net < 0:
                        row("payment", "RLC", -net, hub, e.log_index, "escrow", task)
                else:
                    row("deposit", "RLC", amount, hub, e.log_index, "escrow")
            elif e.name == "Locked":
                if deposited:
                    continue  # netted with the deposit of the same transaction
                found = task_after(e.log_index, ("TaskRequested",))
                task = found.args["taskId"] if found is not None else None
                row("payment", "RLC", int(args["amount"]), hub, e.log_index, "escrow", task)
            elif e.name == "Withdrawn":
                row("withdraw", "RLC", int(args["amount"]), hub, e.log_index, "escrow")
            elif e.name == "Unlocked":
                ended = task_after(e.log_index, _TASK_ENDS)
                if ended is not None and ended.name != "TaskFinalized":
                    amount = int(args["amount"])
                    row("refund", "RLC", amount, hub, e.log_index, "escrow", ended.args["taskId"])
            elif e.name == "Rewarded":
                amount = int(args["amount"])
                row("reward", "RLC", amount, hub, e.log_index, "escrow", args["taskId"])
            elif e.name == "Unstaked":
                amount = int(args["amount"])
                row("unstake", "RLC", amount, hub, e.log_index, "stake")
                row("unstake", "RLC", amount, hub, e.log_index, "escrow")
            elif e.name == "Slashed":
                amount, to = int(args["amount"]), args["to"]
                row(
                    "slashed",
                    "RLC",
                    amount,
                    to if int(to, 16) else hub,
                    e.log_index,
                    "stake",
                    args["taskId"],
                )

        if tx is not None and ok and int(tx["value"]) > 0 and tx["from"] != tx.get("to"):
            if tx["from"] == me:
                row("send", "ETH", int(tx["value"]), tx.get("to") or "", None)
            elif tx.get("to") == me:
                gift = self.faucet is not None and tx["from"] == self.faucet
                row("faucet" if gift else "receive", "ETH", int(tx["value"]), tx["from"], None)
        if with_fee and receipt["from"] == me:
            price = int(receipt.get("effectiveGasPrice", 0) or 0)
            fee = int(receipt["gasUsed"]) * price
            if fee:
                row("fee", "ETH", fee, receipt.get("to") or "", None)
        return out

"""The hub's events about one account's escrow and stake, read from the chain's logs in bounded
block ranges (a node refuses or times out on a range that is too long): rewards paid to it
(`Rewarded`), and every movement of its balance (`Deposited`, `Withdrawn`, `Locked`,
`Unlocked`, `Rewarded`) and of its stake (`Staked`, `Unstaked`, `Slashed`), each of which
names the account as its first indexed field, so one `eth_getLogs` per block range finds them
all. (`Staked` names the account staked for first; what an account stakes for another is
found by its second field, `from`.) Blocking; call it off the GUI thread."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes

from deskgrid.chain.contracts import HubContract

ACCOUNT_EVENTS = (
    "Deposited",
    "Withdrawn",
    "Locked",
    "Unlocked",
    "Rewarded",
    "Staked",
    "Unstaked",
    "Slashed",
)
LOG_SPAN = 2_000  # blocks per eth_getLogs


class RewardRole(enum.IntEnum):
    """Why the hub paid a reward (`Hub.ROLE_*`)."""

    APP_OWNER = 0
    POOL_OWNER = 1
    WORKER = 2
    SLASHED_STAKE = 3  # a share of stake slashed on the task (an out-voted one, a late pool's)

    @property
    def label(self) -> str:
        """ "app owner", "pool owner", "worker" or "slashed stake"."""
        return self.name.lower().replace("_", " ")


@dataclass(frozen=True)
class Reward:
    """One `Rewarded` event: `amount` nRLC credited to the account's free escrow balance."""

    task_id: str  # 0x + 64 hex digits
    amount: int  # nRLC
    role: int  # a RewardRole's value (an int, so that the record is plain JSON)
    block_number: int
    tx_hash: str
    log_index: int

    @property
    def role_name(self) -> str:
        """ "app owner", "pool owner", "worker", "slashed stake" (or "role N" for a role this
        version does not know)."""
        try:
            return RewardRole(self.role).label
        except ValueError:
            return f"role {self.role}"


def _topic(address: str) -> str:
    return HexBytes(bytes(HexBytes(address)).rjust(32, b"\0")).to_0x_hex()


def account_logs(
    hub: HubContract,
    account: str,
    start: int,
    end: int,
    names: tuple[str, ...] = ACCOUNT_EVENTS,
    *,
    span: int = LOG_SPAN,
) -> list[Any]:
    """The hub's events `names` (of `ACCOUNT_EVENTS`) about `account` in blocks
    `start`..`end` (both included), decoded, in chain order, read `span` blocks per query."""
    if span < 1:
        raise ValueError("span must be at least 1")
    events = {}
    for name in names:
        event = getattr(hub.contract.events, name)()
        events[HexBytes(event.topic)] = event
    topics = [[topic.to_0x_hex() for topic in events], _topic(account)]
    found: list[Any] = []
    first = max(0, start)
    while first <= end:
        last = min(end, first + span - 1)
        with hub.chain.lock:  # per query: a long scan does not hold the connection up
            raw = hub.chain.w3.eth.get_logs(
                {"address": hub.address, "fromBlock": first, "toBlock": last, "topics": topics}
            )
        found += [events[HexBytes(log["topics"][0])].process_log(log) for log in raw]
        first = last + 1
    return found


def rewards_to(
    hub: HubContract, account: str, start: int, end: int, *, span: int = LOG_SPAN
) -> list[Reward]:
    """The rewards the hub credited to `account` in blocks `start`..`end`, oldest first."""
    return [
        Reward(
            task_id=HexBytes(log["args"]["taskId"]).to_0x_hex(),
            amount=int(log["args"]["amount"]),
            role=int(log["args"]["role"]),
            block_number=int(log["blockNumber"]),
            tx_hash=log["transactionHash"].to_0x_hex(),
            log_index=int(log["logIndex"]),
        )
        for log in account_logs(hub, account, start, end, ("Rewarded",), span=span)
    ]


def block_time(hub: HubContract, number: int) -> int:
    """The timestamp (Unix seconds) of block `number`."""
    with hub.chain.lock:
        return int(hub.chain.w3.eth.get_block(number)["timestamp"])

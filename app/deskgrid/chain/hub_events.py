"""The hub's events about one account's escrow, read from the chain's logs: rewards paid to it
(`Rewarded`), and every movement of its balance (`Deposited`, `Withdrawn`, `Locked`,
`Unlocked`, `Rewarded`), each of which names the account as its first indexed field, so one
`eth_getLogs` per block range finds them all."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes

from deskgrid.chain.contracts import HubContract

ACCOUNT_EVENTS = ("Deposited", "Withdrawn", "Locked", "Unlocked", "Rewarded")


class RewardRole(enum.IntEnum):
    """Why the hub paid a reward (`Hub.ROLE_*`)."""

    APP_OWNER = 0
    POOL_OWNER = 1
    WORKER = 2


@dataclass(frozen=True)
class Reward:
    """One `Rewarded` event: `amount` nRLC credited to the account's free escrow balance."""

    task_id: str  # 0x-hex
    amount: int
    role: RewardRole
    block_number: int
    tx_hash: str
    log_index: int


def _topic(address: str) -> str:
    return HexBytes(bytes(HexBytes(address)).rjust(32, b"\0")).to_0x_hex()


def account_logs(
    hub: HubContract, account: str, start: int, end: int, names: tuple[str, ...] = ACCOUNT_EVENTS
) -> list[Any]:
    """The hub's events `names` (of `ACCOUNT_EVENTS`) about `account` in blocks
    `start`..`end`, decoded, in chain order."""
    with hub.chain.lock:
        events = {}
        for name in names:
            event = getattr(hub.contract.events, name)()
            events[HexBytes(event.topic)] = event
        raw = hub.chain.w3.eth.get_logs(
            {
                "address": hub.address,
                "fromBlock": start,
                "toBlock": end,
                "topics": [[topic.to_0x_hex() for topic in events], _topic(account)],
            }
        )
        return [events[HexBytes(log["topics"][0])].process_log(log) for log in raw]


def rewards_to(hub: HubContract, account: str, start: int, end: int) -> list[Reward]:
    """The rewards the hub credited to `account` in blocks `start`..`end`, oldest first."""
    return [
        Reward(
            task_id=HexBytes(log["args"]["taskId"]).to_0x_hex(),
            amount=int(log["args"]["amount"]),
            role=RewardRole(int(log["args"]["role"])),
            block_number=int(log["blockNumber"]),
            tx_hash=log["transactionHash"].to_0x_hex(),
            log_index=int(log["logIndex"]),
        )
        for log in account_logs(hub, account, start, end, ("Rewarded",))
    ]

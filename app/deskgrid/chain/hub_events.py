"""The hub's `Rewarded(account, taskId, amount, role)` events: what an address was paid, read
from the chain's logs in bounded block ranges (a node refuses or times out on a range that is
too long). Blocking; call it off the GUI thread."""

from __future__ import annotations

from dataclasses import dataclass

from deskgrid.chain.contracts import HubContract

LOG_SPAN = 2_000  # blocks per eth_getLogs
ROLE_NAMES = {0: "app owner", 1: "pool owner", 2: "worker"}


@dataclass(frozen=True)
class Reward:
    """One `Rewarded` event: `amount` nRLC credited to `account`'s hub escrow for a task."""

    account: str
    task_id: str  # 0x + 64 hex digits
    amount: int  # nRLC
    role: int  # 0 app owner, 1 pool owner, 2 worker
    block_number: int
    tx_hash: str
    log_index: int

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, f"role {self.role}")


def rewards_to(
    hub: HubContract, address: str, from_block: int, to_block: int, *, span: int = LOG_SPAN
) -> list[Reward]:
    """The `Rewarded` events to `address` in blocks `from_block`..`to_block` (both included),
    in chain order, read `span` blocks per query."""
    if span < 1:
        raise ValueError("span must be at least 1")
    account = hub.chain.w3.to_checksum_address(address)
    found: list[Reward] = []
    start = max(0, from_block)
    while start <= to_block:
        end = min(to_block, start + span - 1)
        for log in hub.logs("Rewarded", start, end, account=account):
            args = log["args"]
            found.append(
                Reward(
                    account=args["account"],
                    task_id="0x" + bytes(args["taskId"]).hex(),
                    amount=int(args["amount"]),
                    role=int(args["role"]),
                    block_number=int(log["blockNumber"]),
                    tx_hash=log["transactionHash"].to_0x_hex(),
                    log_index=int(log["logIndex"]),
                )
            )
        start = end + 1
    return sorted(found, key=lambda r: (r.block_number, r.log_index))


def block_time(hub: HubContract, number: int) -> int:
    """The timestamp (Unix seconds) of block `number`."""
    with hub.chain.lock:
        return int(hub.chain.w3.eth.get_block(number)["timestamp"])

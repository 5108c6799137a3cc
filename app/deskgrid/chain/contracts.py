"""Typed wrappers for the RLC, Hub and VanityRequester contracts."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak
from hexbytes import HexBytes
from web3.contract import Contract
from web3.logs import DISCARD

from deskgrid.chain.artifacts import load_artifact
from deskgrid.chain.connection import Chain
from deskgrid.chain.reverts import ChainError, explain
from deskgrid.chain.transactions import FeeQuote, TxResult, TxSender
from deskgrid.chain.trust import DEFAULT_TRUST, check_trust

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def result_digest(results: bytes) -> bytes:
    """The digest `finalize` checks posted results against: their sha256 (the grid's hash)."""
    return hashlib.sha256(results).digest()


class TaskStatus(enum.IntEnum):
    UNSET = 0
    ACTIVE = 1
    COMPLETED = 2
    FAILED = 3


@dataclass(frozen=True)
class AppInfo:
    app_id: int
    owner: str
    name: str
    uri: str
    params_schema_hash: bytes
    price: int
    retired: bool


@dataclass(frozen=True)
class PoolInfo:
    """A workerpool: its `owner` is paid its fee and stakes for its tasks, its `scheduler`
    finalizes and fails them; `pending_owner` is a proposed next owner (zero address: none)."""

    pool_id: int
    owner: str
    description: str
    fee: int
    worker_share_bps: int
    scheduler: str = ZERO_ADDRESS
    pending_owner: str = ZERO_ADDRESS


@dataclass(frozen=True)
class StakeInfo:
    """An account's stake on the hub (nRLC, `locked` included in `amount`) and reputation."""

    amount: int
    locked: int
    wins: int
    losses: int

    @property
    def free(self) -> int:
        return self.amount - self.locked


@dataclass(frozen=True)
class CategoryInfo:
    category: int
    name: str
    time_ref: int


@dataclass(frozen=True)
class PaidRequest:
    """A task paid through the VanityRequester: the payer, and the nRLC the contract will give
    back to them if the task fails (0 once they took it, or for a task paid on the hub)."""

    user: str
    amount: int


@dataclass(frozen=True)
class TaskRequest:
    """What a requester asks for; `max_price` in nRLC, `trust` the level paid for (1..5, see
    `task_price`)."""

    app_id: int
    pool_id: int
    params: str
    max_price: int
    category: int = 0
    callback: str = ZERO_ADDRESS
    beneficiary: str = ZERO_ADDRESS
    trust: int = DEFAULT_TRUST

    def __post_init__(self) -> None:
        check_trust(self.trust)

    def encode(self) -> bytes:
        """The `data` of `RLC.approveAndCall(hub, amount, data)`."""
        return abi_encode(
            ["uint256", "uint256", "string", "uint256", "uint256", "address", "address", "uint8"],
            [
                self.app_id,
                self.pool_id,
                self.params,
                self.max_price,
                self.category,
                self.callback,
                self.beneficiary,
                self.trust,
            ],
        )


@dataclass(frozen=True)
class TaskInfo:
    task_id: bytes
    status: TaskStatus
    requester: str
    beneficiary: str
    callback: str
    app_id: int
    pool_id: int
    category: int
    app_price: int
    pool_fee: int
    worker_share_bps: int
    requested_at: int
    final_deadline: int
    result_digest: bytes
    results: bytes
    params: str
    pool_staker: str = ZERO_ADDRESS
    pool_stake_locked: int = 0
    open_locks: int = 0
    closed_block: int = 0
    trust: int = DEFAULT_TRUST

    @property
    def price(self) -> int:
        """What the requester paid: `pool_fee` is already the fee of every replica the level
        covers (the pool's fee times `trust`)."""
        return self.app_price + self.pool_fee


class _Bound:
    """A contract at an address on a chain; reads take the chain's lock."""

    ARTIFACT = ""

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address = chain.w3.to_checksum_address(address)
        self._caller = chain.dev_accounts[0].address if chain.dev_accounts else ZERO_ADDRESS
        self.contract: Contract = chain.w3.eth.contract(
            address=self.address, abi=load_artifact(self.ARTIFACT).abi
        )

    def _call(self, name: str, *args: Any) -> Any:
        with self.chain.lock:
            try:
                # An explicit caller spares the node a round trip to guess one.
                return getattr(self.contract.functions, name)(*args).call({"from": self._caller})
            except Exception as exc:
                raise explain(exc) from None

    def _send(self, sender: TxSender, name: str, *args: Any, value: int = 0) -> TxResult:
        return sender.send(getattr(self.contract.functions, name)(*args), value=value)

    def _quote(self, sender: TxSender, name: str, *args: Any) -> FeeQuote:
        """What sending `name(*args)` from `sender` would cost at most (a sentence when it
        would revert)."""
        return sender.quote(getattr(self.contract.functions, name)(*args))

    def events(self, name: str, receipt: Any) -> list[Any]:
        """The decoded events `name` of this contract in a receipt."""
        with self.chain.lock:
            return list(
                getattr(self.contract.events, name)().process_receipt(receipt, errors=DISCARD)
            )

    def logs(
        self, name: str, from_block: int, to_block: int | str = "latest", **filters: Any
    ) -> list[Any]:
        """Decoded events `name` in a block range (argument filters on indexed fields)."""
        with self.chain.lock:
            event = getattr(self.contract.events, name)()
            return list(
                event.get_logs(
                    from_block=from_block, to_block=to_block, argument_filters=filters or None
                )
            )

    def task_logs(self, task_id: bytes, names: tuple[str, ...], from_block: int) -> list[Any]:
        """The events `names` of one task (each indexes the task id first), decoded, in chain
        order: one `eth_getLogs` for all of them."""
        with self.chain.lock:
            events = {}
            for name in names:
                event = getattr(self.contract.events, name)()
                events[HexBytes(event.topic)] = event
            raw = self.chain.w3.eth.get_logs(
                {
                    "address": self.address,
                    "fromBlock": from_block,
                    "toBlock": "latest",
                    "topics": [
                        [topic.to_0x_hex() for topic in events],
                        HexBytes(bytes(task_id).rjust(32, b"\0")).to_0x_hex(),
                    ],
                }
            )
            return [events[HexBytes(log["topics"][0])].process_log(log) for log in raw]


class RLCToken(_Bound):
    ARTIFACT = "RLC"

    def balance_of(self, account: str) -> int:
        return int(self._call("balanceOf", account))

    def total_supply(self) -> int:
        return int(self._call("totalSupply"))

    def allowance(self, owner: str, spender: str) -> int:
        return int(self._call("allowance", owner, spender))

    def decimals(self) -> int:
        return int(self._call("decimals"))

    def symbol(self) -> str:
        return str(self._call("symbol"))

    def owner(self) -> str:
        return str(self._call("owner"))

    def transfer(self, sender: TxSender, to: str, amount: int) -> TxResult:
        return self._send(sender, "transfer", to, amount)

    def approve(self, sender: TxSender, spender: str, amount: int) -> TxResult:
        return self._send(sender, "approve", spender, amount)

    def mint(self, sender: TxSender, to: str, amount: int) -> TxResult:
        return self._send(sender, "mint", to, amount)

    def approve_and_call(
        self, sender: TxSender, spender: str, amount: int, data: bytes
    ) -> TxResult:
        return self._send(sender, "approveAndCall", spender, amount, data)

    def quote_approve_and_call(
        self, sender: TxSender, spender: str, amount: int, data: bytes
    ) -> FeeQuote:
        return self._quote(sender, "approveAndCall", spender, amount, data)


def _task_id_from(hub: HubContract, receipt: Any) -> bytes:
    requested = hub.events("TaskRequested", receipt)
    if not requested:
        raise ChainError("The request was mined but no task was created; check the hub address.")
    return bytes(requested[-1]["args"]["taskId"])


class HubContract(_Bound):
    ARTIFACT = "Hub"

    # -- registry -----------------------------------------------------------------------

    def register_app(
        self, sender: TxSender, name: str, uri: str, schema_hash: bytes, price: int
    ) -> int:
        result = self._send(sender, "registerApp", name, uri, schema_hash, price)
        return int(self.events("AppRegistered", result.receipt)[0]["args"]["appId"])

    def set_app_price(self, sender: TxSender, app_id: int, price: int) -> TxResult:
        return self._send(sender, "setAppPrice", app_id, price)

    def retire_app(self, sender: TxSender, app_id: int) -> TxResult:
        return self._send(sender, "retireApp", app_id)

    def app_count(self) -> int:
        return int(self._call("appCount"))

    def app(self, app_id: int) -> AppInfo:
        owner, name, uri, schema_hash, price, retired = self._call("app", app_id)
        return AppInfo(app_id, owner, name, uri, bytes(schema_hash), int(price), bool(retired))

    def apps(self) -> list[AppInfo]:
        return [self.app(i) for i in range(1, self.app_count() + 1)]

    def register_pool(
        self, sender: TxSender, description: str, fee: int, worker_share_bps: int
    ) -> int:
        result = self._send(sender, "registerPool", description, fee, worker_share_bps)
        return int(self.events("PoolRegistered", result.receipt)[0]["args"]["poolId"])

    def update_pool(
        self, sender: TxSender, pool_id: int, fee: int, worker_share_bps: int
    ) -> TxResult:
        return self._send(sender, "updatePool", pool_id, fee, worker_share_bps)

    def pool_count(self) -> int:
        return int(self._call("poolCount"))

    def pool(self, pool_id: int) -> PoolInfo:
        owner, share, scheduler, pending, fee, description = self._call("pool", pool_id)
        return PoolInfo(pool_id, owner, description, int(fee), int(share), scheduler, pending)

    def propose_pool_owner(self, sender: TxSender, pool_id: int, new_owner: str) -> TxResult:
        """First step of a transfer (the zero address cancels a proposal)."""
        return self._send(sender, "proposePoolOwner", pool_id, new_owner)

    def accept_pool_ownership(self, sender: TxSender, pool_id: int) -> TxResult:
        """Second step: the proposed owner takes the pool."""
        return self._send(sender, "acceptPoolOwnership", pool_id)

    def set_pool_scheduler(self, sender: TxSender, pool_id: int, scheduler: str) -> TxResult:
        """The owner rotates the key that finalizes and fails the pool's tasks."""
        return self._send(sender, "setPoolScheduler", pool_id, scheduler)

    def create_category(self, sender: TxSender, name: str, time_ref: int) -> TxResult:
        return self._send(sender, "createCategory", name, time_ref)

    def categories(self) -> list[CategoryInfo]:
        count = int(self._call("categoryCount"))
        return [CategoryInfo(i, *self._call("category", i)) for i in range(count)]

    # -- escrow -------------------------------------------------------------------------

    def deposit(self, sender: TxSender, amount: int) -> TxResult:
        return self._send(sender, "deposit", amount)

    def withdraw(self, sender: TxSender, amount: int) -> TxResult:
        return self._send(sender, "withdraw", amount)

    def balance_of(self, account: str) -> int:
        return int(self._call("balanceOf", account))

    def locked_of(self, account: str) -> int:
        return int(self._call("lockedOf", account))

    def token(self) -> str:
        return str(self._call("token"))

    # -- stake --------------------------------------------------------------------------

    def stake(self, sender: TxSender, amount: int) -> TxResult:
        """Move `amount` of the sender's free escrow into its stake."""
        return self._send(sender, "stake", amount)

    def stake_for(self, sender: TxSender, account: str, amount: int) -> TxResult:
        """Move `amount` of the sender's free escrow into `account`'s stake."""
        return self._send(sender, "stakeFor", account, amount)

    def unstake(self, sender: TxSender, amount: int) -> TxResult:
        """Move `amount` of the sender's unlocked stake back into its free escrow."""
        return self._send(sender, "unstake", amount)

    def stake_of(self, account: str) -> int:
        return int(self._call("stakeOf", account))

    def locked_stake_of(self, account: str) -> int:
        return int(self._call("lockedStakeOf", account))

    def reputation_of(self, account: str) -> tuple[int, int]:
        """(honest contributions, out-voted contributions) of `account`."""
        wins, losses = self._call("reputationOf", account)
        return int(wins), int(losses)

    def stake_info(self, account: str) -> StakeInfo:
        wins, losses = self.reputation_of(account)
        return StakeInfo(self.stake_of(account), self.locked_stake_of(account), wins, losses)

    def contribution_stake(self, task_id: bytes) -> int:
        """The stake one contribution to `task_id` locks."""
        return int(self._call("contributionStake", task_id))

    def contribution_locks(self, task_id: bytes, account: str) -> int:
        return int(self._call("contributionLocks", task_id, account))

    def lock_stake(self, sender: TxSender, task_id: bytes, workers: list[str]) -> TxResult:
        """The scheduler locks one contribution's stake of each worker (while it computes)."""
        return self._send(sender, "lockStake", task_id, workers)

    def release_stake(self, sender: TxSender, task_id: bytes, workers: list[str]) -> TxResult:
        """Unlock contributions `lock_stake` took, without reward nor penalty."""
        return self._send(sender, "releaseStake", task_id, workers)

    # -- tasks --------------------------------------------------------------------------

    def price_of(self, app_id: int, pool_id: int, trust: int = DEFAULT_TRUST) -> int:
        """The price of a task of `app_id` on `pool_id` at trust level `trust` (nRLC)."""
        return int(self._call("priceOf", app_id, pool_id, check_trust(trust)))

    def next_task_id(self, requester: str) -> bytes:
        return bytes(self._call("nextTaskId", requester))

    def request_task(self, sender: TxSender, request: TaskRequest) -> bytes:
        """Request from the sender's escrow (deposit first); returns the task id."""
        result = self._send(
            sender,
            "requestTask",
            request.app_id,
            request.pool_id,
            request.params,
            request.max_price,
            request.category,
            request.callback,
            request.beneficiary,
            request.trust,
        )
        return _task_id_from(self, result.receipt)

    def quote_pay_and_request(
        self, sender: TxSender, rlc: RLCToken, request: TaskRequest
    ) -> FeeQuote:
        """The network fee of `pay_and_request` (a sentence when it would revert)."""
        return rlc.quote_approve_and_call(sender, self.address, request.max_price, request.encode())

    def pay_and_request(
        self, sender: TxSender, rlc: RLCToken, request: TaskRequest, amount: int | None = None
    ) -> bytes:
        """Deposit + request in ONE transaction: `RLC.approveAndCall(hub, amount, request)`."""
        amount = request.max_price if amount is None else amount
        result = rlc.approve_and_call(sender, self.address, amount, request.encode())
        return _task_id_from(self, result.receipt)

    def task(self, task_id: bytes) -> TaskInfo:
        """A task; the hub keeps only the digest of the results, so those of a completed task
        are read from its `TaskFinalized` event (in the block that closed it)."""
        raw = self._call("task", task_id)
        status = TaskStatus(int(raw[0]))
        closed_block = int(raw[16])
        results = b""
        if status is TaskStatus.COMPLETED:
            found = self.logs("TaskFinalized", closed_block, closed_block, taskId=task_id)
            results = bytes(found[-1]["args"]["results"]) if found else b""
        return TaskInfo(
            task_id=bytes(task_id),
            status=status,
            requester=raw[1],
            worker_share_bps=int(raw[2]),
            open_locks=int(raw[3]),
            category=int(raw[4]),
            trust=int(raw[5]),
            beneficiary=raw[6],
            requested_at=int(raw[7]),
            final_deadline=int(raw[8]),
            callback=raw[9],
            app_id=int(raw[10]),
            pool_id=int(raw[11]),
            pool_staker=raw[12],
            app_price=int(raw[13]),
            pool_fee=int(raw[14]),
            pool_stake_locked=int(raw[15]),
            closed_block=closed_block,
            result_digest=bytes(raw[17]),
            results=results,
            params=raw[18],
        )

    def task_status(self, task_id: bytes) -> TaskStatus:
        return TaskStatus(int(self._call("taskStatus", task_id)))

    def finalize(
        self,
        sender: TxSender,
        task_id: bytes,
        result_digest: bytes,
        results: bytes,
        workers: list[str],
        weights: list[int],
        losers: list[str] | None = None,
    ) -> TxResult:
        """Close a task with its result: `result_digest` is the result's sha256, `results` the
        result (or b"" when only the digest is posted); `workers`/`weights` the honest
        contributors, `losers` the out-voted contributions (their stake is slashed)."""
        return self._send(
            sender, "finalize", task_id, result_digest, results, workers, weights, losers or []
        )

    def fail(self, sender: TxSender, task_id: bytes, reason: str) -> TxResult:
        return self._send(sender, "fail", task_id, reason)

    def claim(self, sender: TxSender, task_id: bytes) -> TxResult:
        return self._send(sender, "claim", task_id)


class VanityRequesterContract(_Bound):
    ARTIFACT = "VanityRequester"

    def request(
        self,
        sender: TxSender,
        rlc: RLCToken,
        params: str,
        max_price: int,
        category: int = 0,
        amount: int | None = None,
    ) -> bytes:
        """Pay and request through this contract in one transaction, at trust level 1 (the
        contract's `TRUST`: VanityGen results are verified); returns the task id.

        `amount` (default `max_price`) is what the sender approves: the contract takes the
        task's price out of it, refuses less than the price (`Underpaid`) or a price above
        `max_price` (`PriceAboveMax`), and leaves the rest in the sender's wallet."""
        data = abi_encode(["string", "uint256", "uint256"], [params, max_price, category])
        amount = max_price if amount is None else amount
        result = rlc.approve_and_call(sender, self.address, amount, data)
        return bytes(self.events("VanityRequested", result.receipt)[0]["args"]["taskId"])

    def has_result(self, task_id: bytes) -> bool:
        return bool(self._call("hasResult", task_id))

    def result_digest(self, task_id: bytes) -> bytes:
        """keccak256 of the results delivered for `task_id` (32 zero bytes: none yet)."""
        return bytes(self._call("resultDigest", task_id))

    def result_of(self, task_id: bytes, from_block: int = 0) -> bytes:
        """The results the hub delivered for `task_id` (b"" when none were): the contract keeps
        only their digest on chain and the results themselves in its `VanityResult` event,
        which this reads back (from `from_block` on) and checks against the digest."""
        digest = self.result_digest(task_id)
        if digest == bytes(32):
            return b""
        for log in self.logs("VanityResult", from_block, taskId=task_id):
            results = bytes(log["args"]["results"])
            if keccak(results) == digest:
                return results
        raise ChainError(
            f"The results of task 0x{task_id.hex()} are recorded on chain but their event was "
            f"not found from block {from_block}; read them from an archive node or the hub."
        )

    def request_of(self, task_id: bytes) -> PaidRequest:
        """Who paid for `task_id` through this contract and the refund still owed if it fails
        (the zero address for a task requested on the hub directly)."""
        user, amount = self._call("requests", task_id)
        return PaidRequest(user=user, amount=int(amount))

    def withdraw_refund(self, sender: TxSender, task_id: bytes) -> TxResult:
        """The payer takes back a failed task's price (once)."""
        return self._send(sender, "withdrawRefund", task_id)

"""Turn contract refusals into sentences a person can act on.

Reverts reach us in different shapes: web3's ContractCustomError (JSON-RPC nodes such as
anvil), eth-tester's TransactionFailed with the raw bytes in its message (embedded chain),
or Error(string) / Panic(uint256). All are decoded against the ABIs of our contracts and the
named custom errors are rendered as sentences.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from deskgrid.chain.artifacts import CONTRACT_NAMES, load_artifact
from deskgrid.chain.trust import MAX_TRUST, MIN_TRUST, describe_levels
from deskgrid.errors import DeskGridError
from deskgrid.money import format_rlc

TASK_STATUS_NAMES = ("UNSET", "ACTIVE", "COMPLETED", "FAILED")
CATEGORY_NAMES = ("XS", "S", "M", "L", "XL")


class ChainError(DeskGridError):
    """A chain operation that did not happen; the message says what to do."""


class ContractRevert(ChainError):
    """A contract refused a call with a named error."""

    def __init__(self, name: str, args: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.name = name
        self.args_by_name = args


@dataclass(frozen=True)
class _ErrorAbi:
    name: str
    names: tuple[str, ...]
    types: tuple[str, ...]


def _canonical_type(entry: dict[str, Any]) -> str:
    kind = entry["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in entry["components"])
        return f"({inner}){kind[5:]}"
    return kind


@cache
def _error_table() -> dict[bytes, _ErrorAbi]:
    table: dict[bytes, _ErrorAbi] = {}
    for contract in CONTRACT_NAMES:
        for entry in load_artifact(contract).abi:
            if entry.get("type") != "error":
                continue
            types = tuple(_canonical_type(i) for i in entry["inputs"])
            selector = keccak(text=f"{entry['name']}({','.join(types)})")[:4]
            names = tuple(i["name"] or f"arg{n}" for n, i in enumerate(entry["inputs"]))
            table[selector] = _ErrorAbi(entry["name"], names, types)
    table[keccak(text="Error(string)")[:4]] = _ErrorAbi("Error", ("reason",), ("string",))
    table[keccak(text="Panic(uint256)")[:4]] = _ErrorAbi("Panic", ("code",), ("uint256",))
    return table


def _short(value: bytes | str) -> str:
    text = value.hex() if isinstance(value, bytes | bytearray) else str(value)
    if not text.startswith("0x"):
        text = "0x" + text
    return text[:10] + "…" if len(text) > 12 else text


def _when(timestamp: int) -> str:
    moment = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


_SENTENCES: dict[str, Callable[[dict[str, Any]], str]] = {
    "UnknownApp": lambda a: (
        f"App #{a['appId']} is not registered on this hub; pick an app from the catalog."
    ),
    "AppIsRetired": lambda a: (
        f"App #{a['appId']} was retired by its owner and takes no more requests; pick another app."
    ),
    "UnknownPool": lambda a: (
        f"Workerpool #{a['poolId']} is not registered on this hub; "
        "use a workerpool from the catalog."
    ),
    "UnknownCategory": lambda a: (
        f"Category {a['category']} does not exist; use one of "
        + ", ".join(f"{i} ({n})" for i, n in enumerate(CATEGORY_NAMES))
        + "."
    ),
    "UnknownTask": lambda a: (
        f"There is no task {_short(a['taskId'])} on this hub; check the task id."
    ),
    "NotAppOwner": lambda a: (
        f"Only the owner of app #{a['appId']} can change it, and {a['caller']} is not its owner."
    ),
    "NotPoolOwner": lambda a: (
        f"Only the owner of workerpool #{a['poolId']} can change it, "
        f"and {a['caller']} is not its owner."
    ),
    "NotScheduler": lambda a: (
        f"Only the workerpool's scheduler can finalize, fail or lock stake for task "
        f"{_short(a['taskId'])}, and {a['caller']} is not it; use the scheduler's key."
    ),
    "PriceAboveMax": lambda a: (
        f"The task costs {format_rlc(a['price'])}, more than your "
        f"maximum of {format_rlc(a['maxPrice'])}; raise the maximum price or choose a cheaper app."
    ),
    "InvalidTrust": lambda a: (
        f"Trust level {a['trust']} does not exist; choose a level from {MIN_TRUST} to "
        f"{MAX_TRUST} ({describe_levels()})."
    ),
    "InsufficientBalance": lambda a: (
        f"Your escrow holds {format_rlc(a['available'])} but "
        f"{format_rlc(a['needed'])} is needed; deposit more RLC first."
    ),
    "TaskNotActive": lambda a: (
        f"Task {_short(a['taskId'])} is already "
        f"{TASK_STATUS_NAMES[a['status']] if a['status'] < 4 else a['status']} and cannot change "
        "any more."
    ),
    "TooEarlyToClaim": lambda a: (
        f"Task {_short(a['taskId'])} can be claimed only after its "
        f"final deadline ({_when(a['finalDeadline'])}); wait until then."
    ),
    "DeadlinePassed": lambda a: (
        f"Task {_short(a['taskId'])} passed its final deadline "
        f"({_when(a['finalDeadline'])}) and can no longer be finalized; claim the refund instead."
    ),
    "InvalidWorkerShare": lambda a: (
        f"A worker share of {a['workerShareBps']} basis points is "
        "impossible; use a value from 0 to 10000."
    ),
    "WorkersWeightsMismatch": lambda a: (
        f"{a['workers']} workers but {a['weights']} weights "
        "were given; give exactly one weight per worker."
    ),
    "ZeroTotalWeight": lambda a: (
        "The workers' weights add up to zero; give at least one worker a positive weight."
    ),
    "ZeroAddressWorker": lambda a: (
        f"Worker #{a['index']} has the zero address; give each worker's real address."
    ),
    "ZeroAmount": lambda a: "The amount is zero; enter an amount above zero.",
    "ZeroAddress": lambda a: "The address is the zero address; give a real address.",
    "AmountTooLarge": lambda a: (
        f"{format_rlc(a['amount'])} is more than the hub can record; use a smaller amount."
    ),
    "NotPendingPoolOwner": lambda a: (
        f"{a['caller']} was not proposed as the next owner of workerpool #{a['poolId']}; "
        "the current owner must propose it first."
    ),
    "InsufficientStake": lambda a: (
        f"{a['account']} has {format_rlc(a['available'])} of unlocked stake but "
        f"{format_rlc(a['needed'])} is needed; stake more RLC, or wait until its tasks close "
        "and unlock it."
    ),
    "PoolStakeTooLow": lambda a: (
        f"The owner of workerpool #{a['poolId']} has {format_rlc(a['stake'])} staked but a "
        f"pool needs {format_rlc(a['needed'])} to take paid requests; the pool owner must stake "
        "more, or choose another pool."
    ),
    "NoLockedContribution": lambda a: (
        f"{a['account']} has no locked contribution to task {_short(a['taskId'])}; "
        "check the worker's address."
    ),
    "UnsettledContributions": lambda a: (
        f"{a['count']} locked contribution(s) to task {_short(a['taskId'])} are neither paid "
        "nor out-voted; list every locked worker in finalize, or release the stake first."
    ),
    "ResultDigestMismatch": lambda a: (
        f"The results posted do not match their digest {_short(a['resultDigest'])} "
        f"(their sha256 is {_short(a['actual'])}); post the digest of these results."
    ),
    "EmptyName": lambda a: "The name is empty; give it a name.",
    "InvalidTimeRef": lambda a: "A category needs a time reference above zero seconds.",
    "OnlyToken": lambda a: (
        "Only the RLC token contract may call this; go through RLC.approveAndCall."
    ),
    "OnlyHub": lambda a: "Only the hub may deliver results to this contract.",
    "NotYourRequest": lambda a: (
        f"Task {_short(a['taskId'])} was not requested by "
        f"{a['caller']}; only the user who paid for it can take its refund."
    ),
    "NotRefundable": lambda a: (
        f"Task {_short(a['taskId'])} has nothing to refund: it is not "
        "failed, or its refund was already taken."
    ),
    "Underpaid": lambda a: (
        f"{format_rlc(a['amount'])} was offered but the task costs {format_rlc(a['price'])}; "
        "pay at least the price."
    ),
    "PriceTooLarge": lambda a: (
        f"A task price of {format_rlc(a['price'])} is more than this contract can record."
    ),
    "TaskIdTaken": lambda a: (
        f"Task {_short(a['taskId'])} is already recorded; send the request again."
    ),
    "NotEnoughGasForCallback": lambda a: (
        "Not enough gas was left for the requester's "
        "callback; send the transaction again with a higher gas limit."
    ),
    "ERC20InsufficientBalance": lambda a: (
        f"The wallet {a['sender']} holds "
        f"{format_rlc(a['balance'])} but {format_rlc(a['needed'])} is needed; get more RLC first."
    ),
    "ERC20InsufficientAllowance": lambda a: (
        f"{a['spender']} may spend only "
        f"{format_rlc(a['allowance'])} of your RLC but {format_rlc(a['needed'])} is needed; "
        "approve a larger amount."
    ),
    "ERC20InvalidReceiver": lambda a: f"{a['receiver']} cannot receive RLC; check the address.",
    "ERC20InvalidSender": lambda a: f"{a['sender']} cannot send RLC; check the address.",
    "ERC20InvalidApprover": lambda a: f"{a['approver']} cannot approve; check the address.",
    "ERC20InvalidSpender": lambda a: f"{a['spender']} cannot be approved; check the address.",
    "OwnableUnauthorizedAccount": lambda a: (
        f"Only the contract's owner can do this, and {a['account']} is not the owner."
    ),
    "OwnableInvalidOwner": lambda a: f"{a['owner']} cannot own the contract; give a real address.",
    "ReentrancyGuardReentrantCall": lambda a: "The hub refused a re-entrant call.",
    "SafeERC20FailedOperation": lambda a: (
        "The token refused the transfer; check balances and allowances."
    ),
    "Error": lambda a: f"The contract refused: {a['reason']}.",
    "Panic": lambda a: (
        f"The contract hit an internal error (panic 0x{a['code']:x}); "
        "this is a bug in the contract, please report it."
    ),
}


def decode_revert(data: bytes) -> ContractRevert:
    """Decode raw revert data (selector + ABI-encoded arguments) into a ContractRevert."""
    if len(data) < 4:
        return ContractRevert(
            "", {}, "The contract refused the call without giving a reason; check the inputs."
        )
    spec = _error_table().get(bytes(data[:4]))
    if spec is None:
        return ContractRevert(
            "", {}, f"The contract refused the call with an unknown error 0x{data[:4].hex()}."
        )
    try:
        values = abi_decode(list(spec.types), bytes(data[4:]))
    except Exception:  # malformed data from a node is untrusted input
        values = ()
    values = tuple(
        to_checksum_address(v) if t == "address" else v
        for t, v in zip(spec.types, values, strict=False)
    )
    args = dict(zip(spec.names, values, strict=False))
    render = _SENTENCES.get(spec.name)
    try:
        message = render(args) if render else None
    except (KeyError, TypeError, ValueError):
        message = None
    if message is None:
        shown = ", ".join(f"{k}={v}" for k, v in args.items())
        message = f"The contract refused the call: {spec.name}({shown})."
    return ContractRevert(spec.name, args, message)


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert data carried by a web3 or eth-tester exception, if any."""
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, dict) and isinstance(data.get("data"), str):
        return revert_data(type("E", (), {"data": data["data"]})())
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, bytes | bytearray):
            return bytes(arg)
        if isinstance(arg, BaseException):
            found = revert_data(arg)
            if found is not None:
                return found
        if isinstance(arg, str):
            text = arg.split("execution reverted: ", 1)[-1].strip()
            if text.startswith(("b'", 'b"')):
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    continue
                if isinstance(value, bytes):
                    return value
            if text.startswith("0x"):
                try:
                    return bytes.fromhex(text[2:])
                except ValueError:
                    continue
    return None


def explain(exc: BaseException) -> ChainError:
    """A ChainError with a sentence for any exception raised by a contract call."""
    if isinstance(exc, ChainError):
        return exc
    data = revert_data(exc)
    if data is not None:
        return decode_revert(data)
    text = str(exc)
    if "insufficient funds" in text.lower():
        return ChainError(
            "The account has not enough ETH to pay for gas; add ETH to it and try again."
        )
    if "nonce too low" in text.lower():
        return ChainError("The transaction's nonce was already used; send it again.")
    return ChainError(f"The chain refused the transaction: {text}")

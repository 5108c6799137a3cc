// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IApprovalReceiver, IResultReceiver} from "./Interfaces.sol";
import {Hub} from "./Hub.sol";
import {RLC} from "./RLC.sol";

/// @title VanityRequester — the seed's VanityGen dapp as a consumer contract.
/// @notice Two ways to use it:
/// 1. as a callback: a user requests a task on the Hub directly with `callback = this`; the
///    digest of the result is stored here under the task id and the result itself is in the
///    `VanityResult` event (and in the Hub's task);
/// 2. as a requester: `RLC.approveAndCall(this, amount, abi.encode(params, maxPrice, category))`
///    pays the task price through the Hub in one transaction; a failed task's RLC can be taken
///    back with `withdrawRefund`, by the user who paid it and by nobody else, once.
/// @dev The Hub sees this contract as the requester of every task paid here, so all of them
/// share one escrow account on the Hub. Each payer's part is kept in `requests`: a task's
/// record says who paid and how much the Hub will give back if the task fails. The Hub
/// balance of this contract is thus the sum of the refunds it owes (failed tasks not yet
/// withdrawn; more only if the Hub ever rewards it, which nobody can take), and its locked
/// balance the sum of the prices of its active tasks.
/// Both entry points that move RLC check everything, then write their record, then call the
/// token and the Hub (checks-effects-interactions): a call back into this contract while they
/// run finds the record already written (a second request for the same task id is refused,
/// a second refund finds nothing left to refund).
contract VanityRequester is IApprovalReceiver, IResultReceiver {
    using SafeERC20 for IERC20;

    /// @dev One storage slot. `amount` is what the payer paid (the task price) while it can
    /// still come back to them; 0 once refunded. RLC's supply fits 96 bits many times over.
    struct Request {
        address user;
        uint96 amount;
    }

    /// @notice VanityGen results are verified by the grid: one replica is enough.
    uint8 public constant TRUST = 1;

    Hub public immutable hub;
    RLC public immutable token;
    uint256 public immutable appId;
    uint256 public immutable poolId;

    /// @notice Tasks paid through this contract: who paid, and the refund still owed if the
    /// task fails (0 once taken). Tasks requested on the Hub directly have no record here.
    mapping(bytes32 => Request) public requests;
    /// @notice keccak256 of the results the Hub delivered for a task (0: none yet). The results
    /// themselves are in the `VanityResult` event of the same transaction.
    mapping(bytes32 => bytes32) public resultDigest;

    error OnlyHub(address caller);
    error OnlyToken(address caller);
    error NotYourRequest(bytes32 taskId, address caller);
    error NotRefundable(bytes32 taskId);
    error Underpaid(uint256 amount, uint256 price);
    error PriceAboveMax(uint256 price, uint256 maxPrice);
    error PriceTooLarge(uint256 price);
    error TaskIdTaken(bytes32 taskId);

    event VanityRequested(bytes32 indexed taskId, address indexed user, string params, uint256 amount);
    event VanityResult(bytes32 indexed taskId, bytes results);
    event VanityRefunded(bytes32 indexed taskId, address indexed user, uint256 amount);

    constructor(Hub hub_, uint256 appId_, uint256 poolId_) {
        hub = hub_;
        token = RLC(address(hub_.token()));
        appId = appId_;
        poolId = poolId_;
        // The Hub takes from this contract only what it deposits itself (its own `deposit`).
        IERC20(address(token)).forceApprove(address(hub_), type(uint256).max);
    }

    /// @notice Pays the task price out of `amount` and requests a vanity search. Only the
    /// price leaves the payer's wallet: the rest of `amount` is never taken.
    /// `data` is `abi.encode(string params, uint256 maxPrice, uint256 category)`.
    /// @dev Only the token may call this, so `from` is the account that approved `amount`. What
    /// is left of that allowance is never spent: only this function takes RLC from a payer,
    /// and each `approveAndCall` sets the allowance afresh before calling it.
    function receiveApproval(address from, uint256 amount, address token_, bytes calldata data)
        external
    {
        // Checks: nothing moves before every one of them passed.
        if (msg.sender != address(token) || token_ != address(token)) revert OnlyToken(msg.sender);
        (string memory params, uint256 maxPrice, uint256 category) =
            abi.decode(data, (string, uint256, uint256));
        uint256 price = hub.priceOf(appId, poolId, TRUST);
        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);
        if (amount < price) revert Underpaid(amount, price);
        if (price > type(uint96).max) revert PriceTooLarge(price);
        bytes32 taskId = hub.nextTaskId(address(this));
        // Ids are unique per requester on the Hub; a record already there would mean a nested
        // request got the same id: never overwrite one.
        if (requests[taskId].user != address(0)) revert TaskIdTaken(taskId);

        // Effects.
        requests[taskId] = Request(from, uint96(price));
        emit VanityRequested(taskId, from, params, price);

        // Interactions. The Hub is told `price` as the maximum, so it can never lock more than
        // what this payer brought (it reads the same price in this same transaction).
        if (price != 0) {
            IERC20(address(token)).safeTransferFrom(from, address(this), price);
            hub.deposit(price);
        }
        hub.requestTask(appId, poolId, params, price, category, address(this), from, TRUST);
    }

    /// @notice The Hub delivers a finalized task's results: their digest is kept, the results
    /// go in the `VanityResult` event (cheaper than storage, and readable by anyone off chain).
    function receiveResult(bytes32 taskId, bytes calldata results) external {
        if (msg.sender != address(hub)) revert OnlyHub(msg.sender);
        resultDigest[taskId] = keccak256(results);
        emit VanityResult(taskId, results);
    }

    /// @notice Whether the Hub delivered results for `taskId`.
    function hasResult(bytes32 taskId) external view returns (bool) {
        return resultDigest[taskId] != bytes32(0);
    }

    /// @notice Gives a failed (or claimed) task's RLC back to the user who paid it, once.
    function withdrawRefund(bytes32 taskId) external {
        Request storage req = requests[taskId];
        if (req.user != msg.sender) revert NotYourRequest(taskId, msg.sender);
        uint256 amount = req.amount;
        if (amount == 0 || hub.taskStatus(taskId) != Hub.TaskStatus.FAILED) {
            revert NotRefundable(taskId);
        }
        req.amount = 0;
        emit VanityRefunded(taskId, msg.sender, amount);
        hub.withdraw(amount);
        IERC20(address(token)).safeTransfer(msg.sender, amount);
    }
}

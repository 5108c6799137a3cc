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
///    result is stored here under the task id;
/// 2. as a requester: `RLC.approveAndCall(this, amount, abi.encode(params, maxPrice, category))`
///    pays and requests through the Hub in one transaction; a refunded task's RLC can be taken
///    back by the user with `withdrawRefund`.
contract VanityRequester is IApprovalReceiver, IResultReceiver {
    using SafeERC20 for IERC20;

    struct Request {
        address user;
        uint256 amount;
        bool refunded;
    }

    Hub public immutable hub;
    RLC public immutable token;
    uint256 public immutable appId;
    uint256 public immutable poolId;

    mapping(bytes32 => bytes) private _results;
    mapping(bytes32 => bool) public hasResult;
    mapping(bytes32 => Request) public requests;

    error OnlyHub(address caller);
    error OnlyToken(address caller);
    error NotYourRequest(bytes32 taskId, address caller);
    error NotRefundable(bytes32 taskId);

    event VanityRequested(bytes32 indexed taskId, address indexed user, string params, uint256 amount);
    event VanityResult(bytes32 indexed taskId, bytes results);
    event VanityRefunded(bytes32 indexed taskId, address indexed user, uint256 amount);

    constructor(Hub hub_, uint256 appId_, uint256 poolId_) {
        hub = hub_;
        token = RLC(address(hub_.token()));
        appId = appId_;
        poolId = poolId_;
    }

    /// @notice Pays the task price out of `amount` and requests a vanity search; the rest of
    /// `amount` is returned.
    /// `data` is `abi.encode(string params, uint256 maxPrice, uint256 category)`.
    function receiveApproval(address from, uint256 amount, address token_, bytes calldata data)
        external
    {
        if (msg.sender != address(token) || token_ != address(token)) revert OnlyToken(msg.sender);
        (string memory params, uint256 maxPrice, uint256 category) =
            abi.decode(data, (string, uint256, uint256));
        IERC20(address(token)).safeTransferFrom(from, address(this), amount);
        bytes32 taskId = hub.nextTaskId(address(this));
        token.approveAndCall(
            address(hub),
            amount,
            abi.encode(appId, poolId, params, maxPrice, category, address(this), from)
        );
        // Whatever was sent above the price goes straight back to the user.
        uint256 price = hub.app(appId).price + hub.pool(poolId).fee;
        if (amount > price) {
            hub.withdraw(amount - price);
            IERC20(address(token)).safeTransfer(from, amount - price);
        }
        requests[taskId] = Request(from, price, false);
        emit VanityRequested(taskId, from, params, price);
    }

    function receiveResult(bytes32 taskId, bytes calldata results) external {
        if (msg.sender != address(hub)) revert OnlyHub(msg.sender);
        _results[taskId] = results;
        hasResult[taskId] = true;
        emit VanityResult(taskId, results);
    }

    function resultOf(bytes32 taskId) external view returns (bytes memory) {
        return _results[taskId];
    }

    /// @notice Gives a failed or claimed request's RLC back to the user who paid it.
    function withdrawRefund(bytes32 taskId) external {
        Request storage req = requests[taskId];
        if (req.user != msg.sender) revert NotYourRequest(taskId, msg.sender);
        if (req.refunded || hub.taskStatus(taskId) != Hub.TaskStatus.FAILED) {
            revert NotRefundable(taskId);
        }
        req.refunded = true;
        hub.withdraw(req.amount);
        IERC20(address(token)).safeTransfer(msg.sender, req.amount);
        emit VanityRefunded(taskId, msg.sender, req.amount);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice Implemented by a contract that accepts `RLC.approveAndCall` (deposit + action in one tx).
interface IApprovalReceiver {
    function receiveApproval(address from, uint256 amount, address token, bytes calldata data)
        external;
}

/// @notice Implemented by a consumer contract that wants a task's results by callback.
interface IResultReceiver {
    function receiveResult(bytes32 taskId, bytes calldata results) external;
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IApprovalReceiver} from "./Interfaces.sol";

/// @title RLC — the marketplace token (9 decimals, as the real RLC).
/// @notice `approveAndCall` approves a spender and calls its `receiveApproval` in the same
/// transaction, so a deposit and a request take one signature.
contract RLC is ERC20, Ownable {
    constructor(address initialOwner) ERC20("iExec RLC Token", "RLC") Ownable(initialOwner) {}

    function decimals() public pure override returns (uint8) {
        return 9;
    }

    /// @notice Creates `amount` tokens for `to`; only the owner may mint.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @notice Approves `spender` for `amount`, then calls `spender.receiveApproval`.
    function approveAndCall(address spender, uint256 amount, bytes calldata data)
        external
        returns (bool)
    {
        _approve(msg.sender, spender, amount);
        IApprovalReceiver(spender).receiveApproval(msg.sender, amount, address(this), data);
        return true;
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IApprovalReceiver, IResultReceiver} from "./Interfaces.sol";

/// @title Hub — the DeskGrid marketplace (a small PoCo).
/// @notice Apps and workerpools are registered here; requesters keep RLC in escrow; a request
/// locks the price; the pool's scheduler (its owner, the oracle) finalizes the task, which pays
/// the app owner, the pool and the workers, then calls the requester's callback; or fails it,
/// which refunds. Anyone may claim a refund once the final deadline has passed.
contract Hub is IApprovalReceiver, Ownable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    enum TaskStatus {
        UNSET,
        ACTIVE,
        COMPLETED,
        FAILED
    }

    struct App {
        address owner;
        string name;
        string uri;
        bytes32 paramsSchemaHash;
        uint256 price;
        bool retired;
    }

    struct Pool {
        address owner;
        string description;
        uint256 fee;
        uint16 workerShareBps;
    }

    struct Category {
        string name;
        uint256 timeRef;
    }

    struct Account {
        uint256 balance;
        uint256 locked;
    }

    struct Task {
        TaskStatus status;
        address requester;
        address beneficiary;
        address callback;
        uint256 appId;
        uint256 poolId;
        uint256 category;
        uint256 appPrice;
        uint256 poolFee;
        uint16 workerShareBps;
        uint256 requestedAt;
        uint256 finalDeadline;
        bytes32 resultDigest;
        bytes results;
        string params;
    }

    /// @notice Gas given to a requester's callback; a failing callback never blocks payment.
    uint256 public constant CALLBACK_GAS = 200_000;
    /// @notice The final deadline is this many category time references after the request.
    uint256 public constant FINAL_DEADLINE_RATIO = 10;
    uint16 public constant BPS = 10_000;

    IERC20 public immutable token;

    App[] private _apps;
    Pool[] private _pools;
    Category[] private _categories;
    mapping(address => Account) private _accounts;
    mapping(bytes32 => Task) private _tasks;
    mapping(address => uint256) public requestNonce;

    error UnknownApp(uint256 appId);
    error AppIsRetired(uint256 appId);
    error UnknownPool(uint256 poolId);
    error UnknownCategory(uint256 category);
    error UnknownTask(bytes32 taskId);
    error NotAppOwner(uint256 appId, address caller);
    error NotPoolOwner(uint256 poolId, address caller);
    error NotScheduler(bytes32 taskId, address caller);
    error PriceAboveMax(uint256 price, uint256 maxPrice);
    error InsufficientBalance(uint256 available, uint256 needed);
    error TaskNotActive(bytes32 taskId, TaskStatus status);
    error TooEarlyToClaim(bytes32 taskId, uint256 finalDeadline);
    error DeadlinePassed(bytes32 taskId, uint256 finalDeadline);
    error InvalidWorkerShare(uint256 workerShareBps);
    error WorkersWeightsMismatch(uint256 workers, uint256 weights);
    error ZeroTotalWeight();
    error ZeroAddressWorker(uint256 index);
    error ZeroAmount();
    error EmptyName();
    error InvalidTimeRef();
    error OnlyToken(address caller);
    error NotEnoughGasForCallback(uint256 available, uint256 needed);

    event AppRegistered(uint256 indexed appId, address indexed owner, string name, string uri, bytes32 paramsSchemaHash, uint256 price);
    event AppPriceChanged(uint256 indexed appId, uint256 price);
    event AppRetired(uint256 indexed appId);
    event PoolRegistered(uint256 indexed poolId, address indexed owner, string description, uint256 fee, uint16 workerShareBps);
    event PoolUpdated(uint256 indexed poolId, uint256 fee, uint16 workerShareBps);
    event CategoryCreated(uint256 indexed category, string name, uint256 timeRef);
    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event Locked(address indexed account, uint256 amount);
    event Unlocked(address indexed account, uint256 amount);
    event Rewarded(address indexed account, bytes32 indexed taskId, uint256 amount, uint8 role);
    event TaskRequested(
        bytes32 indexed taskId,
        address indexed requester,
        uint256 indexed appId,
        uint256 poolId,
        string params,
        uint256 price,
        uint256 category,
        uint256 finalDeadline,
        address callback,
        address beneficiary
    );
    event TaskFinalized(bytes32 indexed taskId, bytes32 resultDigest, bytes results);
    event TaskFailed(bytes32 indexed taskId, string reason);
    event TaskClaimed(bytes32 indexed taskId, address indexed claimer);
    event CallbackDelivered(bytes32 indexed taskId, address indexed callback);
    event CallbackFailed(bytes32 indexed taskId, address indexed callback);

    /// @dev Reward roles in the `Rewarded` event.
    uint8 public constant ROLE_APP_OWNER = 0;
    uint8 public constant ROLE_POOL_OWNER = 1;
    uint8 public constant ROLE_WORKER = 2;

    constructor(IERC20 token_, address initialOwner) Ownable(initialOwner) {
        token = token_;
        // Ids start at 1: 0 always means "none".
        _apps.push();
        _pools.push();
        // PoCo-like categories: the final deadline is 10 x the time reference.
        _createCategory("XS", 60);
        _createCategory("S", 5 minutes);
        _createCategory("M", 20 minutes);
        _createCategory("L", 1 hours);
        _createCategory("XL", 3 hours);
    }

    // ------------------------------------------------------------------ categories

    function createCategory(string calldata name, uint256 timeRef)
        external
        onlyOwner
        returns (uint256)
    {
        return _createCategory(name, timeRef);
    }

    function _createCategory(string memory name, uint256 timeRef) private returns (uint256 id) {
        if (bytes(name).length == 0) revert EmptyName();
        if (timeRef == 0) revert InvalidTimeRef();
        id = _categories.length;
        _categories.push(Category(name, timeRef));
        emit CategoryCreated(id, name, timeRef);
    }

    function categoryCount() external view returns (uint256) {
        return _categories.length;
    }

    function category(uint256 id) external view returns (Category memory) {
        if (id >= _categories.length) revert UnknownCategory(id);
        return _categories[id];
    }

    // ------------------------------------------------------------------ apps

    function registerApp(
        string calldata name,
        string calldata uri,
        bytes32 paramsSchemaHash,
        uint256 price
    ) external returns (uint256 appId) {
        if (bytes(name).length == 0) revert EmptyName();
        appId = _apps.length;
        _apps.push(App(msg.sender, name, uri, paramsSchemaHash, price, false));
        emit AppRegistered(appId, msg.sender, name, uri, paramsSchemaHash, price);
    }

    function setAppPrice(uint256 appId, uint256 price) external {
        App storage app_ = _ownedApp(appId);
        app_.price = price;
        emit AppPriceChanged(appId, price);
    }

    function retireApp(uint256 appId) external {
        App storage app_ = _ownedApp(appId);
        app_.retired = true;
        emit AppRetired(appId);
    }

    function appCount() external view returns (uint256) {
        return _apps.length - 1;
    }

    function app(uint256 appId) external view returns (App memory) {
        if (appId == 0 || appId >= _apps.length) revert UnknownApp(appId);
        return _apps[appId];
    }

    function _ownedApp(uint256 appId) private view returns (App storage app_) {
        if (appId == 0 || appId >= _apps.length) revert UnknownApp(appId);
        app_ = _apps[appId];
        if (app_.owner != msg.sender) revert NotAppOwner(appId, msg.sender);
    }

    // ------------------------------------------------------------------ workerpools

    function registerPool(string calldata description, uint256 fee, uint16 workerShareBps)
        external
        returns (uint256 poolId)
    {
        if (workerShareBps > BPS) revert InvalidWorkerShare(workerShareBps);
        poolId = _pools.length;
        _pools.push(Pool(msg.sender, description, fee, workerShareBps));
        emit PoolRegistered(poolId, msg.sender, description, fee, workerShareBps);
    }

    function updatePool(uint256 poolId, uint256 fee, uint16 workerShareBps) external {
        if (poolId == 0 || poolId >= _pools.length) revert UnknownPool(poolId);
        Pool storage pool_ = _pools[poolId];
        if (pool_.owner != msg.sender) revert NotPoolOwner(poolId, msg.sender);
        if (workerShareBps > BPS) revert InvalidWorkerShare(workerShareBps);
        pool_.fee = fee;
        pool_.workerShareBps = workerShareBps;
        emit PoolUpdated(poolId, fee, workerShareBps);
    }

    function poolCount() external view returns (uint256) {
        return _pools.length - 1;
    }

    function pool(uint256 poolId) external view returns (Pool memory) {
        if (poolId == 0 || poolId >= _pools.length) revert UnknownPool(poolId);
        return _pools[poolId];
    }

    // ------------------------------------------------------------------ escrow

    function deposit(uint256 amount) external nonReentrant {
        _deposit(msg.sender, msg.sender, amount);
    }

    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Account storage acc = _accounts[msg.sender];
        if (acc.balance < amount) revert InsufficientBalance(acc.balance, amount);
        acc.balance -= amount;
        token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Free (withdrawable) escrow balance of `account`.
    function balanceOf(address account) external view returns (uint256) {
        return _accounts[account].balance;
    }

    /// @notice Escrow locked by `account`'s active tasks.
    function lockedOf(address account) external view returns (uint256) {
        return _accounts[account].locked;
    }

    function _deposit(address payer, address account, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        token.safeTransferFrom(payer, address(this), amount);
        _accounts[account].balance += amount;
        emit Deposited(account, amount);
    }

    // ------------------------------------------------------------------ requests

    /// @notice The id the next request of `requester` will get.
    function nextTaskId(address requester) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), requester, requestNonce[requester]));
    }

    /// @notice Requests a task paid from the caller's escrow; returns the task id.
    function requestTask(
        uint256 appId,
        uint256 poolId,
        string calldata params,
        uint256 maxPrice,
        uint256 category_,
        address callback,
        address beneficiary
    ) external nonReentrant returns (bytes32) {
        return _request(msg.sender, appId, poolId, params, maxPrice, category_, callback, beneficiary);
    }

    /// @notice `RLC.approveAndCall(hub, amount, data)`: deposits `amount` for `from` and, when
    /// `data` is not empty, requests the task it encodes:
    /// `abi.encode(appId, poolId, params, maxPrice, category, callback, beneficiary)`.
    function receiveApproval(address from, uint256 amount, address token_, bytes calldata data)
        external
        nonReentrant
    {
        if (msg.sender != address(token) || token_ != address(token)) revert OnlyToken(msg.sender);
        _deposit(from, from, amount);
        if (data.length == 0) return;
        (
            uint256 appId,
            uint256 poolId,
            string memory params,
            uint256 maxPrice,
            uint256 category_,
            address callback,
            address beneficiary
        ) = abi.decode(data, (uint256, uint256, string, uint256, uint256, address, address));
        _request(from, appId, poolId, params, maxPrice, category_, callback, beneficiary);
    }

    function _request(
        address requester,
        uint256 appId,
        uint256 poolId,
        string memory params,
        uint256 maxPrice,
        uint256 category_,
        address callback,
        address beneficiary
    ) private returns (bytes32 taskId) {
        if (appId == 0 || appId >= _apps.length) revert UnknownApp(appId);
        App storage app_ = _apps[appId];
        if (app_.retired) revert AppIsRetired(appId);
        if (poolId == 0 || poolId >= _pools.length) revert UnknownPool(poolId);
        Pool storage pool_ = _pools[poolId];
        if (category_ >= _categories.length) revert UnknownCategory(category_);
        uint256 price = app_.price + pool_.fee;
        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);
        Account storage acc = _accounts[requester];
        if (acc.balance < price) revert InsufficientBalance(acc.balance, price);
        acc.balance -= price;
        acc.locked += price;
        emit Locked(requester, price);

        taskId = nextTaskId(requester);
        requestNonce[requester] += 1;
        if (beneficiary == address(0)) beneficiary = requester;
        uint256 finalDeadline =
            block.timestamp + FINAL_DEADLINE_RATIO * _categories[category_].timeRef;
        Task storage task_ = _tasks[taskId];
        task_.status = TaskStatus.ACTIVE;
        task_.requester = requester;
        task_.beneficiary = beneficiary;
        task_.callback = callback;
        task_.appId = appId;
        task_.poolId = poolId;
        task_.category = category_;
        task_.appPrice = app_.price;
        task_.poolFee = pool_.fee;
        task_.workerShareBps = pool_.workerShareBps;
        task_.requestedAt = block.timestamp;
        task_.finalDeadline = finalDeadline;
        task_.params = params;
        emit TaskRequested(
            taskId, requester, appId, poolId, params, price, category_, finalDeadline, callback, beneficiary
        );
    }

    function task(bytes32 taskId) external view returns (Task memory) {
        if (_tasks[taskId].status == TaskStatus.UNSET) revert UnknownTask(taskId);
        return _tasks[taskId];
    }

    function taskStatus(bytes32 taskId) external view returns (TaskStatus) {
        return _tasks[taskId].status;
    }

    // ------------------------------------------------------------------ outcomes

    /// @notice The pool's scheduler closes a task with its result and pays everyone.
    function finalize(
        bytes32 taskId,
        bytes32 resultDigest,
        bytes calldata results,
        address[] calldata workers,
        uint256[] calldata weights
    ) external nonReentrant {
        Task storage task_ = _activeTask(taskId);
        if (_pools[task_.poolId].owner != msg.sender) revert NotScheduler(taskId, msg.sender);
        if (block.timestamp >= task_.finalDeadline) revert DeadlinePassed(taskId, task_.finalDeadline);
        if (workers.length != weights.length) revert WorkersWeightsMismatch(workers.length, weights.length);

        uint256 totalWeight;
        for (uint256 i = 0; i < workers.length; i++) {
            if (workers[i] == address(0)) revert ZeroAddressWorker(i);
            totalWeight += weights[i];
        }
        if (workers.length > 0 && totalWeight == 0) revert ZeroTotalWeight();

        task_.status = TaskStatus.COMPLETED;
        task_.resultDigest = resultDigest;
        task_.results = results;

        uint256 price = task_.appPrice + task_.poolFee;
        _accounts[task_.requester].locked -= price;
        emit Unlocked(task_.requester, price);

        _reward(_apps[task_.appId].owner, taskId, task_.appPrice, ROLE_APP_OWNER);
        uint256 workersTotal =
            workers.length == 0 ? 0 : task_.poolFee * task_.workerShareBps / BPS;
        uint256 paid;
        for (uint256 i = 0; i < workers.length; i++) {
            uint256 share = workersTotal * weights[i] / totalWeight;
            paid += share;
            _reward(workers[i], taskId, share, ROLE_WORKER);
        }
        // The pool owner gets its fee, the workers' part not paid out, and rounding dust.
        _reward(msg.sender, taskId, task_.poolFee - paid, ROLE_POOL_OWNER);

        emit TaskFinalized(taskId, resultDigest, results);
        _deliver(taskId, task_.callback, results);
    }

    /// @notice The pool's scheduler gives up on a task: the requester is refunded.
    function fail(bytes32 taskId, string calldata reason) external nonReentrant {
        Task storage task_ = _activeTask(taskId);
        if (_pools[task_.poolId].owner != msg.sender) revert NotScheduler(taskId, msg.sender);
        _refund(taskId, task_);
        emit TaskFailed(taskId, reason);
    }

    /// @notice Anyone may close a task whose final deadline passed: the requester is refunded.
    function claim(bytes32 taskId) external nonReentrant {
        Task storage task_ = _activeTask(taskId);
        if (block.timestamp < task_.finalDeadline) revert TooEarlyToClaim(taskId, task_.finalDeadline);
        _refund(taskId, task_);
        emit TaskClaimed(taskId, msg.sender);
    }

    function _activeTask(bytes32 taskId) private view returns (Task storage task_) {
        task_ = _tasks[taskId];
        if (task_.status == TaskStatus.UNSET) revert UnknownTask(taskId);
        if (task_.status != TaskStatus.ACTIVE) revert TaskNotActive(taskId, task_.status);
    }

    function _refund(bytes32, Task storage task_) private {
        task_.status = TaskStatus.FAILED;
        uint256 price = task_.appPrice + task_.poolFee;
        Account storage acc = _accounts[task_.requester];
        acc.locked -= price;
        acc.balance += price;
        emit Unlocked(task_.requester, price);
    }

    function _reward(address account, bytes32 taskId, uint256 amount, uint8 role) private {
        if (amount == 0) return;
        _accounts[account].balance += amount;
        emit Rewarded(account, taskId, amount, role);
    }

    function _deliver(bytes32 taskId, address callback, bytes calldata results) private {
        if (callback == address(0)) return;
        if (callback.code.length == 0) {
            emit CallbackFailed(taskId, callback);
            return;
        }
        // Keep enough gas that the callback really gets CALLBACK_GAS (the 63/64 rule), so a
        // scheduler cannot starve a requester's callback on purpose.
        uint256 needed = CALLBACK_GAS * 64 / 63 + 5_000;
        if (gasleft() < needed) revert NotEnoughGasForCallback(gasleft(), needed);
        try IResultReceiver(callback).receiveResult{gas: CALLBACK_GAS}(taskId, results) {
            emit CallbackDelivered(taskId, callback);
        } catch {
            emit CallbackFailed(taskId, callback);
        }
    }
}

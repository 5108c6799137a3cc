// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IApprovalReceiver, IResultReceiver} from "./Interfaces.sol";

/// @title Hub — the DeskGrid marketplace (a small PoCo).
/// @notice Apps and workerpools are registered here; requesters keep RLC in escrow; a request
/// locks the price; the pool's scheduler (the oracle) finalizes the task, which pays the app
/// owner, the pool and the workers, then calls the requester's callback; or fails it, which
/// refunds. Anyone may claim a refund once the final deadline has passed.
/// Stake: accounts stake RLC out of their escrow (workers for the results they contribute, pool
/// owners for the tasks their pool runs). A paid request locks part of the pool owner's stake
/// until the task is closed, and the pool loses it to the requester when the task is claimed
/// (not finalized in time). A contribution the scheduler stakes (replicated work nobody can
/// verify: `lockStake` while it computes) locks part of the worker's stake: an honest one gets
/// it back with its reward and a win in its reputation; an out-voted one loses it to the
/// honest contributors and gets a loss. A contribution without a lock (a result the grid
/// verified) needs no stake and is simply paid. Only unlocked stake can be unstaked.
contract Hub is IApprovalReceiver, Ownable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    enum TaskStatus {
        UNSET,
        ACTIVE,
        COMPLETED,
        FAILED
    }

    /// @dev `price` and `retired` share a slot: a request reads both with one storage read.
    struct App {
        address owner;
        string name;
        string uri;
        bytes32 paramsSchemaHash;
        uint96 price;
        bool retired;
    }

    /// @dev `owner` is paid the pool's fee and stakes for its tasks; `scheduler` (a key the owner
    /// may rotate) finalizes and fails them; `pendingOwner` must accept a proposed transfer.
    struct Pool {
        address owner;
        uint16 workerShareBps;
        address scheduler;
        address pendingOwner;
        uint256 fee;
        string description;
    }

    struct Category {
        string name;
        uint256 timeRef;
    }

    struct Account {
        uint256 balance;
        uint256 locked;
    }

    /// @dev One slot: `amount` is the whole stake (locked included); `wins`/`losses` count the
    /// account's honest and out-voted contributions (its reputation).
    struct Stake {
        uint96 amount;
        uint96 locked;
        uint32 wins;
        uint32 losses;
    }

    /// @dev Packed in 6 slots + params. The results are not stored: they are in the
    /// `TaskFinalized` event of block `closedBlock`, and `resultDigest` (their sha256) is here.
    struct Task {
        TaskStatus status;
        address requester;
        uint16 workerShareBps;
        uint16 openLocks; // contributions locked by `lockStake` and not yet settled
        uint32 category;
        uint8 trust; // the level the requester paid for (1..MAX_TRUST), see `priceOf`
        address beneficiary;
        uint40 requestedAt;
        uint40 finalDeadline;
        address callback;
        uint32 appId;
        uint32 poolId;
        address poolStaker; // the pool owner whose stake this task locked
        uint96 appPrice;
        uint96 poolFee;
        uint96 poolStakeLocked;
        uint64 closedBlock;
        bytes32 resultDigest;
        string params;
    }

    /// @notice Gas given to a requester's callback; a failing callback never blocks payment.
    uint256 public constant CALLBACK_GAS = 200_000;
    /// @notice The final deadline is this many category time references after the request.
    uint256 public constant FINAL_DEADLINE_RATIO = 10;
    uint16 public constant BPS = 10_000;
    /// @notice Each contribution to a task locks this share of the task's price of the worker's
    /// stake (30 %: 1.5 RLC for a 5 RLC task).
    uint16 public constant CONTRIBUTION_STAKE_BPS = 3_000;
    /// @notice Each paid request locks this share of its price of the pool owner's stake.
    uint16 public constant POOL_STAKE_BPS = 3_000;
    /// @notice A pool owner needs at least this stake (nRLC: 10 RLC) for its pool to take paid
    /// requests.
    uint256 public constant MIN_POOL_STAKE = 10 * 10 ** 9;
    /// @notice Trust levels run from 1 (one replica: apps whose results can be verified) to
    /// this; a level is the number of pool fees the requester pays (`priceOf`).
    uint8 public constant MAX_TRUST = 5;

    IERC20 public immutable token;

    App[] private _apps;
    Pool[] private _pools;
    Category[] private _categories;
    mapping(address => Account) private _accounts;
    mapping(bytes32 => Task) private _tasks;
    mapping(address => uint256) public requestNonce;
    mapping(address => Stake) private _stakes;
    /// @dev Contributions of an account to a task locked by `lockStake`, not yet settled.
    mapping(bytes32 => mapping(address => uint256)) private _contributionLocks;

    error UnknownApp(uint256 appId);
    error AppIsRetired(uint256 appId);
    error UnknownPool(uint256 poolId);
    error UnknownCategory(uint256 category);
    error UnknownTask(bytes32 taskId);
    error NotAppOwner(uint256 appId, address caller);
    error NotPoolOwner(uint256 poolId, address caller);
    error NotPendingPoolOwner(uint256 poolId, address caller);
    error NotScheduler(bytes32 taskId, address caller);
    error PriceAboveMax(uint256 price, uint256 maxPrice);
    error InvalidTrust(uint8 trust);
    error InsufficientBalance(uint256 available, uint256 needed);
    error InsufficientStake(address account, uint256 available, uint256 needed);
    error PoolStakeTooLow(uint256 poolId, uint256 stake, uint256 needed);
    error NoLockedContribution(bytes32 taskId, address account);
    error UnsettledContributions(bytes32 taskId, uint256 count);
    error ResultDigestMismatch(bytes32 resultDigest, bytes32 actual);
    error TaskNotActive(bytes32 taskId, TaskStatus status);
    error TooEarlyToClaim(bytes32 taskId, uint256 finalDeadline);
    error DeadlinePassed(bytes32 taskId, uint256 finalDeadline);
    error InvalidWorkerShare(uint256 workerShareBps);
    error WorkersWeightsMismatch(uint256 workers, uint256 weights);
    error ZeroTotalWeight();
    error ZeroAddressWorker(uint256 index);
    error ZeroAddress();
    error ZeroAmount();
    error AmountTooLarge(uint256 amount);
    error EmptyName();
    error InvalidTimeRef();
    error OnlyToken(address caller);
    error NotEnoughGasForCallback(uint256 available, uint256 needed);

    event AppRegistered(uint256 indexed appId, address indexed owner, string name, string uri, bytes32 paramsSchemaHash, uint256 price);
    event AppPriceChanged(uint256 indexed appId, uint256 price);
    event AppRetired(uint256 indexed appId);
    event PoolRegistered(uint256 indexed poolId, address indexed owner, string description, uint256 fee, uint16 workerShareBps);
    event PoolUpdated(uint256 indexed poolId, uint256 fee, uint16 workerShareBps);
    event PoolOwnershipProposed(uint256 indexed poolId, address indexed owner, address indexed pendingOwner);
    event PoolOwnershipTransferred(uint256 indexed poolId, address indexed previousOwner, address indexed newOwner);
    event PoolSchedulerChanged(uint256 indexed poolId, address indexed scheduler);
    event CategoryCreated(uint256 indexed category, string name, uint256 timeRef);
    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event Locked(address indexed account, uint256 amount);
    event Unlocked(address indexed account, uint256 amount);
    event Rewarded(address indexed account, bytes32 indexed taskId, uint256 amount, uint8 role);
    event Staked(address indexed account, address indexed from, uint256 amount);
    event Unstaked(address indexed account, uint256 amount);
    event StakeLocked(address indexed account, bytes32 indexed taskId, uint256 amount);
    event StakeUnlocked(address indexed account, bytes32 indexed taskId, uint256 amount);
    /// @notice `amount` of `account`'s stake was taken for `taskId`; `to` got it (address(0):
    /// shared among the task's honest contributors), each share in a `Rewarded` event of role
    /// ROLE_SLASHED_STAKE.
    event Slashed(address indexed account, bytes32 indexed taskId, uint256 amount, address to);
    /// @notice One per contributor settled by `finalize`: the audit record of who contributed.
    event ReputationChanged(address indexed account, bytes32 indexed taskId, uint32 wins, uint32 losses);
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
        address beneficiary,
        uint8 trust
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
    uint8 public constant ROLE_SLASHED_STAKE = 3;

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
        if (price > type(uint96).max) revert AmountTooLarge(price);
        appId = _apps.length;
        _apps.push(App(msg.sender, name, uri, paramsSchemaHash, uint96(price), false));
        emit AppRegistered(appId, msg.sender, name, uri, paramsSchemaHash, price);
    }

    function setAppPrice(uint256 appId, uint256 price) external {
        App storage app_ = _ownedApp(appId);
        if (price > type(uint96).max) revert AmountTooLarge(price);
        app_.price = uint96(price);
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
        _pools.push(Pool(msg.sender, workerShareBps, msg.sender, address(0), fee, description));
        emit PoolRegistered(poolId, msg.sender, description, fee, workerShareBps);
    }

    function updatePool(uint256 poolId, uint256 fee, uint16 workerShareBps) external {
        Pool storage pool_ = _ownedPool(poolId);
        if (workerShareBps > BPS) revert InvalidWorkerShare(workerShareBps);
        pool_.fee = fee;
        pool_.workerShareBps = workerShareBps;
        emit PoolUpdated(poolId, fee, workerShareBps);
    }

    /// @notice First step of a transfer: the owner names the next owner, who must accept.
    /// Proposing the zero address cancels a proposal.
    function proposePoolOwner(uint256 poolId, address newOwner) external {
        Pool storage pool_ = _ownedPool(poolId);
        pool_.pendingOwner = newOwner;
        emit PoolOwnershipProposed(poolId, msg.sender, newOwner);
    }

    /// @notice Second step: the proposed owner takes the pool (its fee, its future stake locks
    /// and the choice of its scheduler; tasks already requested keep the stake they locked).
    function acceptPoolOwnership(uint256 poolId) external {
        if (poolId == 0 || poolId >= _pools.length) revert UnknownPool(poolId);
        Pool storage pool_ = _pools[poolId];
        if (pool_.pendingOwner != msg.sender || msg.sender == address(0)) {
            revert NotPendingPoolOwner(poolId, msg.sender);
        }
        address previous = pool_.owner;
        pool_.owner = msg.sender;
        pool_.pendingOwner = address(0);
        emit PoolOwnershipTransferred(poolId, previous, msg.sender);
    }

    /// @notice The owner rotates the key that finalizes and fails the pool's tasks.
    function setPoolScheduler(uint256 poolId, address scheduler) external {
        Pool storage pool_ = _ownedPool(poolId);
        if (scheduler == address(0)) revert ZeroAddress();
        pool_.scheduler = scheduler;
        emit PoolSchedulerChanged(poolId, scheduler);
    }

    function poolCount() external view returns (uint256) {
        return _pools.length - 1;
    }

    function pool(uint256 poolId) external view returns (Pool memory) {
        if (poolId == 0 || poolId >= _pools.length) revert UnknownPool(poolId);
        return _pools[poolId];
    }

    function _ownedPool(uint256 poolId) private view returns (Pool storage pool_) {
        if (poolId == 0 || poolId >= _pools.length) revert UnknownPool(poolId);
        pool_ = _pools[poolId];
        if (pool_.owner != msg.sender) revert NotPoolOwner(poolId, msg.sender);
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

    // ------------------------------------------------------------------ stake

    /// @notice Moves `amount` of the caller's free escrow balance into its stake.
    function stake(uint256 amount) external nonReentrant {
        _stakeFrom(msg.sender, msg.sender, amount);
    }

    /// @notice Moves `amount` of the caller's free escrow balance into `account`'s stake (a pool
    /// staking for a volunteer, a sponsor): only `account` can unstake it, into its own escrow.
    function stakeFor(address account, uint256 amount) external nonReentrant {
        if (account == address(0)) revert ZeroAddress();
        _stakeFrom(msg.sender, account, amount);
    }

    /// @notice Moves `amount` of the caller's unlocked stake back to its free escrow balance.
    function unstake(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Stake storage s = _stakes[msg.sender];
        uint256 free = s.amount - s.locked;
        if (free < amount) revert InsufficientStake(msg.sender, free, amount);
        s.amount -= uint96(amount);
        _accounts[msg.sender].balance += amount;
        emit Unstaked(msg.sender, amount);
    }

    /// @notice Whole stake of `account` (its locked part included).
    function stakeOf(address account) external view returns (uint256) {
        return _stakes[account].amount;
    }

    /// @notice Part of `account`'s stake locked by active tasks.
    function lockedStakeOf(address account) external view returns (uint256) {
        return _stakes[account].locked;
    }

    /// @notice Honest (`wins`) and out-voted (`losses`) contributions of `account`.
    function reputationOf(address account) external view returns (uint32 wins, uint32 losses) {
        Stake storage s = _stakes[account];
        return (s.wins, s.losses);
    }

    /// @notice Stake one contribution to `taskId` locks.
    function contributionStake(bytes32 taskId) public view returns (uint256) {
        Task storage task_ = _tasks[taskId];
        if (task_.status == TaskStatus.UNSET) revert UnknownTask(taskId);
        return _contributionStake(task_);
    }

    /// @notice Locked contributions of `account` to `taskId` not yet settled.
    function contributionLocks(bytes32 taskId, address account) external view returns (uint256) {
        return _contributionLocks[taskId][account];
    }

    /// @notice The scheduler locks the stake of each worker given a replica of `taskId`, while it
    /// computes (a worker listed twice locks twice). `finalize` must then settle every one.
    function lockStake(bytes32 taskId, address[] calldata workers) external nonReentrant {
        Task storage task_ = _activeTask(taskId);
        if (_pools[task_.poolId].scheduler != msg.sender) revert NotScheduler(taskId, msg.sender);
        uint256 amount = _contributionStake(task_);
        for (uint256 i = 0; i < workers.length; i++) {
            address worker = workers[i];
            if (worker == address(0)) revert ZeroAddressWorker(i);
            Stake storage s = _stakes[worker];
            uint256 free = s.amount - s.locked;
            if (free < amount) revert InsufficientStake(worker, free, amount);
            s.locked += uint96(amount);
            _contributionLocks[taskId][worker] += 1;
            emit StakeLocked(worker, taskId, amount);
        }
        task_.openLocks += uint16(workers.length);
    }

    /// @notice Unlocks contributions locked by `lockStake` without reward nor penalty (a worker
    /// whose lease expired): by the scheduler while the task is active, by anyone once closed.
    function releaseStake(bytes32 taskId, address[] calldata workers) external nonReentrant {
        Task storage task_ = _tasks[taskId];
        if (task_.status == TaskStatus.UNSET) revert UnknownTask(taskId);
        bool active = task_.status == TaskStatus.ACTIVE;
        if (active && _pools[task_.poolId].scheduler != msg.sender) {
            revert NotScheduler(taskId, msg.sender);
        }
        uint256 amount = _contributionStake(task_);
        for (uint256 i = 0; i < workers.length; i++) {
            if (_contributionLocks[taskId][workers[i]] == 0) {
                revert NoLockedContribution(taskId, workers[i]);
            }
            _contributionLocks[taskId][workers[i]] -= 1;
            _stakes[workers[i]].locked -= uint96(amount);
            emit StakeUnlocked(workers[i], taskId, amount);
        }
        if (active) task_.openLocks -= uint16(workers.length);
    }

    function _stakeFrom(address payer, address account, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        Account storage acc = _accounts[payer];
        if (acc.balance < amount) revert InsufficientBalance(acc.balance, amount);
        Stake storage s = _stakes[account];
        if (uint256(s.amount) + amount > type(uint96).max) revert AmountTooLarge(amount);
        acc.balance -= amount;
        s.amount += uint96(amount);
        emit Staked(account, payer, amount);
    }

    function _contributionStake(Task storage task_) private view returns (uint256) {
        return (uint256(task_.appPrice) + task_.poolFee) * CONTRIBUTION_STAKE_BPS / BPS;
    }

    // ------------------------------------------------------------------ requests

    /// @notice The id the next request of `requester` will get.
    function nextTaskId(address requester) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), requester, requestNonce[requester]));
    }

    /// @notice The price of a task of `appId` on `poolId` at trust level `trust`: the app's
    /// price plus the pool's fee per replica times the level.
    function priceOf(uint256 appId, uint256 poolId, uint8 trust) external view returns (uint256) {
        if (appId == 0 || appId >= _apps.length) revert UnknownApp(appId);
        if (poolId == 0 || poolId >= _pools.length) revert UnknownPool(poolId);
        if (trust == 0 || trust > MAX_TRUST) revert InvalidTrust(trust);
        return _apps[appId].price + _pools[poolId].fee * trust;
    }

    /// @notice Requests a task paid from the caller's escrow at trust level `trust` (1..5);
    /// returns the task id.
    function requestTask(
        uint256 appId,
        uint256 poolId,
        string calldata params,
        uint256 maxPrice,
        uint256 category_,
        address callback,
        address beneficiary,
        uint8 trust
    ) external nonReentrant returns (bytes32) {
        return _request(msg.sender, appId, poolId, params, maxPrice, category_, callback, beneficiary, trust);
    }

    /// @notice `RLC.approveAndCall(hub, amount, data)`: deposits `amount` for `from` and, when
    /// `data` is not empty, requests the task it encodes:
    /// `abi.encode(appId, poolId, params, maxPrice, category, callback, beneficiary, trust)`.
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
            address beneficiary,
            uint8 trust
        ) = abi.decode(data, (uint256, uint256, string, uint256, uint256, address, address, uint8));
        _request(from, appId, poolId, params, maxPrice, category_, callback, beneficiary, trust);
    }

    function _request(
        address requester,
        uint256 appId,
        uint256 poolId,
        string memory params,
        uint256 maxPrice,
        uint256 category_,
        address callback,
        address beneficiary,
        uint8 trust
    ) private returns (bytes32 taskId) {
        if (appId == 0 || appId >= _apps.length) revert UnknownApp(appId);
        App storage app_ = _apps[appId];
        if (app_.retired) revert AppIsRetired(appId);
        if (poolId == 0 || poolId >= _pools.length) revert UnknownPool(poolId);
        Pool storage pool_ = _pools[poolId];
        if (category_ >= _categories.length) revert UnknownCategory(category_);
        if (trust == 0 || trust > MAX_TRUST) revert InvalidTrust(trust);
        // The task keeps the fee of all its replicas: finalize, fail and claim use it as is.
        uint256 poolFee = pool_.fee * trust;
        uint256 price = app_.price + poolFee;
        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);
        if (price > type(uint96).max) revert AmountTooLarge(price);
        Account storage acc = _accounts[requester];
        if (acc.balance < price) revert InsufficientBalance(acc.balance, price);
        acc.balance -= price;
        acc.locked += price;
        emit Locked(requester, price);

        taskId = nextTaskId(requester);
        requestNonce[requester] += 1;
        address poolOwner = pool_.owner;
        uint256 poolLock = price * POOL_STAKE_BPS / BPS;
        if (price != 0) {
            Stake storage s = _stakes[poolOwner];
            if (s.amount < MIN_POOL_STAKE) revert PoolStakeTooLow(poolId, s.amount, MIN_POOL_STAKE);
            uint256 free = s.amount - s.locked;
            if (free < poolLock) revert InsufficientStake(poolOwner, free, poolLock);
            s.locked += uint96(poolLock);
            emit StakeLocked(poolOwner, taskId, poolLock);
        }
        if (beneficiary == address(0)) beneficiary = requester;
        uint256 finalDeadline =
            block.timestamp + FINAL_DEADLINE_RATIO * _categories[category_].timeRef;
        Task storage task_ = _tasks[taskId];
        task_.status = TaskStatus.ACTIVE;
        task_.requester = requester;
        task_.workerShareBps = pool_.workerShareBps;
        task_.category = uint32(category_);
        task_.trust = trust;
        task_.beneficiary = beneficiary;
        task_.requestedAt = uint40(block.timestamp);
        task_.finalDeadline = uint40(finalDeadline);
        task_.callback = callback;
        task_.appId = uint32(appId);
        task_.poolId = uint32(poolId);
        task_.poolStaker = poolOwner;
        task_.appPrice = uint96(app_.price);
        task_.poolFee = uint96(poolFee);
        task_.poolStakeLocked = uint96(poolLock);
        task_.params = params;
        emit TaskRequested(
            taskId, requester, appId, poolId, params, price, category_, finalDeadline, callback, beneficiary, trust
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
    /// `resultDigest` is the sha256 of the result (the grid's hash of it); `results` is the
    /// result itself, or empty when it is too large to post (then only its digest is recorded).
    /// `workers`/`weights` are the honest contributors (paid by weight); `losers` the
    /// contributions the consensus out-voted (a worker listed twice contributed twice). Every
    /// lock `lockStake` took must be settled: the honest get theirs back, the losers' (each
    /// loser must have a lock) goes to the honest by weight (to the pool owner when there are
    /// none). An honest contributor without a lock needs no stake: it is only paid.
    function finalize(
        bytes32 taskId,
        bytes32 resultDigest,
        bytes calldata results,
        address[] calldata workers,
        uint256[] calldata weights,
        address[] calldata losers
    ) external nonReentrant {
        Task storage task_ = _activeTask(taskId);
        Pool storage pool_ = _pools[task_.poolId];
        if (pool_.scheduler != msg.sender) revert NotScheduler(taskId, msg.sender);
        if (block.timestamp >= task_.finalDeadline) revert DeadlinePassed(taskId, task_.finalDeadline);
        if (workers.length != weights.length) revert WorkersWeightsMismatch(workers.length, weights.length);
        if (results.length != 0 && sha256(results) != resultDigest) {
            revert ResultDigestMismatch(resultDigest, sha256(results));
        }

        uint256 totalWeight;
        for (uint256 i = 0; i < workers.length; i++) {
            if (workers[i] == address(0)) revert ZeroAddressWorker(i);
            totalWeight += weights[i];
        }
        if (workers.length > 0 && totalWeight == 0) revert ZeroTotalWeight();

        task_.status = TaskStatus.COMPLETED;
        task_.resultDigest = resultDigest;
        task_.closedBlock = uint64(block.number);

        uint256 appPrice = task_.appPrice;
        uint256 poolFee = task_.poolFee;
        _accounts[task_.requester].locked -= appPrice + poolFee;
        emit Unlocked(task_.requester, appPrice + poolFee);
        _releasePoolStake(taskId, task_);

        uint256 perContribution = (appPrice + poolFee) * CONTRIBUTION_STAKE_BPS / BPS;
        uint256 seized;
        for (uint256 i = 0; i < losers.length; i++) {
            seized += _settleContribution(taskId, losers[i], perContribution, false);
        }
        address poolOwner = pool_.owner;
        _reward(_apps[task_.appId].owner, taskId, appPrice, ROLE_APP_OWNER);
        uint256 workersTotal = workers.length == 0 ? 0 : poolFee * task_.workerShareBps / BPS;
        uint256 paid;
        uint256 seizedPaid;
        for (uint256 i = 0; i < workers.length; i++) {
            // No lock left on the task: nothing to settle (no storage read per worker).
            if (task_.openLocks != 0) _settleContribution(taskId, workers[i], perContribution, true);
            uint256 share = workersTotal * weights[i] / totalWeight;
            paid += share;
            _reward(workers[i], taskId, share, ROLE_WORKER);
            share = seized * weights[i] / totalWeight;
            seizedPaid += share;
            _reward(workers[i], taskId, share, ROLE_SLASHED_STAKE);
        }
        if (task_.openLocks != 0) revert UnsettledContributions(taskId, task_.openLocks);
        // The pool owner gets its fee, the workers' part not paid out, and rounding dust.
        _reward(poolOwner, taskId, poolFee - paid, ROLE_POOL_OWNER);
        _reward(poolOwner, taskId, seized - seizedPaid, ROLE_SLASHED_STAKE);

        emit TaskFinalized(taskId, resultDigest, results);
        _deliver(taskId, task_.callback, results);
    }

    /// @notice The pool's scheduler gives up on a task: the requester is refunded.
    function fail(bytes32 taskId, string calldata reason) external nonReentrant {
        Task storage task_ = _activeTask(taskId);
        if (_pools[task_.poolId].scheduler != msg.sender) revert NotScheduler(taskId, msg.sender);
        _refund(task_);
        _releasePoolStake(taskId, task_);
        emit TaskFailed(taskId, reason);
    }

    /// @notice Anyone may close a task whose final deadline passed: the requester is refunded
    /// and the beneficiary gets the pool owner's stake the task locked (the pool did not
    /// finalize it in time).
    function claim(bytes32 taskId) external nonReentrant {
        Task storage task_ = _activeTask(taskId);
        if (block.timestamp < task_.finalDeadline) revert TooEarlyToClaim(taskId, task_.finalDeadline);
        _refund(task_);
        uint256 lock = task_.poolStakeLocked;
        if (lock != 0) {
            Stake storage s = _stakes[task_.poolStaker];
            s.locked -= uint96(lock);
            s.amount -= uint96(lock);
            _accounts[task_.beneficiary].balance += lock;
            emit Slashed(task_.poolStaker, taskId, lock, task_.beneficiary);
            // Every credit to an escrow balance has an event that names the account first.
            emit Rewarded(task_.beneficiary, taskId, lock, ROLE_SLASHED_STAKE);
        }
        emit TaskClaimed(taskId, msg.sender);
    }

    function _activeTask(bytes32 taskId) private view returns (Task storage task_) {
        task_ = _tasks[taskId];
        if (task_.status == TaskStatus.UNSET) revert UnknownTask(taskId);
        if (task_.status != TaskStatus.ACTIVE) revert TaskNotActive(taskId, task_.status);
    }

    function _refund(Task storage task_) private {
        task_.status = TaskStatus.FAILED;
        task_.closedBlock = uint64(block.number);
        uint256 price = uint256(task_.appPrice) + task_.poolFee;
        Account storage acc = _accounts[task_.requester];
        acc.locked -= price;
        acc.balance += price;
        emit Unlocked(task_.requester, price);
    }

    function _releasePoolStake(bytes32 taskId, Task storage task_) private {
        uint256 lock = task_.poolStakeLocked;
        if (lock == 0) return;
        _stakes[task_.poolStaker].locked -= uint96(lock);
        emit StakeUnlocked(task_.poolStaker, taskId, lock);
    }

    /// @dev Settles one contribution of `worker`. A loser must have a lock (`lockStake`): it
    /// loses that stake and gets a loss; returns the stake seized. An honest contributor with a
    /// lock gets it unlocked and a win; one without a lock (nobody staked for its result, e.g.
    /// a result the grid verified) is only paid: its stake and reputation are not touched.
    function _settleContribution(bytes32 taskId, address worker, uint256 amount, bool honest)
        private
        returns (uint256)
    {
        uint256 locks = _contributionLocks[taskId][worker];
        if (locks == 0) {
            if (honest) return 0;
            revert NoLockedContribution(taskId, worker);
        }
        _contributionLocks[taskId][worker] = locks - 1;
        _tasks[taskId].openLocks -= 1;
        Stake storage s = _stakes[worker];
        s.locked -= uint96(amount);
        if (honest) {
            s.wins += 1;
            emit StakeUnlocked(worker, taskId, amount);
        } else {
            s.losses += 1;
            s.amount -= uint96(amount);
            emit Slashed(worker, taskId, amount, address(0));
        }
        emit ReputationChanged(worker, taskId, s.wins, s.losses);
        return honest ? 0 : amount;
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

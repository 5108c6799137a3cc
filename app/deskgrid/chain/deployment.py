"""Deploy the marketplace (RLC + Hub + VanityRequester), register the built-in apps and a
default workerpool, fund the demo faucet, and remember the deployment per network."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount

from deskgrid import paths
from deskgrid.chain.artifacts import load_artifact
from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import HubContract, RLCToken, VanityRequesterContract
from deskgrid.chain.listings import (
    DEV_WORKER_STAKE,
    FAUCET_AMOUNT,
    POOL_DESCRIPTION,
    POOL_FEE,
    POOL_STAKE,
    POOL_WORKER_SHARE_BPS,
    AppListing,
    default_listings,
)
from deskgrid.chain.reverts import ChainError, explain
from deskgrid.chain.transactions import TxSender


@dataclass(frozen=True)
class Deployment:
    """Where the marketplace lives on one chain."""

    chain_id: int
    genesis_hash: str
    rlc: str
    hub: str
    vanity_requester: str
    block: int
    owner: str
    scheduler: str
    faucet: str
    pool_id: int
    apps: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Deployment:
        return cls(**data)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Roles:
    """Who does what in a deployment. On a development chain these are its funded accounts."""

    deployer: LocalAccount
    scheduler: LocalAccount
    faucet: LocalAccount

    @classmethod
    def dev(cls, chain: Chain) -> Roles:
        if len(chain.dev_accounts) < 3:
            raise ChainError("This chain has no development accounts; pass a deployer key.")
        accounts = chain.dev_accounts
        return cls(deployer=accounts[0], faucet=accounts[1], scheduler=accounts[2])

    @classmethod
    def single(cls, account: LocalAccount) -> Roles:
        return cls(deployer=account, scheduler=account, faucet=account)


def _deploy_contract(sender: TxSender, name: str, *args: object) -> str:
    artifact = load_artifact(name)
    factory = sender.chain.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    result = sender.send(factory.constructor(*args))
    address = result.receipt["contractAddress"]
    if not address:
        raise ChainError(f"Deploying {name} produced no contract; check the chain.")
    return str(address)


def _sponsor_stakes(
    deployer: TxSender, rlc: RLCToken, hub: HubContract, stakes: dict[str, int]
) -> None:
    """The deployer mints the stakes, deposits them in one transaction and stakes each for its
    account (its own escrow ends where it was)."""
    stakes = {account: amount for account, amount in stakes.items() if amount > 0}
    total = sum(stakes.values())
    if not total:
        return
    rlc.mint(deployer, deployer.address, total)
    rlc.approve_and_call(deployer, hub.address, total, b"")
    for account, amount in stakes.items():
        hub.stake_for(deployer, account, amount)


def deploy(
    chain: Chain,
    roles: Roles,
    *,
    listings: list[AppListing] | None = None,
    with_test_apps: bool = False,
    faucet_amount: int = FAUCET_AMOUNT,
    pool_stake: int = POOL_STAKE,
    worker_stakes: dict[str, int] | None = None,
) -> Deployment:
    """Deploy and configure the marketplace; returns where everything is. Without `listings`,
    DeskGrid's apps are registered (and the test apps too with `with_test_apps`).

    The deployer mints and stakes `pool_stake` for the pool owner (so its pool takes paid
    requests) and `worker_stakes` (address -> nRLC; default: `DEV_WORKER_STAKE` for each
    development account of the chain, the local workers' payout identities)."""
    if listings is None:
        listings = default_listings(with_test_apps=with_test_apps)
    deployer = TxSender(chain, roles.deployer)
    scheduler = (
        deployer
        if roles.scheduler.address == roles.deployer.address
        else TxSender(chain, roles.scheduler)
    )
    rlc_address = _deploy_contract(deployer, "RLC", roles.deployer.address)
    hub_address = _deploy_contract(deployer, "Hub", rlc_address, roles.deployer.address)
    rlc = RLCToken(chain, rlc_address)
    hub = HubContract(chain, hub_address)
    apps = {
        item.name: hub.register_app(
            deployer, item.name, item.uri, item.params_schema_hash, item.price
        )
        for item in listings
    }
    pool_id = hub.register_pool(scheduler, POOL_DESCRIPTION, POOL_FEE, POOL_WORKER_SHARE_BPS)
    vanity_app = apps.get("vanity", 0)
    requester_address = _deploy_contract(
        deployer, "VanityRequester", hub_address, vanity_app, pool_id
    )
    if faucet_amount:
        rlc.mint(deployer, roles.faucet.address, faucet_amount)
    if worker_stakes is None:
        worker_stakes = {a.address: DEV_WORKER_STAKE for a in chain.dev_accounts}
    stakes = dict(worker_stakes)
    stakes[roles.scheduler.address] = stakes.get(roles.scheduler.address, 0) + pool_stake
    _sponsor_stakes(deployer, rlc, hub, stakes)
    return Deployment(
        chain_id=chain.chain_id,
        genesis_hash=chain.genesis_hash,
        rlc=rlc_address,
        hub=hub_address,
        vanity_requester=VanityRequesterContract(chain, requester_address).address,
        block=chain.block_number(),
        owner=roles.deployer.address,
        scheduler=roles.scheduler.address,
        faucet=roles.faucet.address,
        pool_id=pool_id,
        apps=apps,
    )


def record_path(chain_id: int, genesis_hash: str) -> Path:
    return paths.sub_dir("deployments") / f"{chain_id}-{genesis_hash[2:14]}.json"


def save_deployment(deployment: Deployment) -> Path:
    """Write the record atomically (temp file + rename)."""
    target = record_path(deployment.chain_id, deployment.genesis_hash)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".deploy-", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        json.dump(deployment.to_json(), handle, indent=2)
    os.replace(tmp, target)
    return target


def load_deployment(chain: Chain) -> Deployment | None:
    """The recorded deployment of this chain, if its contracts are still there."""
    target = record_path(chain.chain_id, chain.genesis_hash)
    if not target.exists():
        return None
    try:
        deployment = Deployment.from_json(json.loads(target.read_text()))
    except (ValueError, TypeError):
        return None
    with chain.lock:
        try:
            for address in (deployment.rlc, deployment.hub, deployment.vanity_requester):
                if len(chain.w3.eth.get_code(address)) == 0:
                    return None
        except Exception as exc:
            raise explain(exc) from None
    return deployment


def ensure_deployment(chain: Chain, roles: Roles, **kwargs: object) -> tuple[Deployment, bool]:
    """Reuse this chain's recorded deployment, or deploy and record one.

    Returns (deployment, created).
    """
    existing = load_deployment(chain)
    if existing is not None:
        return existing, False
    deployment = deploy(chain, roles, **kwargs)  # type: ignore[arg-type]
    save_deployment(deployment)
    return deployment, True

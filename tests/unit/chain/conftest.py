"""An embedded chain with the marketplace deployed once per session; every test starts from
the same snapshot, with fresh transaction senders."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount

from deskgrid.chain.connection import Chain, connect
from deskgrid.chain.contracts import HubContract, RLCToken, VanityRequesterContract
from deskgrid.chain.deployment import Deployment, Roles, deploy
from deskgrid.chain.listings import AppListing, schema_hash
from deskgrid.chain.transactions import TxSender
from deskgrid.money import NRLC_PER_RLC

RLC = NRLC_PER_RLC
TEST_LISTINGS = [
    AppListing("vanity", "builtin:vanity@1.0.0", schema_hash({"type": "object"}), 4 * RLC),
    AppListing("echo", "builtin:echo@1.0.0", schema_hash({}), RLC // 10),
]


@dataclass
class Market:
    chain: Chain
    roles: Roles
    deployment: Deployment
    rlc: RLCToken
    hub: HubContract
    requester: VanityRequesterContract
    _senders: dict[str, TxSender]

    def account(self, index: int) -> LocalAccount:
        return self.chain.dev_accounts[index]

    def sender(self, who: LocalAccount | int) -> TxSender:
        account = self.account(who) if isinstance(who, int) else who
        if account.address not in self._senders:
            self._senders[account.address] = TxSender(self.chain, account)
        return self._senders[account.address]

    @property
    def owner(self) -> TxSender:
        return self.sender(self.roles.deployer)

    @property
    def scheduler(self) -> TxSender:
        return self.sender(self.roles.scheduler)

    def fund(self, who: int, amount: int) -> str:
        address = self.account(who).address
        self.rlc.transfer(self.sender(self.roles.faucet), address, amount)
        return address

    def deposit(self, who: int, amount: int) -> None:
        self.fund(who, amount)
        self.rlc.approve(self.sender(who), self.hub.address, amount)
        self.hub.deposit(self.sender(who), amount)

    @property
    def vanity(self) -> int:
        return self.deployment.apps["vanity"]

    @property
    def pool(self) -> int:
        return self.deployment.pool_id


@pytest.fixture(scope="session")
def deployed_chain():
    chain = connect("embedded")
    roles = Roles.dev(chain)
    deployment = deploy(chain, roles, listings=TEST_LISTINGS)
    snapshot = chain.snapshot()
    yield chain, roles, deployment, snapshot
    chain.close()


@pytest.fixture
def market(deployed_chain) -> Market:
    chain, roles, deployment, snapshot = deployed_chain
    chain.revert(snapshot)
    return Market(
        chain,
        roles,
        deployment,
        RLCToken(chain, deployment.rlc),
        HubContract(chain, deployment.hub),
        VanityRequesterContract(chain, deployment.vanity_requester),
        {},
    )

import pytest

from deskgrid.chain.reverts import ContractRevert

from .conftest import RLC


def test_token_metadata(market):
    assert market.rlc.symbol() == "RLC"
    assert market.rlc.decimals() == 9
    assert market.rlc.owner() == market.roles.deployer.address
    # Minted: the faucet's RLC, and the stakes the deployment gave (held by the hub).
    faucet = market.rlc.balance_of(market.roles.faucet.address)
    staked = sum(market.hub.stake_of(a.address) for a in market.chain.dev_accounts)
    assert market.rlc.balance_of(market.hub.address) == staked
    assert faucet + staked == market.rlc.total_supply()


def test_only_owner_mints(market):
    alice = market.account(3).address
    market.rlc.mint(market.owner, alice, 5 * RLC)
    assert market.rlc.balance_of(alice) == 5 * RLC
    with pytest.raises(ContractRevert) as err:
        market.rlc.mint(market.sender(3), alice, 1)
    assert err.value.name == "OwnableUnauthorizedAccount"
    assert "not the owner" in str(err.value)


def test_transfer_more_than_held_is_refused(market):
    market.fund(3, RLC)
    with pytest.raises(ContractRevert) as err:
        market.rlc.transfer(market.sender(3), market.account(4).address, 2 * RLC)
    assert err.value.name == "ERC20InsufficientBalance"
    assert "holds 1 RLC but 2 RLC is needed" in str(err.value)


def test_approve_and_call_deposits_in_one_transaction(market):
    alice = market.fund(3, 10 * RLC)
    market.rlc.approve_and_call(market.sender(3), market.hub.address, 3 * RLC, b"")
    assert market.hub.balance_of(alice) == 3 * RLC
    assert market.rlc.balance_of(alice) == 7 * RLC
    assert market.rlc.allowance(alice, market.hub.address) == 0


def test_approve_and_call_to_a_contract_without_receiver_reverts(market):
    market.fund(3, RLC)
    with pytest.raises(ContractRevert):
        market.rlc.approve_and_call(market.sender(3), market.rlc.address, RLC, b"")


def test_receive_approval_only_from_the_token(market):
    alice = market.fund(3, RLC)
    fn = market.hub.contract.functions.receiveApproval(alice, RLC, market.rlc.address, b"")
    with pytest.raises(ContractRevert) as err:
        market.sender(3).send(fn)
    assert err.value.name == "OnlyToken"
    fn = market.requester.contract.functions.receiveApproval(alice, RLC, market.rlc.address, b"")
    with pytest.raises(ContractRevert) as err:
        market.sender(3).send(fn)
    assert err.value.name == "OnlyToken"

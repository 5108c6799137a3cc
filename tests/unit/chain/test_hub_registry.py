import pytest

from deskgrid.chain.listings import schema_hash
from deskgrid.chain.reverts import ContractRevert

from .conftest import RLC


def test_deployment_registered_apps_and_pool(market):
    apps = market.hub.apps()
    assert [a.name for a in apps] == ["vanity", "echo"]
    assert apps[0].uri == "builtin:vanity@1.0.0"
    assert apps[0].price == 4 * RLC
    assert apps[0].owner == market.roles.deployer.address
    assert apps[0].params_schema_hash == schema_hash({"type": "object"})
    pool = market.hub.pool(market.pool)
    assert pool.owner == market.roles.scheduler.address
    assert pool.fee == RLC and pool.worker_share_bps == 7000
    assert market.hub.pool_count() == 1


def test_register_change_price_and_retire_an_app(market):
    dev = market.sender(5)
    uri = "docker:render@sha256:" + "ab" * 32
    app_id = market.hub.register_app(dev, "render", uri, b"\1" * 32, 7)
    assert market.hub.app(app_id).owner == market.account(5).address
    market.hub.set_app_price(dev, app_id, 9)
    assert market.hub.app(app_id).price == 9
    with pytest.raises(ContractRevert) as err:
        market.hub.set_app_price(market.sender(6), app_id, 1)
    assert err.value.name == "NotAppOwner"
    with pytest.raises(ContractRevert) as err:
        market.hub.retire_app(market.sender(6), app_id)
    assert err.value.name == "NotAppOwner"
    market.hub.retire_app(dev, app_id)
    assert market.hub.app(app_id).retired


def test_app_refusals(market):
    with pytest.raises(ContractRevert) as err:
        market.hub.register_app(market.sender(5), "", "builtin:x@1", b"\0" * 32, 1)
    assert err.value.name == "EmptyName"
    for bad in (0, 99):
        with pytest.raises(ContractRevert) as err:
            market.hub.app(bad)
        assert err.value.name == "UnknownApp"
        assert f"App #{bad} is not registered" in str(err.value)
    with pytest.raises(ContractRevert) as err:
        market.hub.set_app_price(market.sender(5), 99, 1)
    assert err.value.name == "UnknownApp"


def test_an_app_price_beyond_96_bits_is_refused(market):
    """A task keeps its prices in 96 bits, and so does the app (beside its retired flag)."""
    dev = market.sender(5)
    too_much = 2**96
    with pytest.raises(ContractRevert) as err:
        market.hub.register_app(dev, "render", "builtin:render@1", b"\1" * 32, too_much)
    assert err.value.name == "AmountTooLarge"
    app_id = market.hub.register_app(dev, "render", "builtin:render@1", b"\1" * 32, too_much - 1)
    assert market.hub.app(app_id).price == too_much - 1 and not market.hub.app(app_id).retired
    with pytest.raises(ContractRevert) as err:
        market.hub.set_app_price(dev, app_id, too_much)
    assert err.value.name == "AmountTooLarge"
    market.hub.retire_app(dev, app_id)
    assert market.hub.app(app_id).price == too_much - 1 and market.hub.app(app_id).retired


def test_pools(market):
    owner = market.sender(6)
    pool_id = market.hub.register_pool(owner, "second pool", 2 * RLC, 5000)
    market.hub.update_pool(owner, pool_id, 3 * RLC, 10_000)
    pool = market.hub.pool(pool_id)
    assert (pool.fee, pool.worker_share_bps, pool.description) == (3 * RLC, 10_000, "second pool")
    with pytest.raises(ContractRevert) as err:
        market.hub.register_pool(owner, "bad", 1, 10_001)
    assert err.value.name == "InvalidWorkerShare"
    with pytest.raises(ContractRevert) as err:
        market.hub.update_pool(owner, pool_id, 1, 10_001)
    assert err.value.name == "InvalidWorkerShare"
    with pytest.raises(ContractRevert) as err:
        market.hub.update_pool(market.sender(5), pool_id, 1, 1)
    assert err.value.name == "NotPoolOwner"
    with pytest.raises(ContractRevert) as err:
        market.hub.update_pool(owner, 42, 1, 1)
    assert err.value.name == "UnknownPool"
    with pytest.raises(ContractRevert) as err:
        market.hub.pool(0)
    assert err.value.name == "UnknownPool"


def test_categories(market):
    cats = market.hub.categories()
    assert [(c.name, c.time_ref) for c in cats] == [
        ("XS", 60),
        ("S", 300),
        ("M", 1200),
        ("L", 3600),
        ("XL", 10800),
    ]
    market.hub.create_category(market.owner, "XXL", 86400)
    assert market.hub.categories()[-1].name == "XXL"
    with pytest.raises(ContractRevert) as err:
        market.hub.create_category(market.sender(3), "Z", 1)
    assert err.value.name == "OwnableUnauthorizedAccount"
    with pytest.raises(ContractRevert) as err:
        market.hub.create_category(market.owner, "Z", 0)
    assert err.value.name == "InvalidTimeRef"
    with pytest.raises(ContractRevert) as err:
        market.hub.create_category(market.owner, "", 10)
    assert err.value.name == "EmptyName"
    with pytest.raises(ContractRevert) as err:
        market.hub._call("category", 99)
    assert err.value.name == "UnknownCategory"


def test_escrow_deposit_and_withdraw(market):
    alice = market.fund(3, 10 * RLC)
    alice_tx = market.sender(3)
    with pytest.raises(ContractRevert) as err:
        market.hub.deposit(alice_tx, RLC)
    assert err.value.name == "ERC20InsufficientAllowance"
    market.rlc.approve(alice_tx, market.hub.address, 4 * RLC)
    with pytest.raises(ContractRevert) as err:
        market.hub.deposit(alice_tx, 0)
    assert err.value.name == "ZeroAmount"
    market.hub.deposit(alice_tx, 4 * RLC)
    assert market.hub.balance_of(alice) == 4 * RLC
    with pytest.raises(ContractRevert) as err:
        market.hub.withdraw(alice_tx, 5 * RLC)
    assert err.value.name == "InsufficientBalance"
    assert "deposit more RLC" in str(err.value)
    with pytest.raises(ContractRevert) as err:
        market.hub.withdraw(alice_tx, 0)
    assert err.value.name == "ZeroAmount"
    market.hub.withdraw(alice_tx, RLC)
    assert market.hub.balance_of(alice) == 3 * RLC
    assert market.rlc.balance_of(alice) == 7 * RLC

"""`publishApp`: an app registered with its manifest in an `AppManifest` event (not stored),
read back from the app's registration block; `registerApp` apps have no manifest."""

from __future__ import annotations

import json

import pytest

from deskgrid.chain.listings import schema_hash
from deskgrid.chain.reverts import ContractRevert

from .conftest import RLC

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}}
URI = "docker:sha256:" + "ab" * 32
MANIFEST = json.dumps({"name": "render", "params_schema": SCHEMA}).encode()


def test_publish_app_registers_it_and_emits_its_manifest(market):
    dev = market.sender(5)
    count = market.hub.app_count()
    published = market.hub.publish_app(dev, "render", URI, schema_hash(SCHEMA), 2 * RLC, MANIFEST)
    assert published.app_id == count + 1
    app = market.hub.app(published.app_id)
    assert (app.name, app.uri, app.price, app.retired) == ("render", URI, 2 * RLC, False)
    assert app.owner == market.account(5).address
    assert app.params_schema_hash == schema_hash(SCHEMA)
    assert app.registered_block == published.tx.block_number
    [event] = market.hub.events("AppManifest", published.tx.receipt)
    assert event["args"]["appId"] == published.app_id
    assert bytes(event["args"]["manifest"]) == MANIFEST
    assert market.hub.app_manifest(published.app_id) == MANIFEST
    [registered] = market.hub.events("AppRegistered", published.tx.receipt)
    assert registered["args"]["uri"] == URI


def test_an_app_registered_without_a_manifest_has_none(market):
    app_id = market.hub.register_app(market.sender(5), "plain", URI, b"\1" * 32, 1)
    assert market.hub.app(app_id).registered_block > 0
    assert market.hub.app_manifest(app_id) is None
    assert market.hub.app_manifest(market.vanity) is None


def test_a_published_app_is_priced_retired_and_requested_like_any_other(market):
    dev = market.sender(5)
    app_id = market.hub.publish_app(dev, "render", URI, b"\2" * 32, RLC, MANIFEST).app_id
    market.hub.set_app_price(dev, app_id, 3 * RLC)
    assert market.hub.price_of(app_id, market.pool, 2) == 3 * RLC + 2 * RLC
    with pytest.raises(ContractRevert) as err:
        market.hub.retire_app(market.sender(6), app_id)
    assert err.value.name == "NotAppOwner"
    market.hub.retire_app(dev, app_id)
    assert market.hub.app(app_id).retired
    assert market.hub.app_manifest(app_id) == MANIFEST  # the event stays


@pytest.mark.parametrize("size", [0, 16 * 1024 + 1])
def test_an_empty_or_oversized_manifest_is_refused(market, size):
    with pytest.raises(ContractRevert) as err:
        market.hub.publish_app(market.sender(5), "render", URI, b"\2" * 32, RLC, b"x" * size)
    assert err.value.name == "InvalidManifestSize"
    assert f"is {size:,} bytes; the hub takes 1 to 16,384" in str(err.value)


def test_publish_refuses_what_register_refuses(market):
    with pytest.raises(ContractRevert) as err:
        market.hub.publish_app(market.sender(5), "", URI, b"\2" * 32, RLC, MANIFEST)
    assert err.value.name == "EmptyName"
    with pytest.raises(ContractRevert) as err:
        market.hub.publish_app(market.sender(5), "render", URI, b"\2" * 32, 2**96, MANIFEST)
    assert err.value.name == "AmountTooLarge"


def test_the_largest_manifest_is_taken(market):
    big = b"x" * (16 * 1024)
    published = market.hub.publish_app(market.sender(5), "render", URI, b"\2" * 32, 0, big)
    assert market.hub.app_manifest(published.app_id) == big

"""The operator's policy of published apps: its three forms, what an allow-list matches, and a
sentence for every file that cannot be used."""

from __future__ import annotations

import pytest

from deskgrid.grid.app_policy import AppPolicyError, load_policy, parse_policy

OWNER = "0x" + "Ab" * 20
IMAGE = "sha256:" + "c3" * 32


def test_none_is_the_default_and_serves_nothing() -> None:
    for text in ("{}", '{"docker_apps": "none"}'):
        policy = parse_policy(text)
        assert policy.docker_apps == "none"
        assert not policy.allows(1, OWNER, IMAGE)
    assert parse_policy("{}").describe() == "no published apps"


def test_all_serves_every_app() -> None:
    policy = parse_policy('{"docker_apps": "all"}')
    assert policy.allows(1, OWNER, IMAGE) and policy.allows(
        99, "0x" + "00" * 20, "sha256:" + "0" * 64
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("apps", [3, 7]), ("owners", [OWNER.lower()]), ("images", [IMAGE])],
)
def test_an_allow_list_serves_an_app_by_its_id_owner_or_image(field, value) -> None:
    import json

    policy = parse_policy(json.dumps({"docker_apps": "allow-list", field: value}))
    assert policy.allows(3, OWNER, IMAGE)  # the owner matches whatever its letters' case
    assert not policy.allows(4, "0x" + "01" * 20, "sha256:" + "d4" * 32)
    assert policy.describe().startswith("published apps of the allow-list: ")


def test_an_empty_allow_list_serves_nothing() -> None:
    policy = parse_policy('{"docker_apps": "allow-list"}')
    assert not policy.allows(1, OWNER, IMAGE)
    assert policy.describe().endswith("none listed")


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("not json", "is not JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"docker_apps": "some"}', 'docker_apps must be "none", "all" or "allow-list"'),
        ('{"docker_apps": "all", "app": [1]}', "app is not a policy field"),
        ('{"docker_apps": "allow-list", "owners": ["bob"]}', "owners.0 must be an address"),
        ('{"docker_apps": "allow-list", "images": ["latest"]}', "images.0 must be an image id"),
        ('{"docker_apps": "allow-list", "apps": [0]}', "apps.0"),
        ('{"docker_apps": "all", "apps": [3]}', 'only "docker_apps": "allow-list" reads'),
    ],
)
def test_a_bad_policy_is_a_sentence(text, sentence) -> None:
    with pytest.raises(AppPolicyError, match="The app policy") as caught:
        parse_policy(text)
    assert sentence in str(caught.value)


def test_a_policy_file_missing_or_too_large_is_a_sentence(tmp_path) -> None:
    with pytest.raises(AppPolicyError, match="does not exist; write one such as"):
        load_policy(tmp_path / "absent.json")
    big = tmp_path / "big.json"
    big.write_text('{"docker_apps": "allow-list", "apps": [' + "1," * 600_000 + "1]}")
    with pytest.raises(AppPolicyError, match="is larger than"):
        load_policy(big)
    good = tmp_path / "policy.json"
    good.write_text('{"docker_apps": "allow-list", "apps": [2]}')
    assert load_policy(good).apps == (2,)

from __future__ import annotations

import pytest

from deskgrid.apps.registry import builtin_apps, get_app
from deskgrid.apps.sdk import AppParamsError, AppSpec

EXPECTED = {"vanity", "echo", "sleep", "fail", "misbehave"}


def test_builtin_apps_are_registered_by_name() -> None:
    apps = builtin_apps()
    assert set(apps) == EXPECTED
    for name, app in apps.items():
        assert isinstance(app, AppSpec)
        assert app.name == name
        assert app.run and ":" in app.run
        app.load_run_function()  # importable


def test_builtin_apps_returns_a_copy() -> None:
    builtin_apps().clear()
    assert set(builtin_apps()) == EXPECTED


def test_get_app_unknown_name_is_a_sentence() -> None:
    with pytest.raises(AppParamsError, match="no built-in app called 'nope'.*echo"):
        get_app("nope")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_describe_is_a_catalog_entry(name: str) -> None:
    entry = get_app(name).describe()
    assert entry["name"] == name
    assert entry["uri"] == f"builtin:{name}@{entry['version']}"
    assert entry["params_schema"]["type"] == "object"
    assert set(entry["resources"]) >= {"cores", "memory_mb", "max_seconds", "docker"}


def test_verifiable_apps() -> None:
    assert get_app("vanity").verifiable
    assert get_app("echo").verifiable
    assert not get_app("misbehave").verifiable
    assert not get_app("sleep").verifiable

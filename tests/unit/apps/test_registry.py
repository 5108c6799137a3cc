from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from deskgrid.apps.registry import APP_MODULES_ENV, builtin_apps, get_app
from deskgrid.apps.sdk import AppParamsError, AppSpec

EXPECTED = {"vanity", "echo", "sleep", "fail", "misbehave", "digest", "spawn", "hog", "checksum"}


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


def product_env() -> dict[str, str]:
    """The environment of an installed DeskGrid: no test apps named."""
    return {k: v for k, v in os.environ.items() if k != APP_MODULES_ENV}


def run_deskgrid(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deskgrid", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_the_product_knows_only_its_own_apps() -> None:
    code = "from deskgrid.apps.registry import builtin_apps; print(sorted(builtin_apps()))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=product_env()
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['vanity']"


def test_a_deployment_registers_the_test_apps_only_when_asked(tmp_path) -> None:
    env = {**product_env(), "DESKGRID_HOME": str(tmp_path / "a")}
    plain = run_deskgrid("chain", "deploy", "--json", env=env)
    assert plain.returncode == 0, plain.stderr
    assert set(json.loads(plain.stdout)["apps"]) == {"vanity"}

    env["DESKGRID_HOME"] = str(tmp_path / "b")
    refused = run_deskgrid("chain", "deploy", "--with-test-apps", env=env)
    assert refused.returncode == 2
    assert f"set {APP_MODULES_ENV}=tests.testapps" in refused.stderr

    asked = run_deskgrid(
        "chain",
        "deploy",
        "--with-test-apps",
        "--json",
        env={**env, APP_MODULES_ENV: os.environ[APP_MODULES_ENV]},
    )
    assert asked.returncode == 0, asked.stderr
    assert set(json.loads(asked.stdout)["apps"]) == EXPECTED


def test_a_module_that_cannot_be_imported_is_a_sentence() -> None:
    env = {**product_env(), APP_MODULES_ENV: "no_such_module_here"}
    code = "from deskgrid.apps.registry import builtin_apps; builtin_apps()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode != 0
    assert "names the module 'no_such_module_here', which cannot be imported" in done.stderr

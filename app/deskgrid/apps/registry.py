"""The built-in apps, by name."""

from __future__ import annotations

from functools import cache

from deskgrid.apps.sdk import AppParamsError, AppSpec


@cache
def _apps() -> dict[str, AppSpec]:
    from deskgrid.apps.testapps import TEST_APPS
    from deskgrid.apps.vanity.app import VANITY

    return {app.name: app for app in (VANITY, *TEST_APPS)}


def builtin_apps() -> dict[str, AppSpec]:
    """Every built-in app, by name (a fresh dict: callers may modify it)."""
    return dict(_apps())


def get_app(name: str) -> AppSpec:
    """The built-in app called `name`; AppParamsError with the known names otherwise."""
    try:
        return _apps()[name]
    except KeyError:
        known = ", ".join(sorted(_apps()))
        raise AppParamsError(
            f"There is no built-in app called '{name}' (known: {known})."
        ) from None

"""The apps a worker can run natively, by name: DeskGrid's own (VanityGen), plus the apps of
the Python modules named in `DESKGRID_APP_MODULES` (comma-separated; each module lists its
`AppSpec`s in `APPS`).

The second kind is for developing a native app and for DeskGrid's own tests (their test apps
live in `tests/testapps.py`); a product never ships or registers them on its own. A module's
app cannot take the name of one of DeskGrid's apps. Naming a module here runs its code, like
PYTHONPATH: it is for the computer's owner, never something a grid or a task can set.
"""

from __future__ import annotations

import importlib
import os
from functools import cache

from deskgrid.apps.sdk import AppParamsError, AppSpec
from deskgrid.errors import DeskGridError

APP_MODULES_ENV = "DESKGRID_APP_MODULES"


def _own_apps() -> dict[str, AppSpec]:
    from deskgrid.apps.vanity.app import VANITY

    return {VANITY.name: VANITY}


def _module_apps(names: str) -> list[AppSpec]:
    found: list[AppSpec] = []
    for name in filter(None, (part.strip() for part in names.split(","))):
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise DeskGridError(
                f"{APP_MODULES_ENV} names the module '{name}', which cannot be imported ({exc}); "
                "fix the name or the Python path, or unset it."
            ) from None
        apps = getattr(module, "APPS", None)
        if not isinstance(apps, tuple | list) or not all(isinstance(a, AppSpec) for a in apps):
            raise DeskGridError(
                f"The module '{name}' in {APP_MODULES_ENV} must list its apps as a tuple of "
                "AppSpec called APPS."
            )
        found.extend(apps)
    return found


@cache
def _apps() -> dict[str, AppSpec]:
    apps = _own_apps()
    for spec in _module_apps(os.environ.get(APP_MODULES_ENV, "")):
        apps.setdefault(spec.name, spec)
    return apps


def builtin_apps() -> dict[str, AppSpec]:
    """Every app a worker runs natively, by name (a fresh dict: callers may modify it)."""
    return dict(_apps())


def extra_app_names() -> list[str]:
    """The names of the apps that came from `DESKGRID_APP_MODULES`, in their order."""
    own = _own_apps()
    return [name for name in _apps() if name not in own]


def get_app(name: str) -> AppSpec:
    """The app called `name`; AppParamsError with the known names otherwise."""
    try:
        return _apps()[name]
    except KeyError:
        known = ", ".join(sorted(_apps()))
        raise AppParamsError(
            f"There is no built-in app called '{name}' (known: {known})."
        ) from None

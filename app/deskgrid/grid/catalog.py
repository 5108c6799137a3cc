"""Which apps a grid serves. The grid never hard-codes apps: its catalog (a mapping
name -> AppSpec) is passed in; by default it is DeskGrid's built-in registry."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from deskgrid.apps.sdk import AppSpec
from deskgrid.errors import DeskGridError


def builtin_catalog() -> dict[str, AppSpec]:
    """DeskGrid's built-in apps (deskgrid.apps.registry)."""
    from deskgrid.apps.registry import builtin_apps

    return builtin_apps()


def load_catalog(spec: str | None) -> Mapping[str, AppSpec]:
    """The apps from MODULE:ATTRIBUTE (a mapping, or a function returning one), or the
    built-in apps when `spec` is None."""
    if spec is None:
        return builtin_catalog()
    module_name, _, attribute = spec.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), attribute or "catalog")
    except (ImportError, AttributeError) as exc:
        raise DeskGridError(f"Cannot load the app catalog {spec!r}: {exc}.") from exc
    catalog = target() if callable(target) else target
    if not isinstance(catalog, Mapping) or not all(
        isinstance(app, AppSpec) for app in catalog.values()
    ):
        raise DeskGridError(f"{spec!r} is not a mapping of app names to AppSpec.")
    return catalog

"""Which apps a grid serves. The grid never hard-codes apps: its catalog (a mapping
name -> AppSpec) is passed in; by default it is DeskGrid's built-in registry. `LiveCatalog`
is what the grid reads: those apps plus the hub's published apps it serves, kept up to date."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from deskgrid.apps.sdk import AppSpec
from deskgrid.errors import DeskGridError
from deskgrid.grid.docker_apps import docker_app
from deskgrid.grid.models import DockerApp


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


@dataclass(frozen=True)
class CatalogView:
    """What a live catalog serves at one moment (a request reads one view throughout)."""

    apps: dict[str, AppSpec]
    published: dict[str, DockerApp]  # the hub's published apps among `apps`: their images
    docker_names: tuple[str, ...]  # the same, sorted
    archives: frozenset[str]  # the sha256 of their `docker save` archives
    generation: int


class LiveCatalog(Mapping[str, AppSpec]):
    """The apps a grid serves now: its fixed apps (built-in, or the operator's module) and
    the hub's published Docker apps its policy allows, which `ChainCatalog` replaces as the
    chain and the policy change. A replacement is atomic: a reader sees one snapshot or the
    next, never half of one. Every part of the grid reads this object, never a copy."""

    def __init__(self, fixed: Mapping[str, AppSpec]) -> None:
        self.fixed = dict(fixed)
        self._now = CatalogView(dict(self.fixed), {}, (), frozenset(), 0)

    @classmethod
    def of(cls, catalog: Mapping[str, AppSpec]) -> LiveCatalog:
        """`catalog` itself when it is live, else a live catalog of its apps."""
        return catalog if isinstance(catalog, LiveCatalog) else cls(catalog)

    def set_published(self, published: Mapping[str, AppSpec]) -> bool:
        """Serve the fixed apps and `published` (a fixed app keeps its name); returns whether
        anything changed."""
        now = self._now
        added = {name: spec for name, spec in published.items() if name not in self.fixed}
        if added.keys() == now.published.keys() and all(now.apps[n] is s for n, s in added.items()):
            return False
        archives = frozenset(spec.image_archive for spec in added.values() if spec.image_archive)
        self._now = CatalogView(
            self.fixed | added,
            {name: docker_app(spec) for name, spec in added.items()},
            tuple(sorted(added)),
            archives,
            now.generation + 1,
        )
        return True

    def view(self) -> CatalogView:
        """The apps served now, as one consistent snapshot."""
        return self._now

    def __getitem__(self, name: str) -> AppSpec:
        return self._now.apps[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._now.apps)

    def __len__(self) -> int:
        return len(self._now.apps)

    def get(self, name: str, default: Any = None) -> Any:  # one snapshot read, no KeyError
        return self._now.apps.get(name, default)

    def is_published(self, name: str) -> bool:
        """Whether `name` is a published Docker app (its leases carry its image)."""
        return name in self._now.published

    def docker_app(self, name: str) -> DockerApp | None:
        """What a lease of the published app `name` tells its worker (None: not one)."""
        return self._now.published.get(name)

    @property
    def docker_names(self) -> tuple[str, ...]:
        """The published Docker apps served now, sorted: any worker with Docker runs them."""
        return self._now.docker_names

    @property
    def archives(self) -> frozenset[str]:
        """The sha256 of the served apps' image archives, which collection must keep."""
        return self._now.archives

    @property
    def generation(self) -> int:
        """Counts the replacements: a reader compares it to notice a change."""
        return self._now.generation

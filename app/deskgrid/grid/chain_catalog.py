"""The grid's catalog following the chain: its fixed apps plus the hub's published Docker apps
its operator's policy allows, kept up to date by a background thread without a restart.

The chain is read incrementally: the apps registered since the last round (by the hub's app
count, each with its manifest) and the `AppRetired` events since the last block read; a
manifest is read once per app. The policy file is read again when its time or size changes;
a file that became unusable keeps the previous policy (its sentence is logged). A chain that
cannot be read keeps the last catalog, said once per outage. Nothing here runs on the event
loop.

    follower = ChainCatalog(live, hub, policy_path)
    follower.load()          # once before serving
    follower.start()         # then every `refresh_s` seconds, until stop()
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from deskgrid.apps.sdk import AppSpec
from deskgrid.grid.app_policy import AppPolicy, AppPolicyError, load_policy
from deskgrid.grid.catalog import LiveCatalog
from deskgrid.market.app_spec import spec_from_manifest
from deskgrid.market.manifest import Manifest
from deskgrid.market.published import ListedApp, read_app

if TYPE_CHECKING:
    from deskgrid.chain.contracts import HubContract

log = logging.getLogger(__name__)
DEFAULT_REFRESH_S = 5.0


def served(listed: ListedApp, policy: AppPolicy) -> bool:
    """Whether a grid with `policy` serves the hub's app `listed`: a published Docker app
    whose manifest agrees with the hub, not retired, that the policy allows."""
    info = listed.info
    return (
        listed.kind == "docker"
        and listed.consistent
        and listed.manifest is not None
        and not info.retired
        and policy.allows(info.app_id, info.owner, listed.manifest.image.id)
    )


class PublishedApps:
    """The hub's apps as last read, by id; `update()` reads what changed since."""

    def __init__(self, hub: HubContract) -> None:
        self.hub = hub
        self.apps: dict[int, ListedApp] = {}
        self.block: int | None = None  # the last block whose retirements were read

    def update(self) -> bool:
        """Read the retirements since the last block read, then the new apps; returns
        whether anything changed. Raises what the chain raises (nothing is half-applied that
        the next round would not read again)."""
        latest = self.hub.chain.block_number()
        changed = False
        if self.block is not None and latest < self.block:  # the chain went back: read anew
            changed, self.apps, self.block = bool(self.apps), {}, None
        if self.block is not None and latest > self.block:
            for event in self.hub.logs("AppRetired", self.block + 1, latest):
                app_id = int(event["args"]["appId"])
                listed = self.apps.get(app_id)
                if listed is not None and not listed.info.retired:
                    retired = dataclasses.replace(listed.info, retired=True)
                    self.apps[app_id] = dataclasses.replace(listed, info=retired)
                    changed = True
        count = self.hub.app_count()
        if count < len(self.apps):  # apps gone: another chain behind the same URL
            changed, self.apps = True, {}
        for app_id in range(len(self.apps) + 1, count + 1):  # ids are 1 … count
            self.apps[app_id] = read_app(self.hub, app_id)
            changed = True
        self.block = latest if self.block is None else max(self.block, latest)
        return changed


class ChainCatalog:
    """Keeps `catalog`'s published apps those of `hub` that the policy at `policy_path`
    allows. The policy file is read now: a bad one raises AppPolicyError."""

    def __init__(
        self,
        catalog: LiveCatalog,
        hub: HubContract,
        policy_path: Path,
        *,
        refresh_s: float = DEFAULT_REFRESH_S,
    ) -> None:
        self.catalog = catalog
        self.policy_path = policy_path
        self.refresh_s = refresh_s
        self._stamp = _stamp(policy_path)
        self.policy = load_policy(policy_path)
        self.published = PublishedApps(hub)
        # each app's spec (None: its manifest made none, logged once), by the manifest read
        self._specs: dict[int, tuple[Manifest | None, AppSpec | None]] = {}
        self._chain_down = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> None:
        """The first read, before serving: raises what the chain raises."""
        self.published.update()
        self._apply()

    def refresh(self) -> bool:
        """One round: the policy file if it changed, the chain since the last round; returns
        whether the catalog changed."""
        policy_changed = self._reload_policy()
        chain_changed = self._read_chain()
        if not (policy_changed or chain_changed):
            return False
        return self._apply()

    def start(self) -> None:
        """Refresh every `refresh_s` seconds in a thread of its own, until `stop()`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="chain-catalog", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.refresh_s):
            try:
                self.refresh()
            except Exception:  # never let the catalog stop following
                log.exception("refreshing the published apps failed; trying again")

    def _read_chain(self) -> bool:
        try:
            changed = self.published.update()
        except Exception as exc:
            if not self._chain_down:
                self._chain_down = True
                log.warning(
                    "cannot read the published apps from the chain (%s); serving the apps "
                    "already known until it answers again",
                    exc,
                )
            return False
        if self._chain_down:
            self._chain_down = False
            log.info("the chain answers again; following the published apps")
        return changed

    def _reload_policy(self) -> bool:
        stamp = _stamp(self.policy_path)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            policy = load_policy(self.policy_path)
        except AppPolicyError as exc:
            log.warning("%s The previous app policy stays in force.", exc)
            return False
        if policy == self.policy:
            return False
        self.policy = policy
        log.info("app policy %s read again: serving %s", self.policy_path, policy.describe())
        return True

    def _apply(self) -> bool:
        published: dict[str, AppSpec] = {}
        for app_id, listed in sorted(self.published.apps.items()):
            if not served(listed, self.policy):
                continue
            spec = self._spec_of(app_id, listed)
            if spec is not None:
                published[spec.name] = spec
        changed = self.catalog.set_published(published)
        if changed:
            names = ", ".join(sorted(published)) or "none"
            log.info("published apps served now: %s", names)
        return changed

    def _spec_of(self, app_id: int, listed: ListedApp) -> AppSpec | None:
        """The app's spec, built once per manifest read (the same spec object each round, so
        an unchanged catalog is not replaced); None when the manifest makes no spec."""
        manifest = listed.manifest
        cached = self._specs.get(app_id)
        if cached is not None and cached[0] is manifest:
            return cached[1]
        spec = None
        if manifest is not None:
            try:
                spec = spec_from_manifest(app_id, manifest)
            except Exception as exc:  # a schema the form builder cannot use
                log.warning("published app #%d cannot be served: %s", app_id, exc)
        self._specs[app_id] = (manifest, spec)
        return spec


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells that the file changed: its time, size and inode (None: it is missing)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size, found.st_ino

"""Apps on the hub as readers see them: each with its kind (`builtin` DeskGrid app, `docker`
published app) and, for a published app, its manifest read from its `AppManifest` event and
checked against what the hub stored (the params schema's hash, the URI's image id). An app
that fails a check is `inconsistent` and never offered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deskgrid.chain.contracts import AppInfo, HubContract, PublishedApp
from deskgrid.chain.transactions import FeeQuote, TxSender
from deskgrid.market.manifest import (
    DOCKER_URI_PREFIX,
    Manifest,
    ManifestError,
    canonical_json,
    image_id_of_uri,
    parse_manifest,
)

BUILTIN_URI_PREFIX = "builtin:"


@dataclass(frozen=True)
class ListedApp:
    """An app of the hub; `problem` says why it is inconsistent (None: it is not)."""

    info: AppInfo
    kind: str  # "builtin", "docker", or "unknown" (a URI of no known scheme)
    manifest: Manifest | None = None
    problem: str | None = None

    @property
    def consistent(self) -> bool:
        return self.problem is None

    def to_json(self, *, with_manifest: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.info.app_id,
            "name": self.info.name,
            "version": self.manifest.version if self.manifest else None,
            "owner": self.info.owner,
            "price_nrlc": self.info.price,
            "uri": self.info.uri,
            "params_schema_hash": "0x" + self.info.params_schema_hash.hex(),
            "kind": self.kind,
            "retired": self.info.retired,
            "consistent": self.consistent,
            "problem": self.problem,
        }
        if with_manifest:
            doc["registered_block"] = self.info.registered_block
            doc["manifest"] = self.manifest.model_dump(mode="json") if self.manifest else None
        return doc


def check_published(info: AppInfo, manifest_bytes: bytes | None) -> ListedApp:
    """`info` with its kind, its manifest and whether the two agree."""
    if info.uri.startswith(BUILTIN_URI_PREFIX):
        return ListedApp(info, "builtin")
    if not info.uri.startswith(DOCKER_URI_PREFIX):
        return ListedApp(info, "unknown", problem=f"its URI '{info.uri}' is of no known kind")
    if manifest_bytes is None:
        return ListedApp(info, "docker", problem="it was registered without a manifest")
    try:
        manifest = parse_manifest(manifest_bytes, where="Its manifest")
    except ManifestError as exc:
        return ListedApp(info, "docker", problem=str(exc))
    problem = None
    if manifest.params_schema_hash != info.params_schema_hash:
        problem = "its manifest's params schema does not hash to the schema hash on chain"
    elif image_id_of_uri(info.uri) != manifest.image.id:
        problem = f"its URI '{info.uri}' does not name its manifest's image {manifest.image.id}"
    elif manifest.name != info.name:
        problem = f"its manifest names it '{manifest.name}', the hub '{info.name}'"
    return ListedApp(info, "docker", manifest, problem)


def read_app(hub: HubContract, app_id: int) -> ListedApp:
    """App `app_id` of the hub, checked (a ChainError when there is no such app)."""
    return _checked(hub, hub.app(app_id))


def _checked(hub: HubContract, info: AppInfo) -> ListedApp:
    manifest = None
    if info.uri.startswith(DOCKER_URI_PREFIX):
        manifest = hub.app_manifest(info.app_id, info.registered_block)
    return check_published(info, manifest)


def read_apps(hub: HubContract, *, include_retired: bool = False) -> list[ListedApp]:
    """The hub's apps in id order, checked; retired ones only with `include_retired`."""
    found = []
    for app_id in range(1, hub.app_count() + 1):
        info = hub.app(app_id)
        if info.retired and not include_retired:
            continue
        found.append(_checked(hub, info))
    return found


def publish(hub: HubContract, sender: TxSender, manifest: Manifest, price: int) -> PublishedApp:
    """`publishApp` with the manifest's name, URI, schema hash and canonical JSON."""
    return hub.publish_app(sender, *_publish_args(manifest, price))


def quote_publish(hub: HubContract, sender: TxSender, manifest: Manifest, price: int) -> FeeQuote:
    """What `publish` would cost at most (a sentence when the hub would refuse it)."""
    return hub.quote_publish_app(sender, *_publish_args(manifest, price))


def _publish_args(manifest: Manifest, price: int) -> tuple[str, str, bytes, int, bytes]:
    return (
        manifest.name,
        manifest.uri,
        manifest.params_schema_hash,
        price,
        canonical_json(manifest),
    )

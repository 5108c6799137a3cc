"""The example apps' manifests with an image id and archive of a test's choosing, published on
a hub the way `deskgrid app publish` does (`market.published.publish`)."""

from __future__ import annotations

import json

from deskgrid.chain.contracts import HubContract
from deskgrid.chain.transactions import TxSender
from deskgrid.market.manifest import Manifest, load_document, manifest_from
from deskgrid.market.published import publish
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "apps"


def image_id(n: int) -> str:
    """A made-up image content id, the `n`-th."""
    return "sha256:" + f"{n:064x}"


def example_manifest(app: str, image: str, archive_sha256: str | None = None) -> Manifest:
    """The example `app`'s manifest (wordfreq, montecarlo) naming `image` and its archive."""
    doc = load_document((EXAMPLES / app / "manifest.json").read_bytes())
    doc["image"] = {"id": image} | ({"archive_sha256": archive_sha256} if archive_sha256 else {})
    return manifest_from(json.loads(json.dumps(doc)))


def publish_example(
    hub: HubContract,
    sender: TxSender,
    app: str,
    image: str,
    archive_sha256: str | None = None,
    price: int = 10**8,
) -> tuple[int, Manifest]:
    """Publish the example `app` from `sender`; its id on the hub and its manifest."""
    manifest = example_manifest(app, image, archive_sha256)
    return publish(hub, sender, manifest, price).app_id, manifest

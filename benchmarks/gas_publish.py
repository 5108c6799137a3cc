"""Gas of publishing the example apps (`Hub.publishApp`, the manifest in an event), beside
registering the same app without a manifest (`registerApp`).

    python benchmarks/gas_publish.py [--json]

Deploys the shipped artifacts on the embedded chain and publishes examples/apps/<app>/
manifest.json for wordfreq and montecarlo, each with the id of its image in the local Docker
daemon (`deskgrid-example/<app>:1`, built by examples/apps/build.sh) when there is one, else a
made-up id of the same length (the gas is the same: an id is 71 ASCII characters either way).
Prints, per app, the canonical manifest's size and the gas of each transaction.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "apps"
MADE_UP_ID = "sha256:" + "5e" * 32


def image_id(app: str) -> tuple[str, str]:
    """(the id of the example's image, where it came from)."""
    from deskgrid.errors import DeskGridError
    from deskgrid.market.docker_image import local_image_id

    try:
        return local_image_id(f"deskgrid-example/{app}:1"), "docker"
    except DeskGridError:
        return MADE_UP_ID, "made up"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON line")
    args = parser.parse_args()

    from deskgrid.chain.connection import connect
    from deskgrid.chain.contracts import HubContract
    from deskgrid.chain.deployment import Roles, deploy
    from deskgrid.chain.transactions import TxSender
    from deskgrid.market.manifest import canonical_json, load_document, manifest_from, with_image_id
    from deskgrid.market.published import publish
    from deskgrid.money import NRLC_PER_RLC

    chain = connect("embedded")
    deployment = deploy(chain, Roles.dev(chain))
    hub = HubContract(chain, deployment.hub)
    developer = TxSender(chain, chain.dev_accounts[5])
    report: dict[str, object] = {}
    for app in ("wordfreq", "montecarlo"):
        found, source = image_id(app)
        doc = load_document((EXAMPLES / app / "manifest.json").read_bytes())
        manifest = manifest_from(with_image_id(doc, found))
        published = publish(hub, developer, manifest, NRLC_PER_RLC)
        registered = developer.send(
            hub.contract.functions.registerApp(
                manifest.name, manifest.uri, manifest.params_schema_hash, NRLC_PER_RLC
            )
        )
        report[app] = {
            "manifest_bytes": len(canonical_json(manifest)),
            "image_id": source,
            "publishApp": published.tx.gas_used,
            "registerApp": registered.gas_used,
        }
    chain.close()
    report["machine"] = f"{platform.machine()}, Python {platform.python_version()}"
    if args.json:
        print(json.dumps(report))
        return
    for app, row in report.items():
        if isinstance(row, dict):
            print(
                f"{app:11} manifest {row['manifest_bytes']:,} bytes: publishApp "
                f"{row['publishApp']:,} gas, registerApp {row['registerApp']:,} gas "
                f"(image id {row['image_id']})"
            )


if __name__ == "__main__":
    main()

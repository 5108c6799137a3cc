"""Gas of publishing the example apps (`Hub.publishApp`, the manifest in an event), beside
registering the same app without a manifest (`registerApp`).

    python benchmarks/gas_publish.py [--json]

Deploys the shipped artifacts on the embedded chain and publishes examples/apps/<app>/
manifest.json for wordfreq and montecarlo, each with the id of its image in the local Docker
daemon (`deskgrid-example/<app>:1`, built by examples/apps/build.sh) when there is one, else a
made-up id of the same length (the gas is the same: an id is 71 ASCII characters either way).
Prints, per app, the canonical manifest's size and the gas of each transaction; then one
task of wordfreq as the marketplace pays it: the request (`RLC.approveAndCall(hub, …)` at trust
level 2 with the task document: params, the input file's digest, the result key), the
scheduler's `lockStake` of the two stakeholders whose replicas agree, and `finalize` with the
two winners and the result encrypted to the requester (its ciphertext on chain: under 4 KiB).
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
    report_app_id = 0
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
        if app == "wordfreq":
            report_app_id = published.app_id
        report[app] = {
            "manifest_bytes": len(canonical_json(manifest)),
            "image_id": source,
            "publishApp": published.tx.gas_used,
            "registerApp": registered.gas_used,
        }
    report["wordfreq_task"] = task_gas(chain, deployment, hub, report_app_id)
    chain.close()
    report["machine"] = f"{platform.machine()}, Python {platform.python_version()}"
    if args.json:
        print(json.dumps(report))
        return
    task = report.pop("wordfreq_task")
    for app, row in report.items():
        if isinstance(row, dict):
            print(
                f"{app:11} manifest {row['manifest_bytes']:,} bytes: publishApp "
                f"{row['publishApp']:,} gas, registerApp {row['registerApp']:,} gas "
                f"(image id {row['image_id']})"
            )

    assert isinstance(task, dict)
    print(
        f"wordfreq task at trust level 2: request {task['request']:,} gas (params text "
        f"{task['params_bytes']} bytes), lockStake of 2 {task['lockStake']:,}, finalize with "
        f"2 winners and a {task['result_bytes']}-byte encrypted result {task['finalize']:,}; "
        f"{task['total']:,} gas in all"
    )


def task_gas(chain, deployment, hub, app_id: int) -> dict[str, int]:  # noqa: ANN001
    """Gas of one wordfreq task as `deskgrid run app` and the oracle send it."""
    import hashlib

    from deskgrid.chain.contracts import RLCToken, TaskRequest
    from deskgrid.chain.deployment import Roles
    from deskgrid.chain.transactions import TxSender
    from deskgrid.chain.trust import task_price
    from deskgrid.crypto import ecies
    from deskgrid.market.task_document import TaskDocument

    roles = Roles.dev(chain)
    requester = chain.dev_accounts[3]
    key = ecies.public_key_of(bytes(requester.key))
    text = TaskDocument({"input": "text", "top": 20}, {"text": "ab" * 32}, key.hex()).to_chain()
    price = task_price(hub.app(app_id).price, hub.pool(deployment.pool_id).fee, 2)
    rlc = RLCToken(chain, deployment.rlc)
    rlc.transfer(TxSender(chain, roles.faucet), requester.address, price)
    request = TaskRequest(app_id, deployment.pool_id, text, price, 1, trust=2)
    sent = rlc.approve_and_call(TxSender(chain, requester), hub.address, price, request.encode())
    task_id = bytes(hub.events("TaskRequested", sent.receipt)[0]["args"]["taskId"])
    scheduler = TxSender(chain, roles.scheduler)
    workers = [a.address for a in chain.dev_accounts[7:9]]
    lock = hub.lock_stake(scheduler, task_id, workers)
    # a 20-word result of about 700 bytes, sealed to the requester as a worker does
    plain = b'{"input":"text","bytes":30000,"top":[' + b'{"word":"w","count":1},' * 20 + b"]}"
    sealed = ecies.encrypt_convergent(
        key, plain, ecies.encryption_context("0x" + task_id.hex(), "")
    )
    final = hub.finalize(
        scheduler, task_id, hashlib.sha256(sealed).digest(), sealed, workers, [1, 1], []
    )
    return {
        "params_bytes": len(text),
        "result_bytes": len(sealed),
        "request": sent.gas_used,
        "lockStake": lock.gas_used,
        "finalize": final.gas_used,
        "total": sent.gas_used + lock.gas_used + final.gas_used,
    }


if __name__ == "__main__":
    main()

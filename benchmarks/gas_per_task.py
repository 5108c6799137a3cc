"""Gas of one VanityGen task, transaction by transaction, at the contract level (gas is the
user's money: the requester pays the request, the pool's scheduler the finalize or fail, the
payer the refund withdrawal).

    python benchmarks/gas_per_task.py [--repeat N] [--workers N] [--json]

Deploys the shipped artifacts on the embedded chain (the default listings: VanityGen 4 RLC,
pool fee 1 RLC) and runs, N times each with the same accounts (the first run of a user writes
storage slots that later runs only update, so both are shown):

- `via_requester`: `RLC.approveAndCall(vanityRequester, price, (params, maxPrice, category))`,
  then the scheduler's `finalize` with a real split-key VanityGen result (one worker);
- `via_requester_overpaid`: the same request approving the price + 3 RLC;
- `via_requester_failed`: request, the scheduler's `fail`, the payer's `withdrawRefund`;
- `via_hub`: `RLC.approveAndCall(hub, price, request)` with the VanityRequester as callback
  (what the app sends), then `finalize`;
- `via_hub_no_callback` and `via_hub_empty_result`: the same without a callback, and with an
  empty result, to show what the callback and the result's size cost in `finalize`;
- `via_hub_locked` (hubs with stake only): the same as `via_hub` with the scheduler's
  `lockStake` of each worker's contribution while it computes, a transaction of its own.

Prints gas per transaction and per task (request + finalize, or request + fail + withdrawal).
The other scenarios use only calls that exist in every version of the contracts, so an older
checkout's package can be measured with this script by putting it first on PYTHONPATH (the
deployment stakes for the pool owner and the workers where the hub has stake).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import tempfile
from pathlib import Path
from typing import Any

from eth_abi import encode


def vanity_result(params: dict[str, Any]) -> bytes:
    """A real result document of the grid app for `params` (a short pattern: found at once)."""
    from deskgrid.apps.sdk import RunContext
    from deskgrid.apps.vanity.app import run

    with tempfile.TemporaryDirectory() as workdir:
        return run(dict(params), RunContext(workdir=Path(workdir)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each scenario")
    parser.add_argument("--workers", type=int, default=1, help="workers paid by finalize")
    parser.add_argument("--json", action="store_true", help="one JSON line")
    args = parser.parse_args()

    from deskgrid.chain.connection import connect
    from deskgrid.chain.contracts import (
        ZERO_ADDRESS,
        HubContract,
        RLCToken,
        TaskRequest,
        VanityRequesterContract,
    )
    from deskgrid.chain.deployment import Roles, deploy
    from deskgrid.chain.transactions import TxSender
    from deskgrid.node.requester import VanityOrder

    chain = connect("embedded")
    roles = Roles.dev(chain)
    deployment = deploy(chain, roles)
    rlc = RLCToken(chain, deployment.rlc)
    hub = HubContract(chain, deployment.hub)
    requester = VanityRequesterContract(chain, deployment.vanity_requester)
    app_id, pool_id = deployment.apps["vanity"], deployment.pool_id
    # Level 1 (VanityGen's), the only price older contracts know: no newer helper is imported,
    # so that an older checkout's package runs this script too.
    price = hub.app(app_id).price + hub.pool(pool_id).fee
    faucet, scheduler = TxSender(chain, roles.faucet), TxSender(chain, roles.scheduler)
    user = chain.dev_accounts[3]
    payer = TxSender(chain, user)
    workers = [a.address for a in chain.dev_accounts[5 : 5 + args.workers]]

    order = VanityOrder(["1Lo"], category=1)
    params = order.params()
    params_json = json.dumps(params, separators=(",", ":"))
    result = vanity_result(params)
    digest = hashlib.sha256(result).digest()
    rlc.transfer(faucet, user.address, 100 * price * args.repeat)

    def through_requester(amount: int) -> tuple[bytes, int]:
        data = encode(["string", "uint256", "uint256"], [params_json, price, order.category])
        sent = rlc.approve_and_call(payer, requester.address, amount, data)
        task_id = bytes(requester.events("VanityRequested", sent.receipt)[0]["args"]["taskId"])
        return task_id, sent.gas_used

    def through_hub(callback: str) -> tuple[bytes, int]:
        request = TaskRequest(app_id, pool_id, params_json, price, order.category, callback)
        sent = rlc.approve_and_call(payer, hub.address, price, request.encode())
        task_id = bytes(hub.events("TaskRequested", sent.receipt)[0]["args"]["taskId"])
        return task_id, sent.gas_used

    def finalize(task_id: bytes, results: bytes = result) -> int:
        weights = [1] * len(workers)
        return hub.finalize(scheduler, task_id, digest, results, workers, weights).gas_used

    def completed(request) -> dict[str, int]:
        task_id, request_gas = request()
        finalize_gas = finalize(task_id)
        return {"request": request_gas, "finalize": finalize_gas}

    def failed() -> dict[str, int]:
        task_id, request_gas = through_requester(price)
        fail_gas = hub.fail(scheduler, task_id, "no worker found it").gas_used
        refund_gas = requester.withdraw_refund(payer, task_id).gas_used
        return {"request": request_gas, "fail": fail_gas, "withdrawRefund": refund_gas}

    def locked() -> dict[str, int]:
        task_id, request_gas = through_hub(requester.address)
        lock_gas = hub.lock_stake(scheduler, task_id, workers).gas_used
        return {"request": request_gas, "lockStake": lock_gas, "finalize": finalize(task_id)}

    def empty_result() -> dict[str, int]:
        task_id, request_gas = through_hub(requester.address)
        return {"request": request_gas, "finalize": finalize(task_id, b"")}

    scenarios = {
        "via_requester": lambda: completed(lambda: through_requester(price)),
        "via_requester_overpaid": lambda: completed(lambda: through_requester(price + 3 * 10**9)),
        "via_requester_failed": failed,
        "via_hub": lambda: completed(lambda: through_hub(requester.address)),
        "via_hub_no_callback": lambda: completed(lambda: through_hub(ZERO_ADDRESS)),
        "via_hub_empty_result": empty_result,
    }
    if hasattr(hub, "lock_stake"):
        scenarios["via_hub_locked"] = locked
    figures: dict[str, Any] = {}
    for name, scenario in scenarios.items():
        runs = [scenario() for _ in range(args.repeat)]
        figures[name] = {
            "first": {**runs[0], "task": sum(runs[0].values())},
            "repeat": {**runs[-1], "task": sum(runs[-1].values())},
        }
    report = {
        "result_bytes": len(result),
        "params_bytes": len(params_json),
        "workers": args.workers,
        "price_nrlc": price,
        **figures,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
    chain.close()
    print(json.dumps(report) if args.json else json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

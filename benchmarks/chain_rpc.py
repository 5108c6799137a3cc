"""Round-trip time of the embedded chain served over JSON-RPC (what the desktop app pays per
chain read in the offline demo, whose chain runs in the node child process).

    python benchmarks/chain_rpc.py [--calls N] [--json]

Serves an embedded chain with `ChainRpcServer` on loopback and times web3 reads over HTTP:
`eth_blockNumber`, `eth_getBalance`, an `eth_call` (RLC balanceOf) and the timeline's one
`eth_getLogs` for a task. Prints the median and p99 of each in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

from web3 import Web3


def timed(calls: int, fn) -> dict[str, float]:
    fn()  # warm up (connection, caches)
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(samples[min(len(samples) - 1, int(0.99 * len(samples)))], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="one JSON line")
    args = parser.parse_args()

    from deskgrid.chain.connection import connect
    from deskgrid.chain.contracts import HubContract, RLCToken, TaskRequest
    from deskgrid.chain.deployment import Roles, ensure_deployment
    from deskgrid.chain.faucet import DemoFaucet
    from deskgrid.chain.rpc_server import ChainRpcServer
    from deskgrid.chain.transactions import TxSender
    from deskgrid.chain.trust import task_price

    chain = connect("embedded")
    deployment, _ = ensure_deployment(chain, Roles.dev(chain))
    server = ChainRpcServer(chain)
    url = server.start()
    try:
        remote = connect(url, dev_keys=[a.key.to_0x_hex() for a in chain.dev_accounts])
        hub = HubContract(remote, deployment.hub)
        rlc = RLCToken(remote, deployment.rlc)
        who = remote.dev_accounts[0]
        DemoFaucet(chain, deployment.rlc, deployment.faucet).fund(who.address)
        price = task_price(
            hub.app(deployment.apps["vanity"]).price, hub.pool(deployment.pool_id).fee
        )
        request = TaskRequest(deployment.apps["vanity"], deployment.pool_id, "{}", price)
        task_id = hub.pay_and_request(TxSender(remote, who), rlc, request)
        names = ("TaskRequested", "TaskFinalized", "TaskFailed", "TaskClaimed")
        w3: Web3 = remote.w3
        figures = {
            "eth_blockNumber": timed(args.calls, lambda: w3.eth.block_number),
            "eth_getBalance": timed(args.calls, lambda: w3.eth.get_balance(who.address)),
            "eth_call_balanceOf": timed(args.calls, lambda: rlc.balance_of(who.address)),
            "eth_getLogs_task": timed(
                args.calls, lambda: hub.task_logs(task_id, names, deployment.block)
            ),
        }
    finally:
        server.stop()
    result = {
        "calls": args.calls,
        **figures,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

"""The node's JSON-RPC server as the node process starts it (an embedded chain served by
ChainRpcServer on loopback), alone: prints `RPC <url>` and serves until stdin closes.

    python -m tests.security.rpc_node
"""

from __future__ import annotations

import sys

from deskgrid.chain.connection import connect
from deskgrid.chain.rpc_server import ChainRpcServer


def main() -> None:
    server = ChainRpcServer(connect("embedded"))
    print(f"RPC {server.start()}", flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()

"""What the local node's child process tells its parent, one JSON object per stdout line.

    {"event": "progress", "message": "deploying the marketplace contracts"}
    {"event": "ready", "node": {NodeInfo}}
    {"event": "error", "message": "<a sentence>"}
    {"event": "stopped"}

Kept free of heavy imports: the desktop app reads these lines before it loads the chain
libraries.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class NodeInfo:
    """Everything a client needs to use a running local node.

    `dev_keys` are the development chain's funded keys (a throw-away local chain: they are
    public knowledge, as anvil's are); `deployment` is `Deployment.to_json()`. `demo_gifts`
    are `{"asset", "amount", "tx_hash", "block_number", "source"}`."""

    rpc_url: str
    grid_url: str
    grid_token: str
    chain_kind: str  # the node's chain: embedded (served over JSON-RPC) or anvil
    deployment: dict[str, Any]
    dev_keys: list[str] = field(default_factory=list)
    demo_user_index: int = 3
    workers: int = 0
    pid: int = 0
    demo_key: str = ""  # a fresh demo wallet the node funded from its faucet (--fund-demo)
    demo_gifts: list[dict[str, Any]] = field(default_factory=list)  # FaucetGift, as JSON

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeInfo:
        return cls(**data)


@dataclass(frozen=True)
class NodeLine:
    """One parsed line of the child's output."""

    event: str  # progress | ready | error | stopped
    message: str = ""
    node: NodeInfo | None = None

    def dumps(self) -> str:
        data: dict[str, Any] = {"event": self.event}
        if self.message:
            data["message"] = self.message
        if self.node is not None:
            data["node"] = self.node.to_json()
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def loads(cls, line: str | bytes) -> NodeLine | None:
        """The line's event, or None for a line that is not one (a stray print)."""
        try:
            data = json.loads(line)
        except ValueError:
            return None
        if not isinstance(data, dict) or "event" not in data:
            return None
        node = data.get("node")
        return cls(
            str(data["event"]),
            str(data.get("message", "")),
            NodeInfo.from_json(node) if isinstance(node, dict) else None,
        )

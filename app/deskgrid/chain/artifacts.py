"""The compiled contract artifacts shipped with the package (see contracts/compile.js)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

CONTRACT_NAMES = ("RLC", "Hub", "VanityRequester")


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler: str


@cache
def load_artifact(name: str) -> Artifact:
    """The ABI and bytecode of one contract."""
    if name not in CONTRACT_NAMES:
        raise KeyError(f"no artifact named {name!r}; known: {', '.join(CONTRACT_NAMES)}")
    text = resources.files("deskgrid.chain").joinpath("artifacts", f"{name}.json").read_text()
    data = json.loads(text)
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        compiler=data["compiler"],
    )

"""How far a scan of the chain got: the last scanned block and its hash, in memory or in a JSON
file. The next range starts after it; a changed hash there is a reorg, and the scan goes back
`REWIND` blocks (never before where it began) to read them again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deskgrid.chain.connection import Chain
from deskgrid.jsonfile import read_json, write_json_atomic

REWIND = 64


@dataclass(frozen=True)
class BlockRange:
    """Blocks `start`..`end` (both included) to scan; `rewound` when a reorg sent it back."""

    start: int
    end: int
    rewound: bool = False


def _block_hash(chain: Chain, number: int) -> str | None:
    with chain.lock:
        block = chain.w3.eth.get_block(number)
    value = block.get("hash")
    return value.to_0x_hex() if value is not None else None


class LogCursor:
    """The last block scanned (`block`, -1 before any) and its hash. Blocking; not thread-safe
    (one scanner owns it)."""

    def __init__(self, path: Path | None = None, *, first_block: int = 0) -> None:
        """`first_block`: where the first scan starts when `path` holds no cursor yet."""
        self.path = path
        self.floor = first_block
        self.block = first_block - 1
        self.hash: str | None = None
        saved = self._load()
        if saved is not None:
            self.floor, self.block, self.hash = saved

    def _load(self) -> tuple[int, int, str | None] | None:
        if self.path is None:
            return None
        try:
            data = read_json(self.path)
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        try:
            block = int(data["block"])
            floor = int(data.get("floor", 0))
        except (KeyError, TypeError, ValueError):
            return None
        found = data.get("hash")
        return floor, block, found if isinstance(found, str) else None

    def next_range(self, chain: Chain, head: int, max_blocks: int) -> BlockRange | None:
        """The blocks to scan now (at most `max_blocks`), or None when up to date."""
        rewound = False
        if self.block >= 0 and self.hash is not None:
            if self.block > head or _block_hash(chain, self.block) != self.hash:
                self.block = max(self.floor - 1, min(self.block, head) - REWIND)
                self.hash = None
                rewound = True
        start = self.block + 1
        if start > head:
            return None
        return BlockRange(start, min(head, start + max_blocks - 1), rewound)

    def advance(self, chain: Chain, block: int) -> None:
        """Everything up to `block` is scanned; remember it (and its hash)."""
        self.block = block
        self.hash = _block_hash(chain, block) if block >= 0 else None
        if self.path is not None:
            write_json_atomic(
                self.path, {"floor": self.floor, "block": self.block, "hash": self.hash}
            )

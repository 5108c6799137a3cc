"""A volunteer's earnings: the hub's `Rewarded` events to the payout address, summed.

What was earned is not the escrow balance (that is what is left to withdraw; a withdrawal or a
task paid from escrow lowers it). The rewards found are kept per network, hub and address in
`<data>/earnings/<chain id>-<genesis hash, 12 hex digits>/<hub>/<address>.json`, with the scan's
cursor beside it (`<address>.cursor.json`, `wallet.log_cursor`), so a restart reads only the
blocks added since; a reorg drops the rewards of the blocks read again. Blocking; call it off the
GUI thread."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

from deskgrid import paths
from deskgrid.chain.contracts import HubContract
from deskgrid.chain.hub_events import LOG_SPAN, Reward, block_time, rewards_to
from deskgrid.jsonfile import read_json, write_json_atomic
from deskgrid.wallet.log_cursor import LogCursor

RANGES_PER_REFRESH = 20  # a long way behind catches up over several refreshes
NETWORK_LOOKBACK = 200_000  # an address new to a network looks this far back (about a month)


@dataclass(frozen=True)
class Earned:
    """One reward with the time of its block."""

    reward: Reward
    at: int  # block timestamp, Unix seconds


def ledger_path(hub: HubContract, address: str) -> Path:
    chain = hub.chain
    network = f"{chain.chain_id}-{chain.genesis_hash.removeprefix('0x')[:12]}"
    folder = paths.sub_dir("earnings") / network / hub.address
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{hub.chain.w3.to_checksum_address(address)}.json"


class EarningsLedger:
    """The rewards paid to one address on one hub. Not thread-safe: one owner refreshes it."""

    def __init__(
        self,
        hub: HubContract,
        address: str,
        *,
        path: Path | None = None,
        first_block: int | None = None,
        span: int = LOG_SPAN,
    ) -> None:
        """`path`: where it is kept (None: in memory; `kept()` gives the data folder's place).
        `first_block`: where an address new to this ledger starts (default: 0 on development
        chains, else `NETWORK_LOOKBACK` blocks back)."""
        self.hub = hub
        self.address = hub.chain.w3.to_checksum_address(address)
        self.path = path
        self.span = span
        self._first_block = first_block
        self.cursor: LogCursor | None = None
        self.earned: list[Earned] = self._load()

    @classmethod
    def kept(cls, hub: HubContract, address: str, **options: int | None) -> EarningsLedger:
        """The ledger of `address` kept in the data folder (`ledger_path`)."""
        return cls(hub, address, path=ledger_path(hub, address), **options)  # type: ignore[arg-type]

    # -- the file ------------------------------------------------------------------------

    def _cursor_path(self) -> Path | None:
        return None if self.path is None else self.path.with_name(f"{self.path.stem}.cursor.json")

    def _load(self) -> list[Earned]:
        try:
            data = read_json(self.path) if self.path is not None else None
        except (OSError, ValueError):
            data = None
        rows = data.get("rewards") if isinstance(data, dict) else None
        earned = []
        for row in rows if isinstance(rows, list) else []:
            try:
                earned.append(Earned(Reward(**row["reward"]), int(row["at"])))
            except (KeyError, TypeError, ValueError):
                return self._forget()  # a damaged file: read the chain again
        return earned

    def _forget(self) -> list[Earned]:
        cursor = self._cursor_path()
        if cursor is not None:
            cursor.unlink(missing_ok=True)
        return []

    def _save(self) -> None:
        if self.path is not None:
            rows = [{"reward": asdict(e.reward), "at": e.at} for e in self.earned]
            write_json_atomic(self.path, {"address": self.address, "rewards": rows})

    # -- reading the chain ---------------------------------------------------------------

    def refresh(self) -> list[Earned]:
        """Read the blocks since the last refresh; returns the rewards it found."""
        chain = self.hub.chain
        head = chain.block_number()
        if self.cursor is None:
            first = self._first_block
            if first is None:
                first = 0 if chain.is_dev else max(0, head - NETWORK_LOOKBACK)
            self.cursor = LogCursor(self._cursor_path(), first_block=first)
        added: list[Earned] = []
        for _ in range(RANGES_PER_REFRESH):
            blocks = self.cursor.next_range(chain, head, self.span)
            if blocks is None:
                break
            if blocks.rewound:
                self.earned = [e for e in self.earned if e.reward.block_number < blocks.start]
            known = {(e.reward.tx_hash, e.reward.log_index) for e in self.earned}
            times: dict[int, int] = {}
            for reward in rewards_to(self.hub, self.address, blocks.start, blocks.end):
                if (reward.tx_hash, reward.log_index) in known:
                    continue
                if reward.block_number not in times:
                    times[reward.block_number] = block_time(self.hub, reward.block_number)
                found = Earned(reward, times[reward.block_number])
                self.earned.append(found)
                added.append(found)
            self._save()  # before the cursor moves: a crash between reads the range again
            self.cursor.advance(chain, blocks.end)
        return added

    # -- sums ----------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Everything earned, in nRLC."""
        return sum(e.reward.amount for e in self.earned)

    def per_task(self) -> list[tuple[int, int]]:
        """(time, running total) after each rewarded task, oldest first."""
        points: list[tuple[int, int]] = []
        running = 0
        for e in self.earned:
            running += e.reward.amount
            points.append((e.at, running))
        return points

    def per_day(self) -> list[tuple[int, int]]:
        """(midnight UTC of a day, running total at that day's end), oldest first."""
        days: dict[int, int] = {}
        running = 0
        for e in self.earned:
            running += e.reward.amount
            day = dt.datetime.fromtimestamp(e.at, dt.UTC).date()
            midnight = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
            days[midnight] = running
        return sorted(days.items())

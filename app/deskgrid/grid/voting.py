"""The vote on a job's results, and how many more replicas it needs (pure functions)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tally:
    best_digest: str | None
    best_count: int


def tally(digests: Iterable[str]) -> Tally:
    """The most common digest among the results waiting for the vote (ties: first seen)."""
    counts = Counter(digests)
    if not counts:
        return Tally(None, 0)
    digest, count = counts.most_common(1)[0]
    return Tally(digest, count)


def replicas_wanted(
    *,
    target: int,
    quorum: int,
    in_progress: int,
    successes: int,
    best_count: int,
    total: int,
    max_total: int,
) -> int:
    """How many more leases to hand out now.

    Keep `target` replicas out (running or returned), and enough that a quorum is still
    reachable if every running replica agreed with the largest group; never exceed
    `max_total` replicas over the job's life.
    """
    want = max(target - (in_progress + successes), quorum - (best_count + in_progress), 0)
    return max(0, min(want, max_total - total))

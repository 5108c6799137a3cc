"""Trust levels of a task on the hub and what a task costs at each (docs/architecture.md,
"Trust levels"): the one place a task's price is computed off chain."""

from __future__ import annotations

from deskgrid.errors import DeskGridError

#: Levels a task can be requested at (the hub's `MAX_TRUST`): a level is the number of pool
#: fees the requester pays, i.e. the replicas its price covers.
MIN_TRUST = 1
MAX_TRUST = 5
DEFAULT_TRUST = 1

#: The name of each level, as the docs' table says it.
TRUST_NAMES = {1: "verified", 2: "standard", 3: "high", 4: "very high", 5: "maximum"}


class InvalidTrustLevel(DeskGridError, ValueError):
    """A trust level the hub refuses (it reverts `InvalidTrust`)."""


def describe_levels() -> str:
    """ "1 verified, 2 standard, …": the levels for a sentence or a help text."""
    return ", ".join(f"{level} {name}" for level, name in TRUST_NAMES.items())


def check_trust(trust: int) -> int:
    """`trust` when it is a level the hub accepts; InvalidTrustLevel with a sentence otherwise."""
    if isinstance(trust, bool) or not isinstance(trust, int) or not MIN_TRUST <= trust <= MAX_TRUST:
        raise InvalidTrustLevel(
            f"The trust level must be a whole number from {MIN_TRUST} to {MAX_TRUST} "
            f"({describe_levels()}), not {trust!r}."
        )
    return trust


def task_price(app_price: int, pool_fee: int, trust: int = DEFAULT_TRUST) -> int:
    """What a task costs at trust level `trust` (nRLC), as the hub's `priceOf` computes it: the
    app's price plus the pool's fee per replica times the level."""
    return app_price + pool_fee * check_trust(trust)

"""Consensus by credibility (Sarmenta's credibility-based fault tolerance), pure functions.

Each stakeholder's result or reported error of a job is one vote. A vote is bad with
probability p = f / (1 + v / rho): f the share of bad voters the operator assumes, v the
worker's validated results in a row (BOINC's consecutive_valid). Votes form groups by outcome
(a result digest, or `ERROR`); group g holds with probability
P_g = prod_{i in g} (1 - p_i) * prod_{j not in g} p_j, and its credibility is
P_g / (sum_h P_h + prod_all p_j) (the last term: every vote is bad). The best group wins when
its credibility reaches the job's trust level's target and at least `min_agree` distinct
stakeholders voted for it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ERROR = "ERROR"  # the outcome of a reported error
RHO = 2.0


@dataclass(frozen=True)
class TrustLevel:
    """What a trust level requires: the winning outcome's credibility and the distinct
    stakeholders that must agree on it."""

    target: float
    min_agree: int


# level -> requirement (docs/architecture.md, "Trust levels"); level 1 is one replica, for
# apps whose verifier checks it (or operators that accept an unverified one)
TRUST_LEVELS: Mapping[int, TrustLevel] = {
    1: TrustLevel(0.0, 1),
    2: TrustLevel(0.99, 2),
    3: TrustLevel(0.999, 2),
    4: TrustLevel(0.9999, 3),
    5: TrustLevel(0.99999, 3),
}


ERRORS_NEED = TRUST_LEVELS[2]  # the least a job's failure needs, whatever its level


@dataclass(frozen=True)
class Vote:
    owner: str  # the stakeholder
    outcome: str  # a result digest, or ERROR
    consecutive_valid: int  # of the worker that voted, when counted


@dataclass(frozen=True)
class Verdict:
    outcome: str | None  # the best group's outcome (None: no votes)
    credibility: float
    agreeing: int  # distinct stakeholders in the best group
    reached: bool  # credibility and agreement both reached


def bad_chance(assume_bad: float, consecutive_valid: int, rho: float = RHO) -> float:
    """p = f / (1 + v / rho)."""
    return assume_bad / (1.0 + max(consecutive_valid, 0) / rho)


def credibilities(votes: Iterable[Vote], assume_bad: float, rho: float = RHO) -> dict[str, float]:
    """Each outcome's credibility (one vote per stakeholder: the first one given counts)."""
    counted: dict[str, Vote] = {}
    for vote in votes:
        counted.setdefault(vote.owner, vote)
    if not counted:
        return {}
    chances = [
        (v.outcome, bad_chance(assume_bad, v.consecutive_valid, rho)) for v in counted.values()
    ]
    outcomes = list(dict.fromkeys(outcome for outcome, _ in chances))
    # in logs: many votes with p near 0 or 1 keep their precision
    all_bad = sum(_log(p) for _, p in chances)
    holds = {g: sum(_log(1.0 - p) if o == g else _log(p) for o, p in chances) for g in outcomes}
    top = max([all_bad, *holds.values()])
    total = math.exp(all_bad - top) + sum(math.exp(h - top) for h in holds.values())
    return {g: math.exp(holds[g] - top) / total for g in outcomes}


def decide(
    votes: Iterable[Vote],
    level: TrustLevel,
    min_agree: int,
    assume_bad: float,
    rho: float = RHO,
    *,
    errors_need: TrustLevel = ERRORS_NEED,
) -> Verdict:
    """The best outcome, and whether it wins (credibility >= the level's target with at least
    `min_agree` distinct stakeholders). ERROR wins only with at least `errors_need` too: a
    level whose results a verifier checks, or that accepts one result, still needs a vote
    before the job fails. Ties: the outcome voted first."""
    counted: dict[str, Vote] = {}
    for vote in votes:
        counted.setdefault(vote.owner, vote)
    creds = credibilities(counted.values(), assume_bad, rho)
    if not creds:
        return Verdict(None, 0.0, 0, False)
    best = max(creds, key=lambda outcome: creds[outcome])  # first of equals: voted first
    agreeing = sum(1 for vote in counted.values() if vote.outcome == best)
    target = level.target
    if best == ERROR:
        target, min_agree = max(target, errors_need.target), max(min_agree, errors_need.min_agree)
    reached = creds[best] >= target and agreeing >= min_agree
    return Verdict(best, creds[best], agreeing, reached)


def replicas_wanted(
    *, min_agree: int, best_agreeing: int, running: int, total: int, max_total: int
) -> int:
    """More replicas to hand out when no outcome won yet: enough that `min_agree` stakeholders
    could still agree if every running replica joined the best group, and one more when none
    is running (the vote needs another voice); never past `max_total` over the job's life."""
    want = max(min_agree - (best_agreeing + running), 0)
    if want == 0 and running == 0:
        want = 1
    return max(0, min(want, max_total - total))


def _log(p: float) -> float:
    return math.log(p) if p > 0.0 else -math.inf

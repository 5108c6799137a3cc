"""The credibility arithmetic of consensus by trust (pure functions)."""

from __future__ import annotations

import pytest

from deskgrid.grid.credibility import (
    ERROR,
    TRUST_LEVELS,
    Vote,
    bad_chance,
    credibilities,
    decide,
    replicas_wanted,
)

LEVEL_2 = TRUST_LEVELS[2]


def votes(*spec: tuple[str, int]) -> list[Vote]:
    """One vote per (outcome, consecutive_valid), each of its own stakeholder."""
    return [Vote(f"0x{n}", outcome, valid) for n, (outcome, valid) in enumerate(spec)]


def test_a_vote_is_bad_less_often_the_longer_its_worker_was_right() -> None:
    assert bad_chance(0.3, 0) == pytest.approx(0.3)
    assert bad_chance(0.3, 2) == pytest.approx(0.15)
    assert bad_chance(0.3, 10) == pytest.approx(0.05)


def test_two_fresh_stakeholders_agreeing_are_not_enough_for_level_2() -> None:
    verdict = decide(votes(("a", 0), ("a", 0)), LEVEL_2, 2, 0.3)
    assert verdict.credibility == pytest.approx(0.49 / (0.49 + 0.09))  # 0.845
    assert round(verdict.credibility, 3) == 0.845
    assert (verdict.outcome, verdict.agreeing, verdict.reached) == ("a", 2, False)


def test_two_trusted_stakeholders_agreeing_reach_level_2() -> None:
    verdict = decide(votes(("a", 10), ("a", 10)), LEVEL_2, 2, 0.3)
    assert verdict.credibility == pytest.approx(0.9025 / (0.9025 + 0.0025))
    assert verdict.credibility >= 0.997 and verdict.reached
    assert not decide(votes(("a", 10), ("a", 10)), TRUST_LEVELS[4], 3, 0.3).reached


def test_six_fresh_stakeholders_reach_level_2_and_five_do_not() -> None:
    assert not decide(votes(*[("a", 0)] * 5), LEVEL_2, 2, 0.3).reached
    assert decide(votes(*[("a", 0)] * 6), LEVEL_2, 2, 0.3).reached


def test_credibility_needs_min_agree_stakeholders_however_trusted() -> None:
    verdict = decide(votes(("a", 10_000)), LEVEL_2, 2, 0.3)
    assert verdict.credibility > 0.999 and verdict.agreeing == 1 and not verdict.reached


def test_disagreeing_groups_share_the_credibility() -> None:
    creds = credibilities(votes(("a", 0), ("b", 0)), 0.3)
    # P_a = P_b = 0.7 * 0.3; all bad = 0.09
    assert creds == pytest.approx({"a": 0.21 / 0.51, "b": 0.21 / 0.51})
    trusted = credibilities(votes(("a", 10), ("a", 10), ("b", 0)), 0.3)
    assert trusted["a"] == pytest.approx(0.27075 / (0.27075 + 0.00175 + 0.00075))
    assert trusted["a"] >= 0.99


def test_errors_are_an_outcome_that_needs_the_same_credibility() -> None:
    three_fresh = decide(votes((ERROR, 0), (ERROR, 0), (ERROR, 0)), LEVEL_2, 2, 0.3)
    assert three_fresh.outcome == ERROR and not three_fresh.reached
    assert decide(votes((ERROR, 10), (ERROR, 10)), LEVEL_2, 2, 0.3).reached


def test_a_stakeholder_votes_once() -> None:
    twice = [Vote("0xa", "a", 10), Vote("0xa", "a", 10), Vote("0xb", "b", 0)]
    verdict = decide(twice, LEVEL_2, 2, 0.3)
    assert verdict.agreeing == 1 and not verdict.reached
    assert decide([], LEVEL_2, 2, 0.3).outcome is None


def test_many_votes_keep_their_precision() -> None:
    creds = credibilities(votes(*[("a", 1000)] * 400, *[("b", 0)] * 400), 0.3)
    assert creds["a"] == pytest.approx(1.0) and 0.0 <= creds["b"] < 1e-100


def test_replicas_wanted_when_no_outcome_won() -> None:
    fresh = {"total": 0, "max_total": 10}
    assert replicas_wanted(min_agree=2, best_agreeing=0, running=0, **fresh) == 2
    assert replicas_wanted(min_agree=2, best_agreeing=1, running=1, **fresh) == 0
    assert replicas_wanted(min_agree=2, best_agreeing=2, running=0, **fresh) == 1
    assert replicas_wanted(min_agree=3, best_agreeing=1, running=0, total=9, max_total=10) == 1
    assert replicas_wanted(min_agree=2, best_agreeing=2, running=0, total=10, max_total=10) == 0


def test_one_error_never_fails_a_level_1_job() -> None:
    level_1 = TRUST_LEVELS[1]
    assert decide(votes(("a", 0)), level_1, 1, 0.3).reached  # one result is enough
    assert not decide(votes((ERROR, 0)), level_1, 1, 0.3).reached
    assert not decide(votes((ERROR, 10)), level_1, 1, 0.3).reached  # a vote is needed
    assert decide(votes((ERROR, 10), (ERROR, 10)), level_1, 1, 0.3).reached

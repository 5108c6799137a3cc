"""The figures of benchmarks/byzantine.py from plain tallies: shares, the requester's cost
ratio, wrong results paid, what identities without stake earned, and the printed table."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from byzantine_metrics import (  # noqa: E402
    GroupTally,
    TaskOutcome,
    cost_ratio,
    scenario_figures,
    share,
    table,
)

RLC = 10**9
SINGLE = 11 * RLC // 10  # app 0.1 RLC + one pool fee of 1 RLC


def test_share_is_rounded_and_zero_when_there_is_nothing_to_share() -> None:
    assert share(1, 3) == 0.3333
    assert share(7, 10) == 0.7
    assert share(5, 0) == 0.0


def test_cost_ratio_counts_only_completed_tasks() -> None:
    level2 = 21 * RLC // 10  # app 0.1 + 2 × fee
    tasks = [
        TaskOutcome("COMPLETED", level2, True),
        TaskOutcome("COMPLETED", level2, False),
        TaskOutcome("FAILED", level2, False),  # refunded: neither cost nor result
    ]
    assert cost_ratio(tasks, SINGLE) == round(2.1 / 1.1, 4)
    assert cost_ratio([TaskOutcome("FAILED", level2, False)], SINGLE) is None


def test_scenario_figures() -> None:
    groups = {
        "honest": GroupTally(stake=140 * RLC, leases=12, earned=3 * RLC, slashed=0),
        "colluders": GroupTally(stake=60 * RLC, leases=6, earned=1 * RLC, slashed=RLC // 2),
        "unstaked": GroupTally(stake=0, leases=2, earned=RLC // 4, slashed=0),
    }
    tasks = [
        TaskOutcome("COMPLETED", SINGLE, True),
        TaskOutcome("COMPLETED", SINGLE, False),
        TaskOutcome("FAILED", SINGLE, False),
        TaskOutcome("ACTIVE", SINGLE, False),
    ]
    figures = scenario_figures(groups, tasks, SINGLE)
    assert figures["tasks"] == 4
    assert (figures["completed_tasks"], figures["failed_tasks"]) == (2, 1)
    assert figures["unfinished_tasks"] == 1
    assert figures["wrong_results_paid"] == 1  # the failed and the open one are not paid
    assert figures["unstaked_earned_rlc"] == 0.25
    assert figures["honest_pay_share"] == round(3 / 4.25, 4)
    assert figures["honest_stake_share"] == 0.7
    assert figures["requester_cost_ratio"] == 1.0
    assert figures["slashed_rlc"] == 0.5
    assert figures["replicas_per_task"] == 5.0
    assert figures["groups"]["colluders"] == {
        "work_share": 0.3,
        "pay_share": round(1 / 4.25, 4),
        "stake_share": 0.3,
        "earned_rlc": 1.0,
        "slashed_rlc": 0.5,
    }
    assert figures["groups"]["unstaked"]["stake_share"] == 0.0


def test_without_an_honest_group_its_shares_are_zero() -> None:
    groups = {"attackers": GroupTally(stake=RLC, leases=1, earned=RLC, slashed=0)}
    figures = scenario_figures(groups, [TaskOutcome("COMPLETED", SINGLE, False)], SINGLE)
    assert (figures["honest_pay_share"], figures["honest_stake_share"]) == (0.0, 0.0)


@pytest.mark.parametrize("ratio", [1.9091, None])
def test_table_names_every_scenario_and_group(ratio: float | None) -> None:
    figures = scenario_figures(
        {
            "honest": GroupTally(140 * RLC, 10, 2 * RLC, 0),
            "griefers": GroupTally(60 * RLC, 5, 0, 0),
        },
        [TaskOutcome("COMPLETED", SINGLE, True)],
        SINGLE,
    )
    figures.update(requester_cost_ratio=ratio, trust_level=2, seconds=12.5)
    text = table({"scenarios": {"error_griefing": figures}})
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["scenario", "tasks", "done"]
    assert lines[1].split()[0] == "error_griefing"
    assert ("1.909" if ratio else "-") in lines[1].split()
    assert "error_griefing (trust level 2): each group's share" in lines
    assert any(line.split()[:2] == ["griefers", "0.333"] for line in lines)

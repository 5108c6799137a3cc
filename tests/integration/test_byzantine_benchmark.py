"""benchmarks/byzantine.py runs end to end (anvil, a grid server process, an oracle process,
simulated workers) on a small scenario and prints the JSON figures it documents."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from deskgrid.chain.anvil import find_anvil
from tests.conftest import REPO_ROOT, require

pytestmark = pytest.mark.integration

SCENARIO_KEYS = {
    "tasks",
    "wrong_results_paid",
    "unstaked_earned_rlc",
    "honest_pay_share",
    "honest_stake_share",
    "requester_cost_ratio",
    "groups",
    "slashed_rlc",
    "replicas_per_task",
    "trust_level",
    "seconds",
}
GROUP_KEYS = {"work_share", "pay_share", "stake_share", "earned_rlc", "slashed_rlc"}


def test_a_small_colluding_minority_run_prints_the_documented_json():
    require(find_anvil() is not None, "anvil is not installed: run `npm ci --prefix contracts`")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "app"))
    command = [
        sys.executable, str(REPO_ROOT / "benchmarks" / "byzantine.py"),
        "--tasks", "2", "--scenario", "colluding_minority", "--json",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert list(report["scenarios"]) == ["colluding_minority"]
    figures = report["scenarios"]["colluding_minority"]
    assert SCENARIO_KEYS <= set(figures)
    assert figures["tasks"] == 2
    assert figures["completed_tasks"] + figures["failed_tasks"] == 2  # every task was closed
    assert set(figures["groups"]) == {"honest", "colluders"}
    for values in figures["groups"].values():
        assert set(values) == GROUP_KEYS
    assert figures["honest_stake_share"] == 0.7  # 7 honest stakeholders of 10, equal stakes
    assert 0 <= figures["wrong_results_paid"] <= 2
    assert figures["replicas_per_task"] >= 1
    assert figures["trust_level"] == 2  # the default level

"""The figures of benchmarks/byzantine.py from what one scenario left on the chain and the
grid: each group's share of the work, of the pay and of the stake, wrong results paid, stake
slashed and the requester's cost against a single replica; and the table printed without
--json. Pure functions of plain data (no chain, no grid), so they are unit-tested apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NRLC_PER_RLC = 10**9
HONEST = "honest"


@dataclass(frozen=True)
class GroupTally:
    """One group of identities in a scenario (nRLC amounts, from the chain)."""

    stake: int  # staked by the group's stakeholders when the scenario started
    leases: int  # replicas the grid handed to the group's identities
    earned: int  # worker pay (role 2) and seized stake (role 3) paid to its stakeholders
    slashed: int  # its stake seized by `finalize`


@dataclass(frozen=True)
class TaskOutcome:
    """One paid task once the scenario ended."""

    status: str  # the hub's status: COMPLETED, FAILED, or ACTIVE when it never closed
    price: int  # nRLC the requester paid (refunded when FAILED)
    correct: bool  # COMPLETED with the digest of the app's true answer


def share(part: int, whole: int) -> float:
    """`part` / `whole` rounded to 4 places; 0.0 when `whole` is 0 (nothing to share)."""
    return round(part / whole, 4) if whole else 0.0


def rlc(amount: int) -> float:
    """nRLC as RLC, for the printed figures only (9 decimals: exact for these amounts)."""
    return round(amount / NRLC_PER_RLC, 9)


def cost_ratio(tasks: Sequence[TaskOutcome], single_replica_price: int) -> float | None:
    """What the requester paid per completed task over the price of one single-replica task
    (the app's price + one pool fee); refunded (failed) tasks cost nothing and give nothing.
    None when no task completed."""
    completed = [task.price for task in tasks if task.status == "COMPLETED"]
    if not completed or single_replica_price <= 0:
        return None
    return round(sum(completed) / (len(completed) * single_replica_price), 4)


def scenario_figures(
    groups: Mapping[str, GroupTally],
    tasks: Sequence[TaskOutcome],
    single_replica_price: int,
) -> dict[str, object]:
    """The figures every scenario reports (see benchmarks/byzantine.py); the honest group is
    the one called "honest"."""
    stake = sum(group.stake for group in groups.values())
    leases = sum(group.leases for group in groups.values())
    earned = sum(group.earned for group in groups.values())
    honest = groups.get(HONEST, GroupTally(0, 0, 0, 0))
    return {
        "tasks": len(tasks),
        "completed_tasks": sum(task.status == "COMPLETED" for task in tasks),
        "failed_tasks": sum(task.status == "FAILED" for task in tasks),
        "unfinished_tasks": sum(task.status not in ("COMPLETED", "FAILED") for task in tasks),
        "wrong_results_paid": sum(
            task.status == "COMPLETED" and not task.correct for task in tasks
        ),
        "unstaked_earned_rlc": rlc(sum(g.earned for g in groups.values() if g.stake == 0)),
        "honest_pay_share": share(honest.earned, earned),
        "honest_stake_share": share(honest.stake, stake),
        "requester_cost_ratio": cost_ratio(tasks, single_replica_price),
        "slashed_rlc": rlc(sum(group.slashed for group in groups.values())),
        "replicas_per_task": round(leases / len(tasks), 2) if tasks else 0.0,
        "groups": {
            name: {
                "work_share": share(group.leases, leases),
                "pay_share": share(group.earned, earned),
                "stake_share": share(group.stake, stake),
                "earned_rlc": rlc(group.earned),
                "slashed_rlc": rlc(group.slashed),
            }
            for name, group in groups.items()
        },
    }


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value else "0"
    return str(value)


SUMMARY_COLUMNS = (
    ("tasks", "tasks"),
    ("done", "completed_tasks"),
    ("failed", "failed_tasks"),
    ("wrong paid", "wrong_results_paid"),
    ("unstaked RLC", "unstaked_earned_rlc"),
    ("honest pay", "honest_pay_share"),
    ("honest stake", "honest_stake_share"),
    ("slashed RLC", "slashed_rlc"),
    ("replicas", "replicas_per_task"),
    ("cost ×", "requester_cost_ratio"),
    ("s", "seconds"),
)
GROUP_COLUMNS = (
    ("work", "work_share"),
    ("pay", "pay_share"),
    ("stake", "stake_share"),
    ("earned RLC", "earned_rlc"),
    ("slashed RLC", "slashed_rlc"),
)


def _rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell: the first left-aligned, the figures right-aligned."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    return [line(header), *(line(row) for row in rows)]


def table(report: Mapping[str, Mapping[str, object]]) -> str:
    """A readable table of `{"scenarios": {NAME: figures}}`: one summary line per scenario,
    then each scenario's groups."""
    scenarios = report["scenarios"]
    summary = [
        [name, *(_cell(figures.get(key)) for _, key in SUMMARY_COLUMNS)]
        for name, figures in scenarios.items()
    ]
    lines = _rows(["scenario", *(title for title, _ in SUMMARY_COLUMNS)], summary)
    for name, figures in scenarios.items():
        groups = figures.get("groups") or {}
        rows = [
            [group, *(_cell(values.get(key)) for _, key in GROUP_COLUMNS)]
            for group, values in groups.items()  # type: ignore[union-attr]
        ]
        level = figures.get("trust_level")
        lines += ["", f"{name} (trust level {level}): each group's share"]
        lines += _rows(["group", *(title for title, _ in GROUP_COLUMNS)], rows)
    return "\n".join(lines)

"""A task's facts are shown in the order they happen, whatever order they were read in."""

from deskgrid.oracle.timeline import TimelineEvent, in_order


def fact(kind: str, source: str, at: float = 0.0) -> TimelineEvent:
    return TimelineEvent("0xabc", kind, source, at)


def test_facts_seen_together_are_sorted_as_they_happen() -> None:
    read = [  # the grid is read after the chain, so its facts come second
        fact("queued", "grid", 10.2),
        fact("completed", "grid", 10.2),
        fact("requested", "chain", 10.1),
        fact("confirmed", "chain", 10.1),
        fact("finalized", "chain", 10.1),
    ]
    ordered = in_order(read, 11.0)
    assert [e.kind for e in ordered] == [
        "requested",
        "confirmed",
        "queued",
        "completed",
        "finalized",
    ]
    assert {e.at for e in ordered} == {11.0} and ordered[-1].final


def test_an_unknown_fact_goes_last_and_a_refund_after_the_grid_error() -> None:
    ordered = in_order(
        [fact("new-kind", "chain"), fact("failed", "chain"), fact("error", "grid")], 1
    )
    assert [e.kind for e in ordered] == ["error", "failed", "new-kind"]

"""Cyclic garbage is collected on the GUI thread by a timer, never by the automatic collector
on whatever thread allocates."""

from __future__ import annotations

import gc
import weakref

from deskgrid.ui.gc_guard import MainThreadCollector


class _Node:
    def __init__(self) -> None:
        self.me = self


def test_cycles_are_collected_by_the_timer_on_the_gui_thread(qtbot) -> None:
    was_enabled = gc.isenabled()
    collector = MainThreadCollector(interval_ms=10)
    try:
        assert not gc.isenabled()
        gc.collect()
        node = _Node()
        gone = weakref.ref(node)
        del node
        for _ in range(gc.get_threshold()[0] + 10):  # enough allocations for a pass
            _Node()
        qtbot.waitUntil(lambda: gone() is None, timeout=5000)
    finally:
        collector.stop()
    assert gc.isenabled() == was_enabled

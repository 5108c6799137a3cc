"""Run the search on several cores: one process per core, progress summed, stop on a match."""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass

import coincurve

from deskgrid.apps.vanity.pattern import PatternSet, compile_patterns
from deskgrid.apps.vanity.search import Match, Searcher

ProgressCallback = Callable[[int, float], None]  # (keys tried, keys per second)


@dataclass(frozen=True)
class SearchResult:
    match: Match | None  # None when stopped before a match
    keys_tried: int
    seconds: float

    @property
    def keys_per_second(self) -> float:
        return self.keys_tried / self.seconds if self.seconds > 0 else 0.0


def _child(
    patterns: tuple[str, ...],
    case_insensitive: bool,
    compressed: bool,
    base: bytes | None,
    counter,  # multiprocessing.Value("Q")
    stop_event,
    results,
) -> None:
    searcher = Searcher(
        compile_patterns(patterns, case_insensitive),
        compressed=compressed,
        base=coincurve.PublicKey(base) if base else None,
    )

    def count(n: int) -> None:
        counter.value += n

    try:
        found = searcher.run(stop=stop_event.is_set, on_progress=count)
    except KeyboardInterrupt:  # pragma: no cover - the parent stops us
        return
    if found is not None:
        results.put(found)
        stop_event.set()


def search(
    patterns: PatternSet,
    *,
    cores: int = 1,
    compressed: bool = True,
    base: coincurve.PublicKey | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    interval: float = 0.5,
) -> SearchResult:
    """Search until a match (or `should_stop()`), reporting progress every `interval` s."""
    started = time.monotonic()
    should_stop = should_stop or (lambda: False)
    if cores <= 1:
        return _search_here(patterns, compressed, base, on_progress, should_stop, interval)
    ctx = mp.get_context("spawn")
    stop_event = ctx.Event()
    results = ctx.Queue()
    counters = [ctx.Value("Q", 0, lock=False) for _ in range(cores)]
    base_bytes = base.format(compressed=True) if base is not None else None
    procs = [
        ctx.Process(
            target=_child,
            args=(
                patterns.patterns,
                patterns.case_insensitive,
                compressed,
                base_bytes,
                counter,
                stop_event,
                results,
            ),
            daemon=True,
        )
        for counter in counters
    ]
    for proc in procs:
        proc.start()
    found: Match | None = None
    try:
        while found is None:
            try:
                found = results.get(timeout=interval)
            except queue.Empty:
                pass
            tried = sum(c.value for c in counters)
            elapsed = time.monotonic() - started
            if on_progress is not None and found is None:
                on_progress(tried, tried / elapsed if elapsed > 0 else 0.0)
            if found is None and (should_stop() or not any(p.is_alive() for p in procs)):
                break
    finally:
        stop_event.set()
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():  # pragma: no cover
                proc.terminate()
                proc.join()
    tried = sum(c.value for c in counters)
    return SearchResult(found, tried, time.monotonic() - started)


def _search_here(
    patterns: PatternSet,
    compressed: bool,
    base: coincurve.PublicKey | None,
    on_progress: ProgressCallback | None,
    should_stop: Callable[[], bool],
    interval: float,
) -> SearchResult:
    started = time.monotonic()
    tried = 0
    next_report = started + interval

    def count(n: int) -> None:
        nonlocal tried, next_report
        tried += n
        now = time.monotonic()
        if on_progress is not None and now >= next_report:
            next_report = now + interval
            on_progress(tried, tried / (now - started))

    found = Searcher(patterns, compressed=compressed, base=base).run(
        stop=should_stop, on_progress=count
    )
    return SearchResult(found, tried, time.monotonic() - started)

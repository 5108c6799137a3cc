"""Running coroutines from Qt slots: errors become sentences, never tracebacks in the UI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from deskgrid import logs
from deskgrid.errors import DeskGridError

log = logging.getLogger(__name__)

ErrorSink = Callable[[str], None]

_running: set[asyncio.Task] = set()  # spawned and not yet done
_quitting = False  # inside `quitting()`: what is spawned now is cancelled before it runs


def error_sentence(exc: BaseException) -> str:
    """What to show a person for an exception (the details of unexpected ones go to the log)."""
    if isinstance(exc, DeskGridError):
        return str(exc)
    log_file = logs.active_log_file() or logs.log_file("deskgrid")
    return (
        f"Something unexpected went wrong ({type(exc).__name__}); try again, and if it "
        f"persists, report it with the log, {log_file}."
    )


def _widget_gone(exc: BaseException) -> bool:
    """The window closed while the task ran: the widget it wanted to update is gone."""
    return isinstance(exc, RuntimeError) and "already deleted" in str(exc)


def spawn(coro: Coroutine[Any, Any, Any], on_error: ErrorSink | None = None) -> asyncio.Task:
    """Schedule `coro` on the running loop; report a failure to `on_error` as a sentence."""
    task = asyncio.ensure_future(coro)
    if _quitting:
        task.cancel()  # the app is closing down: a block or a timer must not start new work
    _running.add(task)

    def done(finished: asyncio.Task) -> None:
        _running.discard(finished)
        if finished.cancelled():
            return
        exc = finished.exception()
        if exc is None or _widget_gone(exc):
            return
        if not isinstance(exc, DeskGridError):
            log.error("task %s failed", finished.get_coro().__qualname__, exc_info=exc)
        if on_error is not None:
            try:
                on_error(error_sentence(exc))
            except RuntimeError as gone:
                if not _widget_gone(gone):
                    raise

    task.add_done_callback(done)
    return task


@contextmanager
def quitting() -> Iterator[int]:
    """Closing the app down: every spawned task still running is cancelled, before the
    backend it talks to stops (its failure against a stopped node would be noise, and an
    unfinished job is kept by the requester journal anyway), and so is any task spawned
    until the block ends. Yields how many were cancelled."""
    global _quitting
    _quitting = True
    try:
        pending = [task for task in _running if not task.done()]
        for task in pending:
            task.cancel()
        yield len(pending)
    finally:
        _quitting = False

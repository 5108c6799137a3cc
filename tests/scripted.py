"""Drive the real desktop app from a script: the benchmarks and the screenshot script use it.

`run_demo_window(scenario)` builds the app as `deskgrid` does (QApplication, qasync loop,
AppController with the default demo backend, MainWindow) in a fresh temporary DESKGRID_HOME
whose settings say the first run is done and the demo is chosen, with an in-memory keyring,
then runs `scenario(run)` on the app's loop and shuts everything down.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


async def wait_for(
    condition: Callable[[], object], timeout: float, what: str, poll: float = 0.05
) -> None:
    """Poll `condition` on the running loop until it is true (TimeoutError after `timeout`)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(poll)


@dataclass
class DemoRun:
    controller: Any
    window: Any
    failures: list[str] = field(default_factory=list)


def run_demo_window(
    scenario: Callable[[DemoRun], Awaitable[None]],
    *,
    size: tuple[int, int] | None = None,
    home_prefix: str = "deskgrid-scripted-",
    backend_factory: Callable[[Any, Any], Any] | None = None,
) -> None:
    """Run `scenario` on the app's window, on the offline demo (or on the backend
    `backend_factory(settings, bus)` makes)."""
    home = tempfile.TemporaryDirectory(prefix=home_prefix)
    os.environ["DESKGRID_HOME"] = home.name

    import qasync
    from PySide6.QtWidgets import QApplication

    from deskgrid.desktop.settings import SettingsStore
    from deskgrid.ui.controller import AppController, close_down
    from deskgrid.ui.gc_guard import MainThreadCollector
    from deskgrid.ui.icons import icon
    from deskgrid.ui.main_window import MainWindow
    from tests.memory_keyring import use_memory_keyring

    use_memory_keyring()
    SettingsStore().update(first_run_done=True, network_mode="demo")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DeskGrid")
    app.setWindowIcon(icon("deskgrid"))
    collector = MainThreadCollector(parent=app)  # noqa: F841 - lives with the app
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    if backend_factory is None:
        controller = AppController(SettingsStore())
    else:
        controller = AppController(SettingsStore(), backend_factory=backend_factory)
    window = MainWindow(controller)
    run = DemoRun(controller, window)
    controller.boot_failed.connect(run.failures.append)
    if size:
        window.resize(*size)
    window.show()
    window.start()

    async def main() -> None:
        try:
            await scenario(run)
        finally:
            await close_down(controller)
            loop.stop()

    task = loop.create_task(main())  # run_forever: asyncio sees the loop as running
    try:
        loop.run_forever()
    finally:
        window.close()
        loop.close()
        home.cleanup()
    task.result()

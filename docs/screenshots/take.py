"""Screenshots of the desktop app's panes for the README and the docs.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots/take.py

Runs the real app (xcb platform under Xvfb) on the offline demo in a fresh temporary
DESKGRID_HOME with an in-memory keyring (the real OS keyring is never touched), sizes the
window to 1100x720, and saves into this folder:

- `wallet.png`: the Wallet pane after a gift from the demo faucet;
- `jobs.png`: the Jobs pane with a finished VanityGen job (pattern `1Ab`); the private key
  stays hidden (the Show toggle is off, the field is masked);
- `volunteer.png`: the Volunteer pane with "Donate my CPU" on;
- `settings.png`: the Settings pane.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZE = (1100, 720)
PATTERN = "1Ab"


async def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def main() -> int:
    home = tempfile.TemporaryDirectory(prefix="deskgrid-shots-")
    os.environ["DESKGRID_HOME"] = home.name

    import keyring
    import qasync
    from keyring.backend import KeyringBackend
    from PySide6.QtWidgets import QApplication, QLineEdit

    from deskgrid.settings import SettingsStore
    from deskgrid.ui.controller import AppController
    from deskgrid.ui.icons import icon
    from deskgrid.ui.main_window import MainWindow

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.secrets: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.secrets.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.secrets[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.secrets.pop((service, username), None)

    keyring.set_keyring(MemoryKeyring())
    SettingsStore().update(first_run_done=True, network_mode="demo")

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DeskGrid")
    app.setWindowIcon(icon("deskgrid"))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    controller = AppController(SettingsStore())
    window = MainWindow(controller)
    window.resize(*SIZE)
    window.show()
    window.start()

    async def shoot(name: str) -> None:
        await asyncio.sleep(0.5)  # let the pane lay out and paint
        path = HERE / f"{name}.png"
        window.grab().save(str(path), "PNG")
        print(f"saved {path.relative_to(HERE.parent.parent)} ({path.stat().st_size // 1024} KB)")

    async def scenario() -> None:
        await wait_for(lambda: controller.ready, 60, "the demo to boot")
        wallet = window.panes["wallet"]
        await wait_for(lambda: wallet.balances is not None, 30, "the balances")
        before = wallet.balances.rlc
        wallet.use_faucet()
        await wait_for(lambda: wallet.balances.rlc > before, 30, "the faucet's gift")
        await wait_for(lambda: wallet.faucet_button.isEnabled(), 30, "the faucet")
        await shoot("wallet")

        window.show_pane("jobs")
        jobs = window.panes["jobs"]
        await wait_for(lambda: jobs.current_app() is not None, 30, "the app catalog")
        jobs.form.patterns_edit.setText(PATTERN)
        await wait_for(jobs.run_button.isEnabled, 30, "the Run button")
        jobs.run_button.click()
        await wait_for(lambda: jobs.result.address.text().startswith(PATTERN), 120, "the result")
        await wait_for(jobs.run_button.isEnabled, 30, "the end of the run")
        jobs.result.show_wif.setChecked(False)
        assert jobs.result.wif.echoMode() == QLineEdit.EchoMode.Password  # the key stays hidden
        await shoot("jobs")

        window.show_pane("volunteer")
        volunteer = window.panes["volunteer"]
        volunteer.form.only_idle.setChecked(False)  # Xvfb has no idle time to report
        volunteer.toggle.setChecked(True)
        await wait_for(lambda: volunteer.donation.running, 30, "the donation to start")
        await wait_for(lambda: volunteer.state.text(), 30, "the worker's state")
        await asyncio.sleep(2)  # the worker has asked the grid for work
        await shoot("volunteer")

        window.show_pane("settings")
        await shoot("settings")
        await volunteer.donation.stop()

    async def run() -> None:
        try:
            await scenario()
        finally:
            await controller.shutdown()
            loop.stop()

    task = loop.create_task(run())
    try:
        loop.run_forever()
    finally:
        window.close()
        loop.close()
        home.cleanup()
    task.result()
    return 0


if __name__ == "__main__":
    sys.exit(main())

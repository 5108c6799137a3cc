"""Screenshots of the desktop app's panes for the README and the docs.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots/take.py [NAME ...]

Runs the real app (xcb platform under Xvfb) on the offline demo in a fresh temporary
DESKGRID_HOME with an in-memory keyring (the real OS keyring is never touched), sizes the
window to 1100x720, and saves into this folder (only the pictures NAME ... when named; the
scenario stops once they are taken):

- `wallet.png`: the Wallet pane after a gift from the demo faucet;
- `publish.png`: the "Publish an app" dialog (File menu) at its review, the montecarlo example's
  manifest filled in with its image from Docker (`examples/apps/build.sh montecarlo`), or, when
  Docker has no such image, with an example image id;
- `composer.png`: the top of the Jobs pane: the app, its trust level and the price it makes;
- `run-review.png`: the review before paying, with the trust level and the price it makes;
- `jobs.png`: the Jobs pane with a finished VanityGen job (pattern `1Ab`); the private key
  stays hidden (the Show toggle is off, the field is masked);
- `volunteer.png`: the Volunteer pane with "Donate my CPU" on;
- `stake.png`: the Volunteer pane's Stake card after staking the reward of that job;
- `history.png`: the Wallet pane's history with the job payment and the reward;
- `settings.png`: the Settings pane;
- `my-jobs.png`: the Jobs pane's My jobs with several tasks: two finished (`1Ab`, then `1Bc`,
  whose end is a notice since another task is shown) and one still computing (`1Abcde`, far
  too hard to finish), whose timeline and progress are shown.
- `app-form.png`: the top of the Jobs pane for the word-frequency example app, published on the
  local chain by another account: the file picker of its input with a text file chosen, the
  form its params schema makes (its file param naming that input), level 2 (it has no
  verifier), the price that makes, the estimate from its manifest and "Encrypt the result to
  my wallet".

The local node runs no worker of its own: the app donates before the job is paid, so its
worker computes it and is paid into the open wallet's escrow (the payout address), and the
history shows both sides of one job.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZE = (1100, 720)
PATTERN = "1Ab"
SECOND = "1Bc"
HARD = "1Abcde"  # about 58^5 keys: still computing when the picture is taken
BOOK = "It was the best of times, it was the worst of times, it was the age of wisdom.\n"
MONTECARLO = HERE.parents[1] / "examples" / "apps" / "montecarlo" / "manifest.json"
EXAMPLE_IMAGE_ID = "sha256:" + "9b73afda75c6edde" * 4  # when Docker has not built the example
PICTURES = (
    "wallet",
    "publish",
    "composer",
    "run-review",
    "jobs",
    "volunteer",
    "stake",
    "history",
    "settings",
    "my-jobs",
    "app-form",
)


class AllTaken(Exception):
    """Every picture asked for is saved: the scenario ends early."""


def publish_example(market, name: str) -> None:
    """Publish `examples/apps/<name>` on the local chain from a development account (its image
    is not built: the form needs only the manifest)."""
    from deskgrid.chain.transactions import TxSender
    from deskgrid.market.manifest import load_document, manifest_from, with_image_id
    from deskgrid.market.published import publish
    from deskgrid.money import NRLC_PER_RLC

    path = HERE.parents[1] / "examples" / "apps" / name / "manifest.json"
    doc = with_image_id(load_document(path.read_bytes()), "sha256:" + "5e" * 32)
    developer = TxSender(market.chain, market.chain.dev_accounts[3])
    publish(market.hub, developer, manifest_from(doc), 2 * NRLC_PER_RLC)


def main() -> int:
    from PySide6.QtWidgets import QLineEdit

    wanted = set(sys.argv[1:]) or set(PICTURES)
    unknown = wanted - set(PICTURES)
    if unknown:
        print(f"no such picture: {', '.join(sorted(unknown))} (pictures: {', '.join(PICTURES)})")
        return 2

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the scripted app is in tests/
    from PySide6.QtCore import Qt

    from deskgrid.desktop.node_backend import NodeBackend
    from tests.scripted import DemoRun, run_demo_window, wait_for

    async def scenario(run: DemoRun) -> None:
        try:
            await pictures(run)
        except AllTaken:
            donation = getattr(run.window.panes.get("volunteer"), "donation", None)
            if donation is not None and donation.running:
                await donation.stop()

    async def pictures(run: DemoRun) -> None:
        controller, window = run.controller, run.window

        async def shoot(name: str, widget=None) -> None:
            if name not in wanted:
                return
            await asyncio.sleep(0.5)  # let the pane (or the dialog) lay out and paint
            path = HERE / f"{name}.png"
            (widget or window).grab().save(str(path), "PNG")
            print(
                f"saved {path.relative_to(HERE.parent.parent)} ({path.stat().st_size // 1024} KB)"
            )
            wanted.discard(name)
            if not wanted:
                raise AllTaken

        await wait_for(lambda: controller.ready, 60, "the demo to boot")
        wallet = window.panes["wallet"]
        await wait_for(lambda: wallet.balances is not None, 30, "the balances")
        before = wallet.balances.rlc
        wallet.use_faucet()
        await wait_for(lambda: wallet.balances.rlc > before, 30, "the faucet's gift")
        await wait_for(lambda: wallet.faucet_button.isEnabled(), 30, "the faucet")
        await shoot("wallet")

        dialog = window.open_publish()
        await wait_for(lambda: "Looking for" not in dialog.image_info, 30, "Docker's images")
        dialog.load_manifest(MONTECARLO)
        built = dialog.image.findText("deskgrid-example/montecarlo:1", Qt.MatchFlag.MatchStartsWith)
        if built >= 0:
            dialog.image.setCurrentIndex(built)
        else:
            dialog.image.setEditText(EXAMPLE_IMAGE_ID)
        dialog.price.setText("0.25")
        dialog.review_button.click()
        await wait_for(lambda: dialog.pages.currentIndex() == 1, 30, "the publish review")
        await shoot("publish", dialog)
        dialog.reject()

        window.show_pane("volunteer")
        volunteer = window.panes["volunteer"]
        volunteer.form.only_idle.setChecked(False)  # Xvfb has no idle time to report
        volunteer.form.others_pct.setValue(0)  # the machine taking them may be busy
        volunteer.toggle.setChecked(True)
        await wait_for(lambda: volunteer.donation.running, 30, "the donation to start")
        await wait_for(lambda: volunteer.state.text(), 30, "the worker's state")

        window.show_pane("jobs")
        jobs = window.panes["jobs"]
        await wait_for(lambda: jobs.current_app() is not None, 30, "the app catalog")
        jobs.form.patterns_edit.setText(PATTERN)
        await wait_for(jobs.run_button.isEnabled, 30, "the Run button")
        await shoot("composer")
        jobs.run_button.click()
        await wait_for(lambda: jobs.review is not None and jobs.review.isVisible(), 30, "review")
        await shoot("run-review", jobs.review)
        jobs.review.pay_button.click()
        await wait_for(lambda: jobs.result.address.text().startswith(PATTERN), 120, "the result")
        await wait_for(lambda: jobs.my_jobs.jobs[0].state == "finalized", 30, "the end of the run")
        jobs.result.show_wif.setChecked(False)
        assert jobs.result.wif.echoMode() == QLineEdit.EchoMode.Password  # the key stays hidden
        jobs.scroll.ensureWidgetVisible(jobs.result)
        await shoot("jobs")

        window.show_pane("volunteer")
        volunteer.refresh_earnings()
        await wait_for(lambda: volunteer.view and volunteer.view.earned > 0, 30, "the earnings")
        await shoot("volunteer")

        await wait_for(lambda: volunteer.view.available > 0, 30, "the reward in the escrow")
        volunteer.open_stake("stake")
        dialog = volunteer.money_dialog
        dialog.max_button.click()
        dialog.review_button.click()
        await wait_for(lambda: dialog.pages.currentIndex() == 1, 30, "the stake's review")
        dialog.confirm_button.click()
        await wait_for(lambda: volunteer.view.stake.amount > 0, 30, "the stake")
        volunteer.scroll.ensureWidgetVisible(volunteer.stake_card)
        await shoot("stake")
        volunteer.scroll.ensureWidgetVisible(volunteer.toggle)

        def listed(kind: str) -> bool:
            return any(r.kind == kind for r in wallet.history.records)

        window.show_pane("wallet")
        await wait_for(lambda: listed("payment") and listed("reward"), 30, "payment and reward")
        await shoot("history")

        window.show_pane("settings")
        await shoot("settings")

        window.show_pane("jobs")
        for pattern in (SECOND, HARD):
            jobs.form.patterns_edit.setText(pattern)
            await wait_for(jobs.run_button.isEnabled, 30, "the Run button")
            review = jobs.review
            jobs.run_button.click()
            await wait_for(lambda r=review: jobs.review is not r, 30, "the review")
            await wait_for(jobs.review.isVisible, 30, "the review")
            jobs.review.pay_button.click()
            await wait_for(lambda: jobs.my_jobs.jobs[0].task_id is not None, 60, "the payment")
        hard, second = jobs.my_jobs.jobs[0], jobs.my_jobs.jobs[1]
        await wait_for(lambda: second.state == "finalized", 120, "the second result")
        await wait_for(lambda: "running" in jobs.timeline.kinds, 60, "the hard task's progress")
        assert jobs.shown is hard and not jobs.result.isVisible()  # no key in this picture
        jobs.scroll.ensureWidgetVisible(jobs.timeline)
        await shoot("my-jobs")

        # a published app's form: the word-frequency example, published by another account,
        # with a text file chosen for its input
        await asyncio.to_thread(publish_example, jobs.market, "wordfreq")
        jobs.load_catalog()
        await wait_for(lambda: "wordfreq" in [a.name for a in jobs.catalog], 30, "the app")
        app_id = next(a.app_id for a in jobs.catalog if a.name == "wordfreq")
        jobs.apps.setCurrentIndex(jobs.apps.findData(app_id))
        book = Path(tempfile.mkdtemp(prefix="deskgrid-shots-")) / "book.txt"
        book.write_text(BOOK * (3_200_000 // len(BOOK)), encoding="utf-8")
        jobs.schema_form.choose_input("text", book)
        await wait_for(jobs.run_button.isEnabled, 30, "the Run button")
        jobs.status.clear_message()  # the payments above are not this picture's
        for job in jobs.my_jobs.jobs:
            jobs.notices.dismiss(job.hex_id)
        jobs.scroll.verticalScrollBar().setValue(0)
        await shoot("app-form")
        await volunteer.donation.stop()

    run_demo_window(
        scenario,
        size=SIZE,
        home_prefix="deskgrid-shots-",
        backend_factory=lambda _settings, bus: NodeBackend(bus, workers=0),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Donation: start / stop an embedded worker on a real in-process grid, preferences applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskgrid.worker.donation import Donation
from deskgrid.worker.policy import Preferences
from tests.live_grid import DEADLINE, until

PERMISSIVE = Preferences(
    max_ncpus_pct=100, run_if_user_active=True, suspend_cpu_usage=0, run_on_batteries=True
)


async def test_start_runs_an_echo_job_and_stop_stops(grid, tmp_path: Path) -> None:
    server, submitter = grid
    donation = Donation(preferences=PERMISSIVE, state_dir=tmp_path / "w", poll_interval=0.1)
    states: list[str] = []
    donation.on_status = lambda status: states.append(status.state)
    assert not donation.running and donation.status.state == "stopped"
    await donation.start(server.url)
    try:
        assert donation.running
        job = await submitter.submit("echo", {"text": "donated"})
        done = await submitter.wait_job(job.id, timeout=DEADLINE)
        assert done.state == "COMPLETED"
        assert await submitter.download_result(job.id) == b"donated"
        await until(lambda: donation.jobs_done == 1, "the job to be counted")
        assert "computing" in states
        assert donation.address is not None
        assert donation.earnings_address == donation.address  # no payout: the worker's own
    finally:
        await donation.stop()
    assert not donation.running
    assert donation.status.state == "stopped" and donation.jobs_done == 1


async def test_preferences_apply_live_and_cores_restart(grid, tmp_path: Path) -> None:
    server, _ = grid
    donation = Donation(
        preferences=PERMISSIVE, state_dir=tmp_path / "w", poll_interval=0.1, cpu_count=4
    )
    await donation.start(server.url)
    try:
        worker = donation.worker
        assert worker is not None and worker.config.cores == 4
        await donation.set_preferences(PERMISSIVE.model_copy(update={"cpu_usage_limit": 40}))
        assert donation.worker is worker  # live, same worker
        assert worker.preferences.cpu_usage_limit == 40 and worker.cpu_limit() == 40
        await donation.set_preferences(PERMISSIVE.model_copy(update={"max_ncpus_pct": 50}))
        assert donation.worker is not worker and donation.worker.config.cores == 2
        assert donation.running
        donation.set_paused(True)
        assert donation.worker.paused_by_user
        await until(lambda: donation.status.state == "suspended", "the pause")
        donation.set_paused(False)
        assert not donation.worker.paused_by_user
    finally:
        await donation.stop()


async def test_start_needs_a_grid_url() -> None:
    with pytest.raises(ValueError, match="grid URL"):
        await Donation().start()


async def test_the_worker_key_signs_in_and_the_payout_can_change(grid, tmp_path: Path) -> None:
    from eth_account import Account

    from deskgrid.worker.identity import last_payout, worker_account

    server, submitter = grid
    wallet, other = Account.create().address, Account.create().address
    donation = Donation(
        payout=wallet, preferences=PERMISSIVE, state_dir=tmp_path / "w", poll_interval=0.1
    )
    await donation.start(server.url)
    try:
        job = await submitter.submit("echo", {"text": "for the wallet"})
        assert (await submitter.wait_job(job.id, timeout=DEADLINE)).state == "COMPLETED"
        key = worker_account(tmp_path / "w").address
        assert donation.address == key != wallet and donation.worker_key().address == key
        [seen] = [w for w in await submitter.workers() if w.address == key]
        assert seen.payout == wallet and donation.earnings_address == wallet
        assert last_payout(tmp_path / "w") == wallet

        first = donation.worker
        await donation.set_payout(other)  # signs in again, paying the other address
        assert donation.worker is not first and donation.running
        job = await submitter.submit("echo", {"text": "for the other"})
        assert (await submitter.wait_job(job.id, timeout=DEADLINE)).state == "COMPLETED"
        [seen] = [w for w in await submitter.workers() if w.address == key]
        assert seen.payout == other and last_payout(tmp_path / "w") == other
        done = await submitter.get_job(job.id)
        assert [lease.payout for lease in done.leases or [] if lease.state == "VALID"] == [other]
    finally:
        await donation.stop()

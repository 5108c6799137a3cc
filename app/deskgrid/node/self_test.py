"""`deskgrid --self-test`: one small VanityGen task end to end on a throw-away local node
(embedded chain, contracts, grid server, oracle, one worker), each step timed and reported.

It checks an installed copy as a whole: the contracts load and deploy, the requester pays in
one transaction, the oracle sees the task and passes it to the grid, the worker's subprocess
runs the app (`deskgrid --run-app` in a frozen build), the oracle finalizes on chain, and the
partial key combines with the requester's secret into a key for the address found. It runs
in its own temporary data folder, so the person's wallets and worker state are never touched.
No Qt: it works without a display.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deskgrid import __version__, logs
from deskgrid.errors import DeskGridError

if TYPE_CHECKING:
    from deskgrid.node.requester import VanityRun

log = logging.getLogger(__name__)

PATTERN = "1A"  # one character after the leading 1: found in a fraction of a second
TIMEOUT_S = 180.0  # for the task, from payment to its final fact on chain
NAME_WIDTH = 44

# The task's way through the system: (timeline fact, step name, what it means if never seen).
STAGES: tuple[tuple[str, str, str], ...] = (
    (
        "requested",
        "chain: task requested",
        "The payment went through but the hub recorded no task request.",
    ),
    (
        "queued",
        "oracle: job queued on the grid",
        "The oracle did not pass the paid task to the grid server.",
    ),
    (
        "running",
        "worker: app running",
        "No worker took the job: the local worker did not start or cannot reach the grid.",
    ),
    (
        "completed",
        "grid: result accepted",
        "The worker did not return a result the grid accepted.",
    ),
    (
        "finalized",
        "oracle: finalized on chain",
        "The grid has the result but the oracle did not finalize the task on chain.",
    ),
)
OPTIONAL_STAGES = frozenset({"running"})  # a quick job can finish between two polls
FAILURE_KINDS = {
    "error": "worker: app running",
    "failed": "oracle: finalized on chain",
    "claimed": "oracle: finalized on chain",
}


@dataclass(frozen=True)
class StepResult:
    name: str
    seconds: float | None  # None: passed but not seen on its own (too quick)
    detail: str = ""


class SelfTestFailed(DeskGridError):
    """A step failed; the message is a sentence, `step` names the step."""

    def __init__(self, step: str, sentence: str) -> None:
        super().__init__(f"self-test failed at step '{step}': {sentence}")
        self.step = step
        self.sentence = sentence


class SelfTest:
    """Runs the steps in order, printing each as it ends (`out` receives whole lines)."""

    def __init__(
        self,
        out: Callable[[str], None] | None = None,
        *,
        pattern: str = PATTERN,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.out = out or (lambda line: print(line, flush=True))
        self.pattern = pattern
        self.timeout = timeout
        self.steps: list[StepResult] = []

    def _report(self, step: StepResult) -> None:
        self.steps.append(step)
        took = "      —" if step.seconds is None else f"{step.seconds:7.2f} s"
        line = f"  ok    {step.name:<{NAME_WIDTH}} {took}"
        self.out(f"{line}  {step.detail}" if step.detail else line)

    @contextlib.asynccontextmanager
    async def _step(self, name: str, failure: str) -> AsyncIterator[list[str]]:
        """Time a step; any error becomes SelfTestFailed naming it. Yield a detail holder."""
        detail: list[str] = []
        started = time.monotonic()
        try:
            yield detail
        except SelfTestFailed:
            raise
        except Exception as exc:
            log.error("self-test step %r failed", name, exc_info=True, extra=logs.FILE_ONLY)
            reason = str(exc) or type(exc).__name__
            raise SelfTestFailed(name, f"{failure} ({reason})") from exc
        self._report(StepResult(name, time.monotonic() - started, " ".join(detail)))

    async def run(self) -> list[StepResult]:
        build = "frozen build" if getattr(sys, "frozen", False) else "from source"
        self.out(f"DeskGrid self-test (deskgrid {__version__}, {build})")
        async with self._step(
            "load the modules",
            "Part of DeskGrid is missing from this installation: install it again.",
        ) as detail:
            from deskgrid.chain.faucet import DemoFaucet
            from deskgrid.chain.transactions import TxSender
            from deskgrid.node.local import LocalNode, NodeConfig
            from deskgrid.node.requester import VanityOrder, VanityRun
            from deskgrid.worker.native_runner import app_command

            detail.append(f"app runner: {' '.join(app_command())}")
        node = LocalNode(NodeConfig(workers=1))
        try:
            async with self._step(
                "start the local node",
                "The local node (chain, grid, oracle, worker) did not start.",
            ) as detail:
                await node.start()
                detail.append(f"chain id {node.deployment.chain_id}, grid {node.grid_url}")
            account = node.demo_account
            async with self._step(
                "fund the demo wallet", "The demo faucet could not give RLC and ETH."
            ):
                faucet = DemoFaucet(node.chain, node.deployment.rlc, node.deployment.faucet)
                await asyncio.to_thread(faucet.fund, account.address)
            order = VanityOrder([self.pattern])
            run = VanityRun(
                node.chain,
                node.hub,
                node.rlc,
                TxSender(node.chain, account),
                app_id=node.deployment.apps["vanity"],
                pool_id=node.deployment.pool_id,
                callback=node.deployment.vanity_requester,
                grid=node.grid,
            )
            async with self._step(
                "requester: pay (approveAndCall)", "The payment transaction was refused."
            ) as detail:
                task_id = await asyncio.to_thread(run.pay, order)
                detail.append(f"task 0x{task_id.hex()[:12]}…")
            await self._follow(run)
            async with self._step(
                "requester: key combined and verified",
                "The result does not give a key for the address found.",
            ) as detail:
                outcome = await asyncio.to_thread(run.outcome, order)
                if outcome.status != "COMPLETED" or not outcome.address:
                    raise DeskGridError(f"the task ended {outcome.status}: {outcome.reason}")
                if not outcome.address.startswith(self.pattern):
                    raise DeskGridError(f"{outcome.address} does not start with {self.pattern}")
                detail.append(f"address {outcome.address}")
        except BaseException:
            with contextlib.suppress(Exception):
                await node.stop()
            raise
        async with self._step("stop the local node", "The local node did not stop cleanly."):
            await node.stop()
        return self.steps

    async def _follow(self, run: VanityRun) -> None:
        """Report each stage of the task as its fact appears on the timeline."""
        seen: dict[str, float] = {}
        last = time.monotonic()

        async def watch() -> None:
            nonlocal last
            async for event in run.follow(interval=0.2):
                if event.kind in FAILURE_KINDS:
                    raise SelfTestFailed(FAILURE_KINDS[event.kind], event.sentence() + ".")
                if event.kind in seen or event.kind not in {s[0] for s in STAGES}:
                    continue
                now = time.monotonic()
                seen[event.kind] = now
                for kind, name, _ in STAGES:  # earlier stages too quick to see on their own
                    if kind == event.kind:
                        break
                    if kind not in seen:
                        seen[kind] = now
                        self._report(StepResult(name, None, "(too quick to see)"))
                self._report(StepResult(_stage_name(event.kind), now - last))
                last = now
                if event.kind == "finalized":
                    return

        try:
            await asyncio.wait_for(watch(), self.timeout)
        except TimeoutError:
            kind, name, sentence = next(s for s in STAGES if s[0] not in seen)
            raise SelfTestFailed(name, f"{sentence} (nothing after {self.timeout:g} s)") from None
        missing = [s for s in STAGES if s[0] not in seen and s[0] not in OPTIONAL_STAGES]
        if missing:
            raise SelfTestFailed(missing[0][1], missing[0][2])


def _stage_name(kind: str) -> str:
    return next(name for k, name, _ in STAGES if k == kind)


async def _run(out: Callable[[str], None]) -> int:
    started = time.monotonic()
    test = SelfTest(out)
    try:
        await test.run()
    except SelfTestFailed as exc:
        out(f"  FAIL  {exc.step}")
        print(f"deskgrid: {exc}", file=sys.stderr, flush=True)
        log_file = logs.active_log_file()
        if log_file is not None:
            print(f"deskgrid: the details are in {log_file}", file=sys.stderr, flush=True)
        return 1
    out(f"self-test passed: {len(test.steps)} steps in {time.monotonic() - started:.1f} s")
    return 0


def run_self_test(args: argparse.Namespace | None = None) -> int:
    """The `--self-test` handler: 0 when every step passed, 1 (naming the step) otherwise."""
    previous = os.environ.get("DESKGRID_HOME")
    with tempfile.TemporaryDirectory(prefix="deskgrid-self-test-") as home:
        os.environ["DESKGRID_HOME"] = home  # never the person's own wallets or worker state
        try:
            return asyncio.run(_run(lambda line: print(line, flush=True)))
        finally:
            if previous is None:
                os.environ.pop("DESKGRID_HOME", None)
            else:
                os.environ["DESKGRID_HOME"] = previous

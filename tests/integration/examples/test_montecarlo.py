"""The montecarlo example run by the worker's Docker runner: an estimate of pi, the same for
the same seed, the generator its README specifies, progress, and bad params as failed jobs."""

from __future__ import annotations

import json
import math

import pytest

from deskgrid.worker.docker_runner import DockerRunner
from deskgrid.worker.runner import Job, ProgressEvent, Status, run_job
from tests.integration.examples.conftest import BuiltExamples

pytestmark = pytest.mark.integration

MASK = 2**64 - 1


def reference_inside(seed: int, samples: int) -> int:
    """The README's specification, written again in Python: xoshiro256** seeded by
    splitmix64; x and y the high 32 bits of two outputs; inside when x² + y² < 2⁶⁴."""
    state, s = seed, []
    for _ in range(4):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        s.append(z ^ (z >> 31))

    def rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & MASK

    def draw() -> int:
        result = rotl((s[1] * 5) & MASK, 7) * 9 & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    inside = 0
    for _ in range(samples):
        x, y = draw() >> 32, draw() >> 32
        inside += x * x + y * y < 2**64
    return inside


async def run(examples: BuiltExamples, params: dict[str, object], events: list[ProgressEvent]):
    return await run_job(
        DockerRunner(), Job("j", examples.app("montecarlo"), params), events.append
    )


async def test_pi_within_a_hundredth_and_the_same_for_the_same_seed(
    examples: BuiltExamples,
) -> None:
    results = []
    for seed in (42, 42, 43):
        events: list[ProgressEvent] = []
        outcome = await run(examples, {"seed": seed, "samples": 10**6}, events)
        assert outcome.ok, outcome.message
        results.append(outcome.result)
        fractions = [e.fraction for e in events]
        assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
        assert len(fractions) > 50  # a line at every hundredth of the samples
        assert events[-1].figures == {"samples_done": 10**6}
    first, again, other = (json.loads(r or b"") for r in results)
    assert first["samples"] == 10**6
    assert abs(first["pi"] - math.pi) < 0.01
    assert first["pi"] == 4 * first["inside"] / 10**6
    assert results[0] == results[1]  # byte for byte: replicas agree
    assert other["inside"] != first["inside"]


async def test_it_follows_the_generator_its_readme_specifies(examples: BuiltExamples) -> None:
    outcome = await run(examples, {"seed": 2**53 - 1, "samples": 20_000}, [])
    assert outcome.ok, outcome.message
    assert json.loads(outcome.result or b"")["inside"] == reference_inside(2**53 - 1, 20_000)


async def test_the_defaults_of_its_schema(examples: BuiltExamples) -> None:
    outcome = await run(examples, {}, [])
    assert outcome.ok, outcome.message
    schema = examples.app("montecarlo").params_schema["properties"]
    samples, seed = schema["samples"]["default"], schema["seed"]["default"]
    defaults = await run(examples, {"seed": seed, "samples": samples}, [])
    assert outcome.result == defaults.result


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"samples": 0},
            "The parameter 'samples' must be a whole number from 1 to 1000000000; it is 0.",
        ),
        (
            {"samples": 10**9 + 1},
            "The parameter 'samples' must be a whole number from 1 to 1000000000; "
            "it is 1000000001.",
        ),
        (
            {"seed": 0.5},
            "The parameter 'seed' must be a whole number from 0 to 9007199254740991; it is 0.5.",
        ),
        ({"sample": 10}, "The params have no parameter 'sample' (this app knows: seed, samples)."),
    ],
)
async def test_bad_params_fail_the_job_with_the_apps_message(
    examples: BuiltExamples, params: dict[str, object], message: str
) -> None:
    outcome = await run(examples, params, [])
    assert outcome.status is Status.ERROR
    assert outcome.message == message

"""The wordfreq example run by the worker's Docker runner: word counts of known texts,
progress while reading, its memory cap, and bad params as failed jobs with its message."""

from __future__ import annotations

import json
import random
import re
from collections import Counter

import pytest

from deskgrid.worker.docker_runner import DockerRunner
from deskgrid.worker.runner import Job, ProgressEvent, Status, run_job
from tests.integration.examples.conftest import BuiltExamples

pytestmark = pytest.mark.integration

STORY = b"The cat and the hat. THE end; cat-cat 42 42 42 x9Y caf\xc3\xa9 " + b"a" * 70 + b"\n"


def expected_counts(text: bytes, top: int) -> dict[str, object]:
    """What the README says the app returns, computed here independently."""
    words = [w.lower().decode() for w in re.findall(rb"[A-Za-z0-9]+", text)]
    counted = Counter(w for w in words if len(w) <= 64)
    ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return {
        "bytes": len(text),
        "words": len(words),
        "distinct": len(counted),
        "long_words": len(words) - sum(counted.values()),
        "untracked_words": 0,
        "top": [{"word": w, "count": n} for w, n in ranked[:top]],
    }


async def test_the_most_frequent_words_of_a_text(examples: BuiltExamples) -> None:
    job = Job("j", examples.app("wordfreq"), {"input": "story.txt", "top": 3}, {"story.txt": STORY})
    events: list[ProgressEvent] = []
    outcome = await run_job(DockerRunner(), job, events.append)
    assert outcome.ok, outcome.message
    assert json.loads(outcome.result or b"") == {
        "input": "story.txt",
        "bytes": 128,
        "words": 15,
        "distinct": 8,
        "long_words": 1,
        "untracked_words": 0,
        "top": [
            {"word": "42", "count": 3},
            {"word": "cat", "count": 3},
            {"word": "the", "count": 3},
        ],
    }
    assert [(e.fraction, e.figures) for e in events] == [
        (0.0, {"bytes_read": 0}),
        (1.0, {"bytes_read": 128}),
    ]


async def test_without_a_named_input_it_counts_the_first_one(examples: BuiltExamples) -> None:
    inputs = {"b.txt": b"beta beta beta", "a.txt": b"Alpha, alpha! beta"}
    outcome = await run_job(DockerRunner(), Job("j", examples.app("wordfreq"), {}, inputs))
    assert outcome.ok, outcome.message
    result = json.loads(outcome.result or b"")
    assert result["input"] == "a.txt"
    assert result["top"] == [{"word": "alpha", "count": 2}, {"word": "beta", "count": 1}]


async def test_a_large_mixed_file_is_read_in_chunks_with_progress(
    examples: BuiltExamples,
) -> None:
    rng = random.Random(16)
    vocabulary = [
        bytes(rng.choices(b"abcdefghijKLMNOP0123", k=rng.randint(1, 9))) for _ in range(500)
    ]
    parts = [
        part
        for _ in range(400_000)
        for part in (
            rng.choice(vocabulary) if rng.random() < 0.7 else rng.randbytes(12),
            rng.choice([b" ", b"\n", b"\x00", b"\xff", b"--"]),
        )
    ]
    text = b"".join(parts)
    assert len(text) > 3 * 2**20
    job = Job("j", examples.app("wordfreq"), {"input": "mixed.bin", "top": 50}, {"mixed.bin": text})
    events: list[ProgressEvent] = []
    outcome = await run_job(DockerRunner(), job, events.append)
    assert outcome.ok, outcome.message
    assert json.loads(outcome.result or b"") == {"input": "mixed.bin", **expected_counts(text, 50)}
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert len(fractions) > 10  # 48 chunks of 64 KiB: a line for each new whole percent
    assert events[-1].figures == {"bytes_read": len(text)}


async def test_its_memory_is_capped_by_the_number_of_distinct_words(
    examples: BuiltExamples,
) -> None:
    text = " ".join(f"w{i}" for i in range(600_000)).encode() + b" w0"
    job = Job("j", examples.app("wordfreq"), {"top": 1}, {"many.txt": text})
    outcome = await run_job(DockerRunner(), job, lambda event: None)
    assert outcome.ok, outcome.message  # within the 128 MB the app declares
    result = json.loads(outcome.result or b"")
    assert result["words"] == 600_001
    assert result["distinct"] == 524_288
    assert result["untracked_words"] == 600_000 - 524_288
    assert result["top"] == [{"word": "w0", "count": 2}]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"top": 0}, "The parameter 'top' must be a whole number from 1 to 1000; it is 0."),
        ({"top": "5"}, "The parameter 'top' must be a whole number from 1 to 1000, not a text."),
        ({"input": "nope.txt"}, "The job has no input file called 'nope.txt': attach it."),
        (
            {"input": "../params.json"},
            "The parameter 'input' must be a plain file name (letters, digits, '.', '_', '-'), "
            "one of the job's input files.",
        ),
        ({"lines": 3}, "The params have no parameter 'lines' (this app knows: input, top)."),
    ],
)
async def test_bad_params_fail_the_job_with_the_apps_message(
    examples: BuiltExamples, params: dict[str, object], message: str
) -> None:
    job = Job("j", examples.app("wordfreq"), params, {"story.txt": STORY})
    outcome = await run_job(DockerRunner(), job)
    assert outcome.status is Status.ERROR
    assert outcome.message == message


async def test_a_job_without_inputs_fails_with_what_to_do(examples: BuiltExamples) -> None:
    outcome = await run_job(DockerRunner(), Job("j", examples.app("wordfreq"), {"top": 5}))
    assert outcome.status is Status.ERROR
    assert outcome.message == (
        "The job has no input file: attach a text file (and name it in 'input')."
    )

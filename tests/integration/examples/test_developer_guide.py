"""docs/developer.md's local tests of an image, run as written: every block after a
`<!-- tested -->` comment, in order, in one folder holding the wordfreq binary, a book.txt
and the example's schema (as the guide says), each with bash or Python as a reader would."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.examples.conftest import EXAMPLES, BuiltExamples

pytestmark = pytest.mark.integration

GUIDE = REPO_ROOT / "docs" / "developer.md"
BLOCK = re.compile(r"<!-- tested -->\n```(?P<language>bash|python)\n(?P<body>.*?)\n```", re.S)
BOOK = b"It was the best of times, it was the worst of times; it was the age of wisdom.\n"
TOP = [
    {"word": "it", "count": 3},
    {"word": "of", "count": 3},
    {"word": "the", "count": 3},
    {"word": "was", "count": 3},
    {"word": "times", "count": 2},
]


def test_the_guides_local_tests_run_as_written(examples: BuiltExamples, tmp_path: Path) -> None:
    blocks = [(m["language"], m["body"]) for m in BLOCK.finditer(GUIDE.read_text("utf-8"))]
    assert [language for language, _ in blocks] == ["bash", "bash", "python"]
    shutil.copy(examples.binaries / "wordfreq", tmp_path / "wordfreq")
    (tmp_path / "book.txt").write_bytes(BOOK)
    schema = tmp_path / "examples" / "apps" / "wordfreq" / "schema.json"
    schema.parent.mkdir(parents=True)
    shutil.copy(EXAMPLES / "wordfreq" / "schema.json", schema)
    for language, body in blocks:
        command = ["bash", "-euo", "pipefail", "-c", body]
        if language == "python":
            command = [sys.executable, "-c", body]
        ran = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
        )
        assert ran.returncode == 0, ran.stderr
        last = ran.stdout.splitlines()[-1]
        if language == "bash":
            assert json.loads(last)["top"] == TOP
        else:
            status, _, result = last.partition("  ")  # "success <no message> b'...'"
            assert status == "success"
            assert json.loads(ast.literal_eval(result))["top"] == TOP  # the repr of bytes

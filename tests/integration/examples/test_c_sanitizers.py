"""The example apps' C code under AddressSanitizer and UndefinedBehaviorSanitizer: generated
params (JSON of every shape, mutated JSON, arbitrary bytes) and inputs never make them read
or write out of bounds, overflow or crash; they end with 0 or with 2 and a sentence."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import require
from tests.integration.examples.conftest import EXAMPLES

pytestmark = pytest.mark.integration

SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1"]
ENV = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0", "UBSAN_OPTIONS": "print_stacktrace=1"}


@pytest.fixture(scope="module")
def sanitized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both examples built with the sanitizers (a folder holding the two binaries)."""
    require(shutil.which("gcc") is not None, "gcc (Debian: gcc, libc6-dev)")
    out = tmp_path_factory.mktemp("sanitized")
    for name in ("montecarlo", "wordfreq"):
        built = subprocess.run(
            ["gcc", *SANITIZE, "-std=c11", "-D_POSIX_C_SOURCE=200809L"]
            + [f"-I{EXAMPLES / 'common'}", "-o", str(out / name), str(EXAMPLES / name / "main.c")],
            capture_output=True,
            text=True,
            check=False,
        )
        require(built.returncode == 0, f"gcc with AddressSanitizer ({built.stderr[-200:]})")
    return out


def run(binary: Path, job_dir: Path, params: bytes, inputs: list[str]) -> tuple[int, str]:
    (job_dir / "params.json").write_bytes(params)
    env = {**ENV, "DESKGRID_JOB_DIR": str(job_dir), "DESKGRID_INPUTS": json.dumps(inputs)}
    ran = subprocess.run([str(binary)], env=env, capture_output=True, timeout=60, check=False)
    return ran.returncode, ran.stderr.decode("utf-8", "replace")


scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=60), inner, max_size=4)
    ),
    max_leaves=12,
)
known = st.fixed_dictionaries(
    {},
    optional={
        "seed": values,
        "samples": st.integers(-3, 3000) | st.sampled_from([0.5, 1e3, "7", None, [1]]),
        "input": st.sampled_from(["in.txt", "nope.txt", "../in.txt", "", "in.txt\n"]) | values,
        "top": st.integers(-3, 1003) | values,
        "extra": values,
        "a_rather_long_name_that_no_app_knows_of_at_all_really": values,
    },
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    text = bytearray(json.dumps(draw(known)).encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        text[at : at + cut] = draw(
            st.binary(max_size=3) | st.sampled_from([b"\\u", b'"', b"{", b"]"])
        )
    return bytes(text)


params = known.map(json.dumps).map(str.encode) | values.map(json.dumps).map(str.encode)
params |= mutated() | st.binary(max_size=200)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(params=params, text=st.binary(max_size=300))
def test_no_params_or_input_breaks_them(
    sanitized: Path, tmp_path_factory: pytest.TempPathFactory, params: bytes, text: bytes
) -> None:
    job_dir = tmp_path_factory.mktemp("job")
    (job_dir / "in.txt").write_bytes(text)
    for name in ("montecarlo", "wordfreq"):
        code, stderr = run(sanitized / name, job_dir, params, ["in.txt"])
        assert code in (0, 2), stderr
        assert "Sanitizer" not in stderr and "runtime error" not in stderr, stderr
        if code == 2:
            assert stderr.count("\n") == 1 and stderr.endswith(".\n"), stderr
        os.remove(job_dir / "params.json")

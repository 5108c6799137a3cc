"""The batch arithmetic against libsecp256k1 (coincurve)."""

from __future__ import annotations

import coincurve
from hypothesis import given, settings
from hypothesis import strategies as st

from deskgrid.apps.vanity.pattern import compile_patterns
from deskgrid.apps.vanity.search import Searcher
from deskgrid.apps.vanity.secp256k1 import (
    BETA,
    BETA2,
    LAMBDA,
    LAMBDA2,
    MULTIPLIERS,
    G,
    N,
    P,
    batch_inverse,
    is_on_curve,
    multiples,
    point_add,
    point_mul,
    point_neg,
)

keys = st.integers(min_value=1, max_value=N - 1)


def cc_point(k: int) -> tuple[int, int]:
    return coincurve.PrivateKey.from_int(k % N).public_key.point()


def test_constants() -> None:
    assert is_on_curve(G)
    assert pow(BETA, 3, P) == 1 and BETA != 1
    assert pow(LAMBDA, 3, N) == 1 and LAMBDA != 1
    assert (1 + BETA + BETA2) % P == 0
    assert point_mul(LAMBDA) == (BETA * G[0] % P, G[1])
    assert point_mul(LAMBDA2) == (BETA2 * G[0] % P, G[1])
    assert len(set(MULTIPLIERS)) == 6


@given(keys, keys)
@settings(max_examples=30)
def test_point_add_and_mul_match_coincurve(a: int, b: int) -> None:
    assert point_mul(a) == cc_point(a)
    if (a + b) % N:
        assert point_add(cc_point(a), cc_point(b)) == cc_point(a + b)
    else:
        assert point_add(cc_point(a), cc_point(b)) is None
    assert point_neg(cc_point(a)) == cc_point(N - a)


@given(st.lists(st.integers(min_value=1, max_value=P - 1), min_size=1, max_size=50))
def test_batch_inverse(values: list[int]) -> None:
    assert batch_inverse(values) == [pow(v, -1, P) for v in values]


def test_multiples() -> None:
    assert multiples(5) == [cc_point(i) for i in range(1, 6)]


@given(st.integers(min_value=100, max_value=N - 100), st.booleans())
@settings(max_examples=25, deadline=None)
def test_group_points_match_coincurve(k: int, compressed: bool) -> None:
    searcher = Searcher(compile_patterns(["1"]), compressed=compressed, half_group=8)
    cx, cy = cc_point(k)
    xs, ys = searcher.group_points(cx, cy)
    assert len(xs) == 17
    expected = [cc_point(k)]
    for i in range(1, 9):
        expected += [cc_point(k + i), cc_point(k - i)]
    assert xs == [p[0] for p in expected]
    if not compressed:
        assert ys == [p[1] for p in expected]


@given(keys)
def test_endomorphism_and_symmetry_give_the_right_keys(k: int) -> None:
    x, y = cc_point(k)
    assert cc_point(LAMBDA * k) == (BETA * x % P, y)
    assert cc_point(LAMBDA2 * k) == (BETA2 * x % P, y)
    assert cc_point(N - k) == (x, P - y)

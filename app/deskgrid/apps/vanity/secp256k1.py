"""secp256k1 in affine coordinates with Python integers, for the batch search.

Only what the hot loop needs: point addition, multiples of G, and Montgomery's batch
inversion (one modular inverse for a whole batch: 3 multiplications per element instead of
one exponentiation each). One-off key derivations use coincurve (see `keys`).

The curve's endomorphism: for BETA (a cube root of unity mod P) and LAMBDA (one mod N),
LAMBDA·(x, y) = (BETA·x, y). With the symmetry -(x, y) = (x, P - y), every point computed
gives six public keys: ±P, ±LAMBDA·P, ±LAMBDA²·P.
"""

from __future__ import annotations

from collections.abc import Sequence

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
GX = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
GY = 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8
G = (GX, GY)
BETA = 0x7AE96A2B657C07106E64479EAC3434E99CF0497512F58995C1396C28719501EE
BETA2 = BETA * BETA % P
LAMBDA = 0x5363AD4CC05C30E0A5261C028812645A122E22EA20816678DF02967C1B23BD72
LAMBDA2 = LAMBDA * LAMBDA % N

Point = tuple[int, int]

# The six scalar multipliers m such that a candidate public key is m·Q for a computed Q, in
# the order the search visits them for one x: (x, y), (BETA x, y), (BETA² x, y), then -y.
MULTIPLIERS: tuple[int, ...] = (1, LAMBDA, LAMBDA2, N - 1, N - LAMBDA, N - LAMBDA2)


def is_on_curve(point: Point) -> bool:
    x, y = point
    return 0 <= x < P and 0 <= y < P and (y * y - x * x * x - 7) % P == 0


def point_add(a: Point | None, b: Point | None) -> Point | None:
    """a + b in affine coordinates; None is the point at infinity."""
    if a is None:
        return b
    if b is None:
        return a
    x1, y1 = a
    x2, y2 = b
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        slope = 3 * x1 * x1 * pow(2 * y1, -1, P) % P
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (slope * slope - x1 - x2) % P
    return x3, (slope * (x1 - x3) - y1) % P


def point_neg(a: Point | None) -> Point | None:
    return None if a is None else (a[0], (P - a[1]) % P)


def point_mul(k: int, point: Point = G) -> Point | None:
    """k·point by double-and-add (tables and tests; not constant time, never for secrets)."""
    k %= N
    result: Point | None = None
    addend: Point | None = point
    while k:
        if k & 1:
            result = point_add(result, addend)
        addend = point_add(addend, addend)
        k >>= 1
    return result


def batch_inverse(values: Sequence[int]) -> list[int]:
    """The inverses mod P of all values (none may be 0 mod P) with a single pow()."""
    prefix = []
    acc = 1
    for v in values:
        acc = acc * v % P
        prefix.append(acc)
    inv = pow(acc, -1, P)
    out = [0] * len(values)
    for i in range(len(values) - 1, 0, -1):
        out[i] = inv * prefix[i - 1] % P
        inv = inv * values[i] % P
    if values:
        out[0] = inv
    return out


def multiples(count: int, point: Point = G) -> list[Point]:
    """[1·point, 2·point, ..., count·point]."""
    out: list[Point] = []
    current: Point | None = None
    for _ in range(count):
        current = point_add(current, point)
        assert current is not None
        out.append(current)
    return out

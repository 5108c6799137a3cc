"""The vanity search hot loop (one process) — see `parallel` for several cores.

Each step takes a centre point C = B + k·G (B is the requester's public key in split-key mode,
nothing otherwise) and the precomputed table i·G for i = 1..H. One batch inversion of the H
differences x(iG) - x(C) gives both C + iG and C - iG (they share the denominator), so a group
yields 2H + 1 points for one modular inverse. Only x is needed for compressed keys: the two
prefix bytes 02/03 cover the point and its negation (symmetry), and BETA·x, BETA²·x are the
x of LAMBDA·Q and LAMBDA²·Q (endomorphism): six candidate keys per point, each hashed once
(SHA-256 + RIPEMD-160) and compared as bytes against the pattern's hash160 intervals.

A hit is resolved with coincurve: the candidate is m·(B + k'·G) for one of the six
multipliers m, so the key is m·k' (full key) or, in split-key mode, the final key is
m·s + m·k' where s is the requester's secret.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import coincurve

from deskgrid.apps.vanity.hashing import hash160, ripemd160_base
from deskgrid.apps.vanity.keys import address_from_hash160
from deskgrid.apps.vanity.pattern import PatternSet
from deskgrid.apps.vanity.secp256k1 import BETA, MULTIPLIERS, G, N, P, multiples, point_add

DEFAULT_HALF_GROUP = 1024


@dataclass(frozen=True)
class Match:
    """A found address. `scalar` is the private key, or the partial key in split-key mode
    (then the final key is (multiplier·s + scalar) mod N for the requester's secret s)."""

    address: str
    scalar: int
    multiplier: int
    compressed: bool
    split: bool


def _base_point(base: coincurve.PublicKey | None, k: int) -> tuple[int, int]:
    point = coincurve.PublicKey.from_secret(k.to_bytes(32, "big"))
    if base is not None:
        point = coincurve.PublicKey.combine_keys([base, point])
    return point.point()


def candidate_public_key(
    base: coincurve.PublicKey | None, scalar: int, multiplier: int, compressed: bool
) -> bytes:
    """The serialised public key m·(B + scalar·G)."""
    point = coincurve.PublicKey.from_secret((scalar % N).to_bytes(32, "big"))
    if base is not None:
        point = coincurve.PublicKey.combine_keys([base, point])
    point = point.multiply((multiplier % N).to_bytes(32, "big"))
    return point.format(compressed=compressed)


class Searcher:
    """One core's search. `run` returns a Match, or None when `stop()` became true."""

    def __init__(
        self,
        patterns: PatternSet,
        compressed: bool = True,
        base: coincurve.PublicKey | None = None,
        half_group: int = DEFAULT_HALF_GROUP,
    ) -> None:
        self.patterns = patterns
        self.compressed = compressed
        self.base = base
        self.half = half_group
        table = multiples(half_group)
        self.gxs = [p[0] for p in table]
        self.gys = [p[1] for p in table]
        jump = point_add(point_add(table[-1], table[-1]), G)  # (2H + 1)·G
        assert jump is not None
        self.jump = jump
        self.keys_per_group = (2 * half_group + 1) * 6

    # -- one group ---------------------------------------------------------------------------
    def group_points(self, cx: int, cy: int) -> tuple[list[int], list[int]]:
        """x and y of C, C+G, C-G, C+2G, C-2G, ... (y only when uncompressed)."""
        gxs, gys = self.gxs, self.gys
        dxs = [gx - cx for gx in gxs]
        prefix = []
        acc = 1
        for d in dxs:
            acc = acc * d % P
            prefix.append(acc)
        inv = pow(acc, -1, P)
        invs = [0] * len(dxs)
        for i in range(len(dxs) - 1, 0, -1):
            invs[i] = inv * prefix[i - 1] % P
            inv = inv * dxs[i] % P
        invs[0] = inv
        xs = [cx]
        ys = [cy]
        add_x = xs.append
        if self.compressed:
            for gx, gy, iv in zip(gxs, gys, invs, strict=True):
                s = (gy - cy) * iv % P
                add_x((s * s - cx - gx) % P)
                s = (gy + cy) * iv % P  # the slope of C - iG, negated: same square
                add_x((s * s - cx - gx) % P)
            return xs, ys
        add_y = ys.append
        for gx, gy, iv in zip(gxs, gys, invs, strict=True):
            s = (gy - cy) * iv % P
            x = (s * s - cx - gx) % P
            add_x(x)
            add_y((s * (cx - x) - cy) % P)
            s = (-gy - cy) * iv % P
            x = (s * s - cx - gx) % P
            add_x(x)
            add_y((s * (cx - x) - cy) % P)
        return xs, ys

    def scan(self, xs: list[int], ys: list[int]) -> list[tuple[int, bytes]]:
        """Hash the six candidates of every point; (point index, digest) of interval hits."""
        lows, highs = self.patterns.hash_lows, self.patterns.hash_highs
        low, high = lows[0], highs[-1]
        may_match = self.patterns.hash_may_match
        rmd = ripemd160_base()
        sha = hashlib.sha256
        hits: list[tuple[int, bytes]] = []
        if self.compressed:
            even, odd = sha(b"\x02"), sha(b"\x03")
            blobs = []
            add = blobs.append
            for x in xs:
                bx = BETA * x % P
                add(x.to_bytes(32, "big"))
                add(bx.to_bytes(32, "big"))
                add(((-x - bx) % P).to_bytes(32, "big"))
            for j, xb in enumerate(blobs):
                h = even.copy()
                h.update(xb)
                r = rmd.copy()
                r.update(h.digest())
                d = r.digest()
                if low <= d < high and may_match(d):
                    hits.append((j // 3, d))
                h = odd.copy()
                h.update(xb)
                r = rmd.copy()
                r.update(h.digest())
                d = r.digest()
                if low <= d < high and may_match(d):
                    hits.append((j // 3, d))
            return hits
        four = sha(b"\x04")
        for t, (x, y) in enumerate(zip(xs, ys, strict=True)):
            bx = BETA * x % P
            yb = y.to_bytes(32, "big")
            nyb = (P - y).to_bytes(32, "big")
            for xv in (x, bx, (-x - bx) % P):
                xb = xv.to_bytes(32, "big")
                for tail in (yb, nyb):
                    h = four.copy()
                    h.update(xb + tail)
                    r = rmd.copy()
                    r.update(h.digest())
                    d = r.digest()
                    if low <= d < high and may_match(d):
                        hits.append((t, d))
        return hits

    def resolve(self, k: int, t: int, digest: bytes) -> Match | None:
        """The Match for a hit at point index t of the group centred on scalar k."""
        address = address_from_hash160(digest)
        if not self.patterns.matches(address):
            return None  # inside the interval, but the checksum digits differ
        i = (t + 1) // 2
        scalar = (k + i if t % 2 else k - i) % N
        for m in MULTIPLIERS:
            if hash160(candidate_public_key(self.base, scalar, m, self.compressed)) == digest:
                split = self.base is not None
                return Match(address, m * scalar % N, m if split else 1, self.compressed, split)
        raise AssertionError("a hit that no multiplier explains")  # pragma: no cover

    # -- the loop ----------------------------------------------------------------------------
    def run(
        self,
        stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[int], None] | None = None,
        start: int | None = None,
    ) -> Match | None:
        """Search from scalar `start` (random by default) until a match or `stop()`."""
        k = start if start is not None else secrets.randbelow(N - 2 * self.half - 2) + self.half + 1
        cx, cy = _base_point(self.base, k)
        step = 2 * self.half + 1
        while not stop():
            try:
                xs, ys = self.group_points(cx, cy)
            except ValueError:  # C = ±iG: a zero denominator; start elsewhere
                k = secrets.randbelow(N - 2 * self.half - 2) + self.half + 1
                cx, cy = _base_point(self.base, k)
                continue
            hits = self.scan(xs, ys)
            if on_progress is not None:
                on_progress(self.keys_per_group)
            for t, digest in hits:
                found = self.resolve(k, t, digest)
                if found is not None:
                    return found
            nxt = point_add((cx, cy), self.jump)
            k = (k + step) % N
            if nxt is None or k == 0:  # pragma: no cover - probability ~2**-256
                k = secrets.randbelow(N - 1) + 1
                nxt = _base_point(self.base, k)
            cx, cy = nxt
        return None

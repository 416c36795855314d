"""High-precision numeric cross-checks: mpmath at 50 digits, seeded random points, finite differences.

Each general result is evaluated at random points (seeded; the seed is recorded) and compared with
a quantity computed *from the definition* in mpmath: derivatives by ``mpmath.diff`` (Richardson-free
central differences that mpmath runs at extra working precision, so the truncation and rounding
errors stay far below the 50 working digits), identities by evaluating both sides.

Tolerance: ``TOL = 1e-30``.  At 50 digits the evaluation of both sides loses at most a few digits to
cancellation for the well-conditioned points drawn here (condition numbers of ``H`` below ~1e2,
entries O(1)), and ``mpmath.diff`` is accurate to roughly the working precision; 1e-30 leaves 20
digits of margin for that while still being ~1e25 times smaller than any discrepancy a wrong
formula produces at an O(1) point.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import mpmath
import numpy as np
import sympy as sp

from . import algebra as A

DPS = 50
TOL = mpmath.mpf("1e-30")


@contextlib.contextmanager
def precision(dps: int = DPS) -> Iterator[None]:
    """Scoped working precision (never leaves mpmath's global state changed)."""
    with mpmath.workdps(dps):
        yield


class Point:
    """A random point: SPD ``H`` (d x d), vectors ``w, u, x``, scalar ``a`` and extra scalars."""

    def __init__(self, d: int, rng: np.random.Generator, extra: dict[str, float] | None = None):
        self.d = d
        M = rng.standard_normal((d, d))
        Hf = M.T @ M + d * np.eye(d)  # condition number O(10): a well-conditioned random SPD matrix
        self.H = mpmath.matrix([[mpmath.mpf(float(Hf[i, j])) for j in range(d)] for i in range(d)])
        self.vecs = {
            n: mpmath.matrix([mpmath.mpf(float(v)) for v in rng.standard_normal(d)])
            for n in ("w", "u", "x", "v")
        }
        self.a = mpmath.mpf(float(rng.standard_normal()))
        self.extra = {k: mpmath.mpf(v) for k, v in (extra or {}).items()}
        self.seed_info = {"d": d}

    # -- basic quantities --------------------------------------------------------------------------
    def vec(self, name: str) -> mpmath.matrix:
        if name == "g":
            return self.H * self.vecs["u"]
        return self.vecs[name]

    def hpow(self, v: mpmath.matrix, k: int) -> mpmath.matrix:
        for _ in range(k):
            v = self.H * v
        return v

    @staticmethod
    def dot(p: mpmath.matrix, q: mpmath.matrix) -> mpmath.mpf:
        return mpmath.fsum(p[i] * q[i] for i in range(p.rows))

    def invariant_values(self) -> dict[sp.Symbol, mpmath.mpf]:
        w, u = self.vecs["w"], self.vecs["u"]
        vals = {
            A.sigma: mpmath.sqrt(self.dot(w, self.H * w)),
            A.y: self.dot(w, self.H * u),
            A.nu: self.dot(u, self.H * u),
            A.a: self.a,
        }
        return vals

    def scalar(self, expr: sp.Expr, bind: dict | None = None) -> mpmath.mpf:
        expr = sp.sympify(expr)
        vals = self.invariant_values()
        vals.update(bind or {})
        for s in expr.free_symbols:
            if s in vals:
                continue
            key = A.invariant_key(s)
            if key is not None:
                p, k, q = key
                vals[s] = self.dot(self.vec(p), self.hpow(self.vec(q), k))
            elif s.name in self.extra:
                vals[s] = self.extra[s.name]
            else:
                raise ValueError(f"no numeric value for {s}")
        syms = sorted(expr.free_symbols, key=lambda z: z.name)
        fn = sp.lambdify(syms, expr, modules="mpmath")
        return mpmath.mpf(fn(*[vals[s] for s in syms]))

    def vector(self, v: A.Vec, bind: dict | None = None) -> mpmath.matrix:
        out = mpmath.matrix(self.d, 1)
        for b, coeff in v.terms.items():
            out += self.scalar(coeff, bind) * self.hpow(self.vec(b.p), b.k)
        return out

    def matrix(self, m: A.Mat, bind: dict | None = None) -> mpmath.matrix:
        out = mpmath.matrix(self.d, self.d)
        for key, coeff in m.terms.items():
            cf = self.scalar(coeff, bind)
            if key.left is None:
                M = mpmath.eye(self.d)
                for _ in range(key.k):
                    M = M * self.H
            else:
                lv = self.hpow(self.vec(key.left.p), key.left.k)
                rv = self.hpow(self.vec(key.right.p), key.right.k)
                M = lv * rv.T
            out += cf * M
        return out

    # -- the objective from its definition and its finite-difference derivatives ------------------------
    def J16(self, a: mpmath.mpf, w: mpmath.matrix) -> mpmath.mpf:
        """``J = (u - a w / sigma)^T H (u - a w / sigma) / 2`` (Eq. 16, left-hand side)."""
        s = mpmath.sqrt(self.dot(w, self.H * w))
        r = self.vecs["u"] - (a / s) * w
        return self.dot(r, self.H * r) / 2

    def _flat(self, f: Callable) -> Callable:
        d = self.d

        def F(*z):
            return f(z[0], mpmath.matrix(list(z[1 : d + 1])))

        return F

    def fd_gradient(self, f: Callable, a: mpmath.mpf, w: mpmath.matrix) -> list[mpmath.mpf]:
        """``[dF/da, dF/dw_1, ..., dF/dw_d]`` by ``mpmath.diff``."""
        F = self._flat(f)
        z = [a] + [w[i] for i in range(self.d)]
        n = len(z)
        return [mpmath.diff(F, z, tuple(1 if j == i else 0 for j in range(n))) for i in range(n)]

    def fd_hessian(self, f: Callable, a: mpmath.mpf, w: mpmath.matrix) -> mpmath.matrix:
        F = self._flat(f)
        z = [a] + [w[i] for i in range(self.d)]
        n = len(z)
        out = mpmath.matrix(n, n)
        for i in range(n):
            for j in range(i, n):
                order = [0] * n
                order[i] += 1
                order[j] += 1
                out[i, j] = out[j, i] = mpmath.diff(F, z, tuple(order))
        return out


def max_abs(x) -> mpmath.mpf:
    """Largest absolute entry of a number, vector, matrix or list of those."""
    if isinstance(x, (list, tuple)):
        return max((max_abs(v) for v in x), default=mpmath.mpf(0))
    if isinstance(x, mpmath.matrix):
        return max(abs(x[i, j]) for i in range(x.rows) for j in range(x.cols))
    return abs(mpmath.mpf(x))


def magnitude(err: mpmath.mpf) -> str:
    """A coarse, platform-stable description of an error: ``"< 1e-k"`` (or ``"0"``)."""
    if err == 0:
        return "0"
    k = int(mpmath.floor(-mpmath.log10(err)))
    return f"< 1e-{k}"

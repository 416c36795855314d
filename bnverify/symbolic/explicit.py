"""Explicit d-dimensional instances with symbolic entries, for the exact cross-checks (d = 1..4).

An :class:`Instance` holds a symmetric ``H`` with independent symbolic entries ``h_ij`` (i <= j),
symbolic vectors ``w, u`` (or ``w, g``), the scalar ``a`` and any extra scalars, all as elements of
the polynomial ring ``QQ[h, w, u, a, t, ...]`` (SymPy's ``polys.rings``: exact and about 100
times faster than expanding expression trees; divisions by polynomials such as ``u^T H u`` are
cleared by hand, so no gcd is ever computed).  ``sigma = sqrt(w^T H w)`` is not rational, so it
enters through the generator ``t`` standing for ``1/sigma``, with the relation ``t^2 P = 1``
(``P = w^T H w``; ``sigma`` itself is ``P t``).  Derivatives are taken coordinate-wise with SymPy's polynomial ``diff`` and the
chain rule ``dt/dw_i = -t^3 (dP/dw_i) / 2`` (the derivative of ``P^{-1/2}``), i.e. *directly from
the explicit formula*, independently of the index-free rules of ``bnverify.symbolic.algebra``.

Zero test (:meth:`Instance.is_zero`): the numerator ``N`` of a difference is a polynomial in ``t``;
using ``t^2 = 1/P`` it reduces to ``A + t B`` with ``A, B`` polynomials in the entries, and
``A + B / sqrt(P) = 0`` identically iff ``A = B = 0`` (``sqrt(P)`` is not a rational function of
the independent entries).  The test is exact: no floating point, no heuristic simplification.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from operator import add

import sympy as sp
from sympy import QQ
from sympy.polys.rings import ring

from . import algebra as A


class Instance:
    """A d-dimensional instance; ``gvec=True`` uses free symbols ``g_i`` instead of ``u_i``
    (then ``g`` is independent of ``H``, which is all the objective depends on besides a constant)."""

    def __init__(self, d: int, extra: Sequence[str] = (), gvec: bool = False):
        self.d = d
        names = [f"h{i}{j}" for i in range(d) for j in range(i, d)]
        names += [f"w{i}" for i in range(d)]
        names += [f"{'g' if gvec else 'u'}{i}" for i in range(d)]
        names += ["a", "t", *extra]
        self.names = names
        self.K, *gens = ring(",".join(names), QQ)
        self.gen = dict(zip(names, gens, strict=False))
        G = self.gen
        self.H = [[G[f"h{min(i, j)}{max(i, j)}"] for j in range(d)] for i in range(d)]
        self.w = [G[f"w{i}"] for i in range(d)]
        if gvec:
            self.g = [G[f"g{i}"] for i in range(d)]
            self.u = None
        else:
            self.u = [G[f"u{i}"] for i in range(d)]
            self.g = self.mv(self.H, self.u)
        self.a = G["a"]
        self.t = G["t"]
        self.Hw = self.mv(self.H, self.w)
        self.P = self.dot(self.w, self.Hw)
        self.y = self.dot(self.w, self.g)
        self.nu = self.dot(self.u, self.g) if self.u is not None else None
        self._dP = [self.P.diff(wi) for wi in self.w]

    # -- linear algebra over the field ------------------------------------------------------------
    def zero(self):
        return self.K(0)

    def dot(self, p, q):
        return reduce(add, (p[i] * q[i] for i in range(self.d)), self.K(0))

    def mv(self, M, v):
        return [self.dot(M[i], v) for i in range(self.d)]

    def vec(self, name: str) -> list:
        if name == "w":
            return self.w
        if name == "u":
            if self.u is None:
                raise ValueError("instance built with gvec=True has no u")
            return self.u
        if name == "g":
            return self.g
        raise KeyError(name)

    def hpow(self, v, k: int):
        for _ in range(k):
            v = self.mv(self.H, v)
        return v

    # -- direct differentiation -----------------------------------------------------------------------
    def d_w(self, f, i: int):
        """``d f / d w_i`` for ``f`` in ``QQ(h, w, u, a, t)`` with ``t = (w^T H w)^{-1/2}``."""
        return f.diff(self.w[i]) + f.diff(self.t) * (-(self.t**3) * self._dP[i] / 2)

    def grad_w(self, f) -> list:
        return [self.d_w(f, i) for i in range(self.d)]

    def hess_w(self, f) -> list[list]:
        gw = self.grad_w(f)
        return [[self.d_w(gw[i], j) for j in range(self.d)] for i in range(self.d)]

    # -- instantiation of index-free objects ---------------------------------------------------------
    def scalar(self, expr: sp.Expr, bind: dict | None = None):
        """Convert a SymPy expression in the invariants (``sigma, y, nu, p^T H^k q, a`` and extra
        generators, or symbols bound in ``bind``) into a field element."""
        bind = bind or {}
        return self._conv(sp.sympify(expr), bind)

    def _conv(self, e: sp.Expr, bind: dict):
        K = self.K
        if e.is_Rational:
            return K(QQ(int(e.p), int(e.q)))
        if e.is_Symbol:
            if e in bind:
                return bind[e]
            if e == A.sigma:
                return self.P * self.t  # sigma = sigma^2 / sigma = P t
            if e == A.y:
                return self.y
            if e == A.nu:
                return self.nu
            if e == A.a:
                return self.a
            key = A.invariant_key(e)
            if key is not None:
                p, k, q = key
                return self.dot(self.vec(p), self.hpow(self.vec(q), k))
            if e.name in self.gen:
                return self.gen[e.name]
            raise ValueError(f"no value for symbol {e}")
        if e.is_Add:
            return reduce(add, (self._conv(t, bind) for t in e.args), K(0))
        if e.is_Mul:
            out = K(1)
            for t in e.args:
                out = out * self._conv(t, bind)
            return out
        if e.is_Pow and e.exp.is_Integer:
            base = self._conv(e.base, bind)
            n = int(e.exp)
            if n >= 0:
                return base**n
            if e.base == A.sigma:
                return self.t ** (-n)
            raise ValueError(f"cannot instantiate {e} as a polynomial (divide through first)")
        raise ValueError(f"cannot instantiate {e} exactly")

    def vector(self, v: A.Vec, bind: dict | None = None) -> list:
        out = [self.K(0)] * self.d
        for b, coeff in v.terms.items():
            base = self.hpow(self.vec(b.p), b.k)
            cf = self.scalar(coeff, bind)
            out = [out[i] + cf * base[i] for i in range(self.d)]
        return out

    def matrix(self, m: A.Mat, bind: dict | None = None) -> list[list]:
        d = self.d
        out = [[self.K(0)] * d for _ in range(d)]
        for key, coeff in m.terms.items():
            cf = self.scalar(coeff, bind)
            if key.left is None:
                Hk = [[self.K(1) if i == j else self.K(0) for j in range(d)] for i in range(d)]
                for _ in range(key.k):
                    Hk = [
                        [self.dot(Hk[i], [self.H[r][j] for r in range(d)]) for j in range(d)]
                        for i in range(d)
                    ]
                M = Hk
            else:
                lv = self.hpow(self.vec(key.left.p), key.left.k)
                rv = self.hpow(self.vec(key.right.p), key.right.k)
                M = [[lv[i] * rv[j] for j in range(d)] for i in range(d)]
            out = [[out[i][j] + cf * M[i][j] for j in range(d)] for i in range(d)]
        return out

    # -- substitution and the exact zero test ---------------------------------------------------------
    def subs(self, f, mapping: dict):
        """Substitute generators by polynomials (``mapping``: generator name -> ring element)."""
        pairs = [(self.K.gens[self.names.index(n)], v) for n, v in mapping.items()]
        return f.compose(pairs)

    def subs_frac(self, f, mapping: dict) -> tuple:
        """Like :meth:`subs` for polynomial values, but returns ``(numerator, denominator)`` ring
        elements without cancelling (no gcd: fast for large entries)."""
        num, den = _num_den(f)
        pairs = [(self.K.gens[self.names.index(n)], _num_den(v)[0]) for n, v in mapping.items()]
        return num.compose(pairs), den.compose(pairs)

    def equal_frac(self, lhs: tuple, rhs, relations=None) -> bool:
        """``lhs == rhs`` for ``lhs = (num, den)`` and a field element or pair ``rhs``, by
        cross-multiplication (no gcd) and the exact zero test."""
        n2, d2 = rhs if isinstance(rhs, tuple) else _num_den(rhs)
        return self.is_zero_poly(lhs[0] * d2 - n2 * lhs[1], relations)

    def is_zero(self, f, relations: Sequence[tuple[str, object]] | None = None) -> bool:
        """Exact zero test modulo ``gen^2 * value = 1`` for each ``(gen, value)`` relation (default:
        ``t^2 P = 1``; a third entry ``p`` gives ``gen^p * value = 1``, e.g. ``p = 1`` for an inverse).  See the module docstring for why this is complete."""
        return self.is_zero_poly(_num_den(f)[0], relations)

    def is_zero_poly(self, num, relations: Sequence[tuple[str, object]] | None = None) -> bool:
        if relations is None:
            relations = [("t", self.P)]
        for rel in relations:
            gname, value = rel[0], rel[1]
            per = rel[2] if len(rel) > 2 else 2  # the relation gen^per * value = 1
            j = self.names.index(gname)
            terms = list(num.terms())
            if not terms:
                return True
            mx = max(m[j] for m, _ in terms) // per
            vnum, vden = _num_den(value)
            # t^(2q + r) = t^r (1/value)^q ; multiply through by value^mx
            R = num.ring
            pows_n = [R(1)]
            pows_d = [R(1)]
            for _ in range(mx):
                pows_n.append(pows_n[-1] * vnum)
                pows_d.append(pows_d[-1] * vden)
            groups: dict[int, dict] = {}  # t-exponent -> the coefficient polynomial (as a dict)
            for m, coeff in terms:
                m2 = list(m)
                m2[j] = 0
                groups.setdefault(m[j], {})[tuple(m2)] = coeff
            tj = R.gens[j]
            acc = R(0)
            for k, cdict in groups.items():
                q_, r_ = divmod(k, per)
                acc += R(cdict) * pows_n[mx - q_] * pows_d[q_] * tj**r_
            num = acc
        return num == 0

    def zero_all(self, items, relations=None) -> bool:
        return all(self.is_zero(f, relations) for f in _flatten(items))


def _num_den(value):
    """(numerator, denominator) of a ring or field element."""
    if hasattr(value, "numer"):
        return value.numer, value.denom
    return value, value.ring(1)


def _flatten(items):
    if isinstance(items, (list, tuple)):
        for it in items:
            yield from _flatten(it)
    else:
        yield items

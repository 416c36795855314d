"""Exact points and 50-digit finite-difference derivatives of the BN objective ``J(a, w)``.

:class:`Point` is a point ``(H, u, a, w)`` held as 50-digit numbers; :func:`hessian_points` is the
Hypothesis strategy of such points (generic, saddles with ``w ⟂ g`` exactly, minimisers);
:func:`fd_gradient_at` and :func:`fd_hessian_at` take central finite differences of ``J`` at
50 digits (``bnverify.linalg_mp``).  Used by the §2.2 and §A.1 checks and by ``bnverify replay``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from hypothesis import strategies as st

from bnverify import linalg_mp as L
from bnverify.model import OLSProblem
from bnverify.strategies import problems, unit_vectors

DPS = 50  # working digits of the mpmath cross-checks (= bnverify.linalg_mp.DPS)

@dataclass(frozen=True)
class Point:
    """A point ``(a, w)`` of the BN objective for problem ``problem``; ``a`` and ``w`` are held
    at 50 digits (``a_mp``, ``w_mp``) so that saddles (``a = 0, w^T g = 0``) and minimisers
    (``a* = sign(s) sqrt(u^T H u), w* = s u``) are exact; ``kind`` says which."""

    problem: OLSProblem
    a_mp: Any
    w_mp: tuple
    kind: str = "generic"
    s: float | None = None

    @property
    def d(self) -> int:
        return self.problem.d

    def describe(self) -> str:
        p = self.problem

        def fmt(v):
            return "(" + ", ".join(f"{float(x):.4g}" for x in v) + ")"

        H = f"diag{fmt(np.diag(p.H))}" if p.is_diagonal else f"Q diag{fmt(p.eigenvalues)} Q^T"
        extra = f", s = {self.s:.4g}" if self.s is not None else ""
        return (f"d = {p.d}, H = {H}, u = {fmt(p.u)} (||u|| = {np.linalg.norm(p.u):.4g}), "
                f"a = {float(self.a_mp):.6g}, w = {fmt(self.w_mp)} [{self.kind}{extra}]")

    def to_json(self) -> dict[str, Any]:
        """A ``bnverify run --config`` file placing the iteration at this point (50-digit strings
        keep saddles and minimisers exact for the high-precision engine)."""
        out = self.problem.to_json()
        out.update(a0=mpmath.nstr(self.a_mp, 50), w0=[mpmath.nstr(x, 50) for x in self.w_mp],
                   eps_a=1.0, eps=1.0, comment=f"point of J(a, w): {self.kind}")
        return out


def _problem_with_u_scale(p: OLSProblem, beta: float) -> OLSProblem:
    q = OLSProblem(p.H, beta * p.u) if beta != 1.0 else p
    if beta != 1.0 and hasattr(p, "spec"):
        object.__setattr__(q, "spec", p.spec)
    return q


@st.composite
def hessian_points(draw, kind: str = "generic", min_d: int = 1, max_d: int = 5) -> Point:
    """Points for the derivative checks.  ``kind``: "generic" (any ``a``, ``w``), "saddle"
    (``a = 0``, ``w ⟂ g`` exactly at 50 digits; needs d >= 2), "minimizer" (Eq. 8)."""
    if kind == "saddle":
        min_d = max(min_d, 2)
    if kind != "generic":  # spectra at these points cost a (d+1)^2 FD Hessian
        max_d = min(max_d, 4 if kind == "saddle" else 3)
    p = draw(problems(min_d=min_d, max_d=max_d, kappa_max=1e3))
    beta = draw(st.sampled_from([1.0, 2.0, 0.5]))
    p = _problem_with_u_scale(p, beta)
    scale = draw(st.sampled_from([1.0, 0.1, 10.0]))
    v = draw(unit_vectors(p.d)) * scale
    with mpmath.workdps(DPS + 10):
        if kind == "minimizer":
            s = draw(st.sampled_from([1.0, -1.0, 0.5, -2.0, 3.0]))
            um = L.to_mp_vector(p.u)
            Hm = L.to_mp_matrix(p.H)
            a = mpmath.sign(s) * mpmath.sqrt(L.dot(um, L.mat_vec(Hm, um)))
            w = tuple(mpmath.mpf(s) * x for x in um)
            return Point(p, +a, w, "minimizer", s)
        if kind == "saddle":
            g = L.mat_vec(L.to_mp_matrix(p.H), L.to_mp_vector(p.u))
            vm = L.to_mp_vector(v)
            c = L.dot(vm, g) / L.dot(g, g)
            w = [x - c * gi for x, gi in zip(vm, g, strict=False)]
            if max(abs(x) for x in w) < mpmath.mpf("1e-6") * scale:  # v was parallel to g
                w = [g[1], -g[0]] + [mpmath.mpf(0)] * (p.d - 2)
            return Point(p, mpmath.mpf(0), tuple(w), "saddle")
        a = draw(st.one_of(st.sampled_from([1.0, 0.0, -1.0]), st.floats(-3.0, 3.0)))
        return Point(p, mpmath.mpf(a), tuple(L.to_mp_vector(v)), "generic")


def fd_gradient_at(pt: Point) -> list:
    """The gradient of ``J`` at ``pt`` by central finite differences at 50 digits (error < 1e-24)."""
    with mpmath.workdps(DPS + 10):
        Hm = L.to_mp_matrix(pt.problem.H)
        um = L.to_mp_vector(pt.problem.u)
        return L.fd_gradient(lambda z: L.bn_objective_mp(Hm, um, z[0], z[1:], dps=DPS + 10),
                             [pt.a_mp] + list(pt.w_mp), dps=DPS + 10)


def fd_hessian_at(pt: Point) -> mpmath.matrix:
    """The Hessian of ``J`` at ``pt`` by central finite differences at 50 digits."""
    with mpmath.workdps(DPS + 10):
        Hm = L.to_mp_matrix(pt.problem.H)
        um = L.to_mp_vector(pt.problem.u)
        return L.fd_hessian(lambda z: L.bn_objective_mp(Hm, um, z[0], z[1:], dps=DPS + 10),
                            [pt.a_mp] + list(pt.w_mp), dps=DPS + 10)


#: eigenvalues below this fraction of the spectral scale count as zero: the 50-digit
#: finite-difference Hessian is accurate to ~1e-24 relative, nonzero eigenvalues of the drawn
#: saddles exceed 1e-8 of the scale (||g||^2/sigma^2 bounded below by the drawn data)
ZERO_EIG_RTOL = 1e-15

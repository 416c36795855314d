"""Sampled points of the BN objective and classified minimisers (§2.2 and §A.1 checks).

:func:`objective_points` / :func:`sample_objective` draw problems and evaluate ``J`` by Monte
Carlo (``x ~ N(0, H)``, ``y = x^T u + noise``) with its standard error; :func:`minimizer_holds`
classifies the critical points ``(a*, s u)``; :func:`minimizer_hessian_matches` and
:func:`hessian_at_minimizer_result` compare the 50-digit finite-difference Hessian at a minimiser
with ``diag(1, H*/||w*||^2)`` (memoised per run).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from hypothesis import strategies as st

from bnverify import linalg_mp as L
from bnverify.claims import Correction, MethodResult
from bnverify.hessian_fd import Point, fd_gradient_at, fd_hessian_at, hessian_points
from bnverify.model import OLSProblem
from bnverify.properties import Outcome, check_property
from bnverify.strategies import problems, unit_vectors

DPS = 50  # working digits of the mpmath cross-checks (= bnverify.linalg_mp.DPS)

#: Monte Carlo: samples per point and the z-score accepted for |mean - closed form| / SE
MC_SAMPLES = 20000


MC_Z = 5.0  # two-sided P(|Z| > 5) = 5.7e-7 per point: a family of 1000 points errs w.p. < 6e-4


@dataclass(frozen=True)
class ObjectivePoint:
    """A problem and a point ``(a, w)`` (float64) at which ``J`` is sampled."""

    problem: OLSProblem
    a: float
    w: np.ndarray

    def describe(self) -> str:
        p = self.problem
        return (f"d = {p.d}, eigenvalues {np.round(p.eigenvalues, 4).tolist()}, u = "
                f"{np.round(p.u, 4).tolist()}, noise = {p.noise}, a = {self.a:.4g}, w = "
                f"{np.round(self.w, 4).tolist()}")

    def to_json(self) -> dict[str, Any]:
        out = self.problem.to_json()
        out.update(a0=self.a, w0=self.w.tolist(), eps_a=1.0, eps=1.0, noise=self.problem.noise)
        return out


@st.composite
def objective_points(draw) -> ObjectivePoint:
    """Problems (noise 0, 0.25, 1; ``||u||`` 1 or 2) and unit ``w`` (Hypothesis strategy)."""
    p = draw(problems(max_d=6, kappa_max=1e2))
    noise = draw(st.sampled_from([0.0, 0.25, 1.0]))
    beta = draw(st.sampled_from([1.0, 2.0]))
    p = OLSProblem(p.H, beta * p.u, noise)
    a = draw(st.floats(-3.0, 3.0))
    w = draw(unit_vectors(p.d))
    return ObjectivePoint(p, float(a), w)


def sample_objective(pt: ObjectivePoint, n: int = MC_SAMPLES) -> tuple[float, float]:
    """Monte Carlo ``1/2 E[(y - a x^T w/sigma)^2]`` with ``x ~ N(0, H)``, ``y = x^T u + e``,
    ``e ~ N(0, noise)``; the generator is seeded from the point itself (reproducible under
    Hypothesis replays).  Returns (mean, standard error)."""
    p = pt.problem
    key = hashlib.sha256(np.concatenate([p.H.ravel(), p.u, pt.w, [pt.a, p.noise]]).tobytes())
    rng = np.random.default_rng(int.from_bytes(key.digest()[:8], "little"))
    Lc = np.linalg.cholesky(p.H)
    x = rng.standard_normal((n, p.d)) @ Lc.T
    y = x @ p.u + np.sqrt(p.noise) * rng.standard_normal(n)
    sigma = p.sigma(pt.w)
    r = 0.5 * (y - pt.a * (x @ pt.w) / sigma) ** 2
    return float(r.mean()), float(r.std(ddof=1) / np.sqrt(n))


def gradient_small(pt: Point) -> tuple[bool, float]:
    """Gradient (50-digit FD) vanishes: below 1e-20 of the data scale (FD error ~1e-24)."""
    G = fd_gradient_at(pt)
    scale = 1 + abs(pt.a_mp) + float(np.linalg.norm(pt.problem.g))
    err = float(max(abs(x) for x in G)) / scale
    return err <= 1e-20, err


def minimizer_holds(pt: Point, sign: int = 1) -> Outcome:
    """S2.minimizers at ``a* = sign(s) sqrt(u^T H u), w* = s u``: the gradient vanishes and
    ``J(a*, w*)`` is the global minimum ``noise/2`` (J >= noise/2 everywhere because it is
    ``noise/2`` plus an expected square); ``sign = -1`` flips the printed sign (mutation)."""
    if sign != 1:
        pt = Point(pt.problem, -pt.a_mp, pt.w_mp, pt.kind, pt.s)
    crit, gerr = gradient_small(pt)
    Jv = L.bn_objective_mp(pt.problem.H, pt.problem.u, pt.a_mp, list(pt.w_mp), dps=DPS)
    scale = 1 + float(pt.problem.u_norm_H) ** 2
    at_min = abs(float(Jv) - pt.problem.noise / 2) <= 1e-40 * scale
    return Outcome(crit and at_min, {"gradient": gerr, "J": float(Jv)})


#: tolerance of the Hessian comparison at minimisers.  The FD Hessian is accurate to 1e-24, but
#: the drawn ``u`` lie on the unit sphere only up to float64 rounding (``||u||^2 = 1 +- 2^-52``):
#: a relative 1e-12 accepts the normalised case the paper intends and still flags every
#: ``|1 - ||u||^2| > 1e-12``.
MIN_HESS_RTOL = 1e-12


def minimizer_hessian_matches(pt: Point, factor=lambda um, s: 1) -> Outcome:
    """Eq. (14, 23): the 50-digit FD Hessian at the minimiser ``(a*, s u)`` equals
    ``diag(1, factor * H*/||w*||^2)`` (printed: ``factor = 1``; the corrected statement uses
    ``factor = ||u||^2``, evaluated in mp from the mp vector ``um``) to relative
    ``MIN_HESS_RTOL`` of its largest entry."""
    F = fd_hessian_at(pt)
    p = pt.problem
    s = float(pt.s)
    with mpmath.workdps(DPS + 10):
        Hs = L.h_star_mp(p.H, p.u, DPS + 10)
        ww = L.dot(pt.w_mp, pt.w_mp)
        f = mpmath.mpf(factor(L.to_mp_vector(p.u), s))
        n = p.d + 1
        T = mpmath.matrix(n, n)
        T[0, 0] = 1
        for i in range(p.d):
            for j in range(p.d):
                T[i + 1, j + 1] = f * Hs[i, j] / ww
        scale = max(abs(F[i, j]) for i in range(n) for j in range(n))
        err = float(max(abs(F[i, j] - T[i, j]) for i in range(n) for j in range(n)) / scale)
    return Outcome(err <= MIN_HESS_RTOL, {"relative_difference": err, "s": s,
                                          "u_norm": float(np.linalg.norm(p.u))})


HESS_TOL = (f"relative {MIN_HESS_RTOL:g} (50-digit FD Hessian, error < 1e-24; float data put u on"
            " the unit sphere only to 2^-52)")


_MIN_HESS_MEMO: dict[tuple, tuple[str, MethodResult]] = {}
#: the one search behind E22-23 and S3.Hstar: seeded (and its Hypothesis database keyed) by
#: S3.Hstar's ID and statement whichever claim asks first, so that both claims' results do not
#: depend on the order the claims run in or on the worker that runs them (S3.Hstar comes first
#: in catalogue order: the in-process results are the ones recorded before)
MIN_HESS_SEARCH = ("S3.Hstar", "FD Hessian at (a*, s u) = diag(1, H*/||w*||^2) as printed (Eq. 14)")


def hessian_at_minimizer_result(claim_id: str, ctx, statement: str) -> MethodResult:
    """The printed Hessian ``diag(1, H*/||w*||^2)`` at minimisers, with its correction.

    E22-23 and S3.Hstar print the same statement (Eq. 23 and Eq. 14): one search
    (:data:`MIN_HESS_SEARCH`) runs once per (profile, seed) and process, and each claim gets a
    copy under its own statement."""
    key = (ctx.profile, ctx.seed)
    if key not in _MIN_HESS_MEMO:
        _MIN_HESS_MEMO[key] = (MIN_HESS_SEARCH[1],
                               _hessian_at_minimizer_search(MIN_HESS_SEARCH[0], ctx,
                                                            MIN_HESS_SEARCH[1]))
    prev_statement, prev = _MIN_HESS_MEMO[key]
    rest = prev.evidence[len(prev_statement) + 2:]
    # the same text whichever claim (or worker process) ran the search first: reports are
    # reproducible under any --jobs scheduling
    return MethodResult(prev.verdict, prev.method, f"{statement}: {rest}"
                        " (same property as the other claim printing Eq. 14/23; one search per"
                        " profile and seed serves both)",
                        details=dict(prev.details), counterexample=prev.counterexample,
                        correction=prev.correction)


def _hessian_at_minimizer_search(claim_id: str, ctx, statement: str) -> MethodResult:

    def corr(_x):
        r = check_property(
            claim_id, hessian_points("minimizer"),
            lambda pt: minimizer_hessian_matches(pt, lambda um, s: L.dot(um, um)), ctx,
            statement="Hessian at (a*, s u) = diag(1, ||u||^2 H*/||w*||^2) = diag(1, H*/s^2)",
            tolerance=HESS_TOL, method="numeric", max_examples=ctx.n(12, 200),
            key_suffix="corrected")
        return Correction(
            "The Hessian at a minimiser (a*, w* = s u) is diag(1, H*/s^2) = diag(1, ||u||^2 H*/"
            "||w*||^2); the printed diag(1, H*/||w*||^2) holds iff ||u|| = 1 (or d = 1).",
            r.verdict, r.evidence)

    return check_property(
        claim_id, hessian_points("minimizer"), minimizer_hessian_matches, ctx,
        statement=statement, tolerance=HESS_TOL, method="numeric",
        max_examples=ctx.n(12, 200), key_suffix="printed", correction=corr)

"""Section 2 numerically: GD facts (Eq. 3-5), the BN objective (Eq. 6-7, 16), critical points
(Eq. 8, 22-23) and their classification.

Claims: S2.GD-step, S2.GD-rate, S2.GD-opt, S2.BN-objective, E16, S2.trivial-saddles, S2.strict,
S2.degenerate, S2.minimizers, E22-23.

* GD facts run the engines (``bnverify.dynamics.batched.step`` for float64 iterates,
  ``bnverify.dynamics.mp.run_mp`` at 50 digits for the boundary ``eps = 2/lambda_max``).
* The objective is checked by sampling ``x ~ N(0, H)``, ``y = x^T u + noise`` (Monte Carlo mean
  with its standard error) against the closed forms Eq. (7) and (16).
* Critical points are classified with 50-digit finite-difference Hessians
  (``bnverify.linalg_mp``) at exact points (``proofs.appendix_a1_hessian.hessian_points``).

Finding (E22-23 and S3.Hstar): the Hessian at a minimiser ``(a*, s u)`` is
``diag(1, H*/s^2) = diag(1, ||u||^2 H*/||w*||^2)``; the printed ``diag(1, H*/||w*||^2)`` holds
only when ``||u|| = 1`` (the normalisation the paper adopts later, in §A.3 and §4.1).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from hypothesis import strategies as st

from bnverify import linalg_mp as L
from bnverify.claims import Correction, MethodResult, check
from bnverify.dynamics.batched import step
from bnverify.dynamics.mp import run_mp
from bnverify.model import OLSProblem
from bnverify.properties import Outcome, check_property
from bnverify.strategies import Configuration, configurations, log_floats, problems, unit_vectors
from proofs.appendix_a1_hessian import (
    DPS,
    ZERO_EIG_RTOL,
    Point,
    fd_gradient_at,
    fd_hessian_at,
    hessian_points,
)

UNIT = float(np.finfo(float).eps)


# ----------------------------------------------------------------------------------------------
# GD (Eq. 3-5)
# ----------------------------------------------------------------------------------------------


def _gd_step_tolerance(p: OLSProblem, w: np.ndarray, w_next: np.ndarray, eps: float) -> float:
    """Rounding bound for ``||u - w_{k+1}||`` vs ``rho ||u - w_k||`` with float64 iterates: the
    step ``w + eps (g - H w)`` is exact up to ``d u (||w|| + eps (||g|| + lambda_max ||w||))``,
    the two differences with ``u`` up to ``u (||u|| + ||w||)`` each; factor 8 for the norms."""
    nu, nw, nn = np.linalg.norm(p.u), np.linalg.norm(w), np.linalg.norm(w_next)
    S = nw + eps * (np.linalg.norm(p.g) + p.lambda_max * nw) + 2 * nu + nw + nn
    return 8 * p.d * UNIT * S


def gd_contracts(cfg: Configuration, steps: int = 10, rate=None) -> Outcome:
    """Eq. (4) along a GD trajectory of the engine: ``||u - w_{k+1}|| <= rate ||u - w_k||`` with
    ``rate = rho(I - eps H)`` (model.spectral_radius) unless given; rounding tolerance
    ``_gd_step_tolerance``.  Overflowing trajectories stop (reported, not a failure)."""
    p = cfg.problem
    rho = p.rho(cfg.eps) if rate is None else rate
    w = np.asarray(cfg.w0, dtype=float)
    worst = -np.inf
    for k in range(steps):
        _, wn = step(p, "gd", 0.0, w, cfg.eps)
        if not np.all(np.isfinite(wn)):
            return Outcome(True, {"overflow_at_step": k, "rho": rho})
        lhs = np.linalg.norm(p.u - wn)
        rhs = rho * np.linalg.norm(p.u - w)
        tol = _gd_step_tolerance(p, w, wn, cfg.eps) * (1 + rho)
        worst = max(worst, (lhs - rhs) / max(tol, 1e-300))
        if lhs > rhs + tol:
            return Outcome(False, {"step": k, "lhs": lhs, "rhs": rhs, "tolerance": tol, "rho": rho})
        w = wn
    return Outcome(True, {"rho": rho, "max_excess_over_tolerance": worst})


@dataclass(frozen=True)
class StepCase:
    """A GD configuration with ``eps = t * 2/lambda_max`` (``t`` kept for the boundary)."""

    cfg: Configuration
    t: float

    def describe(self) -> str:
        return f"{self.cfg.describe()} (eps = {self.t:.10g} * 2/lambda_max)"

    def to_json(self) -> dict[str, Any]:
        return self.cfg.to_json(method="gd", comment=f"eps = {self.t!r} * 2/lambda_max")


@st.composite
def step_cases(draw) -> StepCase:
    """Diagonal ``H`` (GD commutes with orthogonal changes of basis, so this is no loss of
    generality, and ``v_d = e_d`` is exact), ``eps = t 2/lambda_max`` with ``t`` in (0, 2), at and
    around the boundary ``t = 1``."""
    p = draw(problems(max_d=8, kappa_max=1e6, dense=False))
    t = draw(st.one_of(st.just(1.0), st.sampled_from([1 - 1e-9, 1 + 1e-9, 0.75, 0.5, 1.5, 0.25, 1.9]),
                       st.floats(0.01, 1.99)))
    v = draw(unit_vectors(p.d))
    cfg = Configuration(p, 1.0, p.u + v, 1.0, t * 2.0 / p.lambda_max, "generic")
    return StepCase(cfg, t)


def gd_step_iff(case: StepCase, threshold=lambda p: Fraction(2) / Fraction(p.lambda_max),
                steps: int = 40) -> Outcome:
    """S2.GD-step at one configuration, reading 'for every initial value'.

    * Claimed interval ``0 < eps < threshold`` (printed ``2/lambda_max``), decided exactly in
      rationals from the float64 data (every float is a dyadic rational).
    * Inside: GD converges from *every* ``w0`` iff ``rho(I - eps H) < 1`` (computed exactly in
      rationals) and the engine's iterates from the drawn ``w0`` contract by ``rho`` (Eq. 4).
    * Outside: the 50-digit engine from ``w0 = u + v_d`` (``v_d`` the top eigenvector) must keep
      ``|v_d^T (w_k - u)| >= |v_d^T (w_0 - u)|`` for ``steps`` steps (no convergence).  At
      ``t = 1`` the step is the exact rational ``2/lambda_max``.
    """
    p, eps = case.cfg.problem, case.cfg.eps
    lam = [Fraction(float(x)) for x in np.diag(p.H)]
    eps_q = Fraction(2) / Fraction(p.lambda_max) if case.t == 1.0 else Fraction(eps)
    inside = 0 < eps_q < threshold(p)
    rho_q = max(abs(1 - eps_q * x) for x in lam)
    meas: dict[str, Any] = {"claimed_interval": inside, "rho_exact": float(rho_q)}
    if inside:
        ok = rho_q < 1 and bool(gd_contracts(case.cfg, steps=10))
        meas["converges"] = ok
        return Outcome(ok, meas)
    i_top = int(np.argmax(np.diag(p.H)))
    w0 = p.u.copy()
    w0[i_top] += 1.0
    eps_in = f"{eps_q.numerator}/{eps_q.denominator}"
    r = run_mp(H_diag=np.diag(p.H).tolist(), u=p.u.tolist(), w0=w0.tolist(), eps=eps_in,
               method="gd", steps=steps, precision=DPS)
    with mpmath.workdps(DPS):
        comp = abs(r.w[i_top] - mpmath.mpf(float(p.u[i_top])))
        start = abs(mpmath.mpf(float(w0[i_top])) - mpmath.mpf(float(p.u[i_top])))
        ok = r.status == "diverged" or comp >= start * (1 - mpmath.mpf("1e-40"))
    meas.update(top_component_start=float(start), top_component_end=float(comp),
                diverges_or_stalls=bool(ok))
    return Outcome(bool(ok), meas)


@check("S2.GD-step", method="property",
       reading="Eq. (3): 'converges if 0 < eps < 2/lambda_max'; the catalogue's 'iff' read as "
               "'GD converges from every initial value iff 0 < eps < 2/lambda_max' (for a single "
               "w0 with w0 - u ⟂ v_d GD may converge for larger eps, e.g. w0 = u).")
def check_gd_step(ctx) -> MethodResult:
    """S2.GD-step (Eq. 3): the 'iff' at and around eps = 2/lambda_max with both engines."""
    return check_property(
        "S2.GD-step", step_cases(), gd_step_iff, ctx,
        statement="GD converges from every w0 iff 0 < eps < 2/lambda_max",
        tolerance="interval and rho decided exactly in rationals; outside: 50-digit run keeps the "
                  "v_d component (|1 - eps lambda_d| >= 1) to 1e-40",
        max_examples=ctx.n(30, 400),
    )


@check("S2.GD-rate", method="property",
       reading="Eq. (4) as printed: ||u - w_{k+1}|| <= rho(I - eps H) ||u - w_k||, Euclidean norm.")
def check_gd_rate(ctx) -> MethodResult:
    """S2.GD-rate (Eq. 4) along float64 GD trajectories of the engine."""
    return check_property(
        "S2.GD-rate", configurations(max_d=16, eps=log_floats(1e-6, 1e2)), gd_contracts, ctx,
        statement="||u - w_{k+1}|| <= rho(I - eps H) ||u - w_k|| along 10 GD steps",
        tolerance="8 d u (||w|| + eps(||g|| + lambda_max ||w||) + 2||u|| + ...)(1 + rho): "
                  "float64 rounding of one step and of the differences",
        max_examples=ctx.n(40, 600),
    )


def gd_opt_holds(p: OLSProblem, eps_opt=None, perturb: tuple = (0.5, 0.9, 0.999, 1.001, 1.1, 2.0)
                 ) -> Outcome:
    """S2.GD-opt at one problem: ``rho(eps_opt) = (kappa-1)/(kappa+1)`` (relative 16 u: both
    sides are a few correctly rounded operations on O(1) numbers), ``rho(eps) >= rho(eps_opt)``
    for perturbed ``eps`` (same tolerance), and Eq. (5) along 10 GD steps at ``eps_opt``."""
    e_opt = p.eps_opt if eps_opt is None else eps_opt(p)
    k = p.kappa
    r_opt = p.rho(e_opt)
    target = (k - 1) / (k + 1)
    tol = 16 * UNIT * max(1.0, target)
    ok = abs(r_opt - target) <= tol
    worst_other = min(p.rho(e_opt * f) for f in perturb)
    ok = ok and worst_other >= r_opt - tol
    cfg = Configuration(p, 1.0, p.u + np.ones(p.d), 1.0, e_opt)
    ok5 = bool(gd_contracts(cfg, steps=10, rate=target + tol))
    return Outcome(bool(ok and ok5), {"rho_at_eps_opt": r_opt, "printed_rate": target,
                                     "min_rho_at_perturbed_eps": worst_other, "eq5_holds": ok5})


@check("S2.GD-opt", method="property",
       reading="Eq. (5): eps_opt = 2/(lambda_max + lambda_min) minimises rho(I - eps H) and gives "
               "||u - w_{k+1}|| <= (kappa-1)/(kappa+1) ||u - w_k||.")
def check_gd_opt(ctx) -> MethodResult:
    """S2.GD-opt (Eq. 5): value and optimality of eps_opt, and the rate along GD iterates."""
    return check_property(
        "S2.GD-opt", problems(max_d=16), gd_opt_holds, ctx,
        statement="rho(eps_opt) = (kappa-1)/(kappa+1) <= rho(eps) and Eq. (5) along GD",
        tolerance="16 u on rho (few rounded operations); GD step rounding bound on Eq. (5)",
        max_examples=ctx.n(40, 600),
    )


# ----------------------------------------------------------------------------------------------
# the objective as an expectation (Eq. 6-7, 16)
# ----------------------------------------------------------------------------------------------

#: Monte Carlo: samples per point and the z-score accepted for |mean - closed form| / SE
MC_SAMPLES = 20000
MC_Z = 5.0  # two-sided P(|Z| > 5) = 5.7e-7 per point: a family of 1000 points errs w.p. < 6e-4


@dataclass(frozen=True)
class ObjectivePoint:
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


def closed_form_7(pt: ObjectivePoint, C=None) -> float:
    """Eq. (7): ``C - (w^T g/sigma) a + a^2/2`` with the garbled constant read as ``C = c/2``
    (``c = E[y^2]``), unless ``C`` (a function of the problem) is given."""
    p = pt.problem
    Cv = p.c / 2 if C is None else C(p)
    return Cv - float(pt.w @ p.g) / p.sigma(pt.w) * pt.a + 0.5 * pt.a**2


def closed_form_16(pt: ObjectivePoint) -> tuple[float, float]:
    """Eq. (16), both printed right sides: ``1/2 (u - a w/sigma)^T H (u - a w/sigma)`` and
    ``1/2 ||u||_H^2 - (w^T g/sigma) a + a^2/2``."""
    p = pt.problem
    v = p.u - pt.a / p.sigma(pt.w) * pt.w
    q = 0.5 * float(v @ p.H @ v)
    lin = 0.5 * p.u_norm_H**2 - float(pt.w @ p.g) / p.sigma(pt.w) * pt.a + 0.5 * pt.a**2
    return q, lin


def objective_matches(pt: ObjectivePoint, C=None) -> Outcome:
    """S2.BN-objective: the sampled expectation equals Eq. (7) with ``C = c/2`` within
    ``MC_Z`` standard errors (plus 1e-12 relative for the closed form's rounding)."""
    m, se = sample_objective(pt)
    J7 = closed_form_7(pt, C)
    ok = abs(m - J7) <= MC_Z * se + 1e-12 * abs(J7)
    return Outcome(ok, {"mc_mean": m, "mc_se": se, "closed_form": J7, "z": (m - J7) / se})


def e16_matches(pt: ObjectivePoint, offset=lambda p: p.noise / 2) -> Outcome:
    """E16: the two printed forms of (16) agree (relative 64 u: expanding the quadratic loses at
    most the size of its terms ||u||_H^2 + a^2 times a few roundings), and the sampled J of
    Eq. (7) equals (16) plus ``offset`` = noise/2 (the constant by which they differ), within
    ``MC_Z`` standard errors."""
    q, lin = closed_form_16(pt)
    p = pt.problem
    scale = p.u_norm_H**2 + pt.a**2 + 1e-300
    same = abs(q - lin) <= 64 * p.d * UNIT * scale
    m, se = sample_objective(pt)
    ok = same and abs(m - (q + offset(p))) <= MC_Z * se + 1e-12 * abs(q)
    return Outcome(ok, {"form_quadratic": q, "form_expanded": lin, "mc_mean": m, "mc_se": se,
                        "noise": p.noise, "J_minus_16": m - q})


@check("S2.BN-objective", method="monte-carlo",
       reading="Eq. (6)-(7): J(a,w) = 1/2 E[(y - a x^T w/sigma)^2] = C - (w^T g/sigma) a + a^2/2; "
               "the garbled constant 'C' read as c/2 = E[y^2]/2 (with y = x^T u + noise: "
               "(u^T H u + noise)/2), the only constant making (7) an identity.")
def check_bn_objective(ctx) -> MethodResult:
    """S2.BN-objective (Eq. 6-7): sampled x ~ N(0, H), y = x^T u + noise vs the closed form."""
    return check_property(
        "S2.BN-objective", objective_points(), objective_matches, ctx,
        statement=f"MC mean of 1/2 (y - a x^T w/sigma)^2 ({MC_SAMPLES} samples) = c/2 - "
                  "(w^T g/sigma) a + a^2/2",
        tolerance=f"{MC_Z:g} standard errors (two-sided 5.7e-7 per point)",
        method="monte-carlo", max_examples=ctx.n(20, 300),
    )


@check("E16", method="monte-carlo",
       reading="Eq. (16): 'an equivalent form' J = 1/2 (u - a w/sigma)^T H (u - a w/sigma) = "
               "1/2 ||u||_H^2 - (w^T g/sigma) a + a^2/2: the two right sides are equal; with "
               "noisy data they differ from J of Eq. (7) by the constant noise/2 (equal iff "
               "noise = 0), so 'equivalent' = same function up to an additive constant (same "
               "gradients, Hessians, critical points and BNGD iterates).")
def check_e16(ctx) -> MethodResult:
    """E16 (Eq. 16): the two printed forms agree, and J (sampled) = (16) + noise/2."""
    return check_property(
        "E16", objective_points(), e16_matches, ctx,
        statement="both forms of (16) agree and sampled J (Eq. 7) = (16) + noise/2",
        tolerance=f"forms: 64 d u (||u||_H^2 + a^2); sampling: {MC_Z:g} standard errors",
        method="monte-carlo", max_examples=ctx.n(20, 300),
    )


# ----------------------------------------------------------------------------------------------
# critical points and their Hessians (Eq. 8, 22-23; §A.1)
# ----------------------------------------------------------------------------------------------


def _grad_small(pt: Point) -> tuple[bool, float]:
    """Gradient (50-digit FD) vanishes: below 1e-20 of the data scale (FD error ~1e-24)."""
    G = fd_gradient_at(pt)
    scale = 1 + abs(pt.a_mp) + float(np.linalg.norm(pt.problem.g))
    err = float(max(abs(x) for x in G)) / scale
    return err <= 1e-20, err


def _signature(pt: Point) -> dict[str, Any]:
    F = fd_hessian_at(pt)
    with mpmath.workdps(DPS + 10):
        ev = L.eigvalsh_mp(F, DPS + 10)
        sc = max(abs(x) for x in ev)
        return {"negative": sum(1 for x in ev if x < -ZERO_EIG_RTOL * sc),
                "zero": sum(1 for x in ev if abs(x) <= ZERO_EIG_RTOL * sc),
                "positive": sum(1 for x in ev if x > ZERO_EIG_RTOL * sc),
                "min_eig": float(ev[0]), "max_eig": float(ev[-1])}


def trivial_saddle_holds(pt: Point) -> Outcome:
    """S2.trivial-saddles: at ``a = 0, w^T g = 0`` the gradient vanishes and the Hessian is
    indefinite (a positive and a negative eigenvalue: neither minimum nor maximum)."""
    crit, gerr = _grad_small(pt)
    sig = _signature(pt)
    return Outcome(crit and sig["negative"] >= 1 and sig["positive"] >= 1,
                   {"gradient": gerr, **sig})


def strict_saddle_holds(pt: Point) -> Outcome:
    """S2.strict: the Hessian at a saddle has a negative eigenvalue (< -1e-15 of its scale)."""
    sig = _signature(pt)
    return Outcome(sig["negative"] >= 1, sig)


def minimizer_holds(pt: Point, sign: int = 1) -> Outcome:
    """S2.minimizers at ``a* = sign(s) sqrt(u^T H u), w* = s u``: the gradient vanishes and
    ``J(a*, w*)`` is the global minimum ``noise/2`` (J >= noise/2 everywhere because it is
    ``noise/2`` plus an expected square); ``sign = -1`` flips the printed sign (mutation)."""
    if sign != 1:
        pt = Point(pt.problem, -pt.a_mp, pt.w_mp, pt.kind, pt.s)
    crit, gerr = _grad_small(pt)
    Jv = L.bn_objective_mp(pt.problem.H, pt.problem.u, pt.a_mp, list(pt.w_mp), dps=DPS)
    scale = 1 + float(pt.problem.u_norm_H) ** 2
    at_min = abs(float(Jv) - pt.problem.noise / 2) <= 1e-40 * scale
    return Outcome(crit and at_min, {"gradient": gerr, "J": float(Jv)})


def degenerate_holds(pt: Point) -> Outcome:
    """S2.degenerate: the Hessian at a global minimiser is singular (a zero eigenvalue) and
    positive semi-definite."""
    sig = _signature(pt)
    return Outcome(sig["zero"] >= 1 and sig["negative"] == 0, sig)


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


def hessian_at_minimizer_result(claim_id: str, ctx, statement: str) -> MethodResult:
    """The printed Hessian ``diag(1, H*/||w*||^2)`` at minimisers, with its correction.

    E22-23 and S3.Hstar print the same statement (Eq. 23 and Eq. 14): the search runs once per
    (profile, seed) and the second claim reuses its result (a copy naming the shared search)."""
    key = (ctx.profile, ctx.seed)
    if key not in _MIN_HESS_MEMO:
        _MIN_HESS_MEMO[key] = (statement, _hessian_at_minimizer_search(claim_id, ctx, statement))
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


@check("S2.trivial-saddles", method="numeric",
       reading="After Eq. (7): the points {a = 0, w^T g = 0} (d >= 2; for d = 1 only w = 0, where "
               "J is undefined) are critical points and saddles (indefinite Hessian).")
def check_trivial_saddles(ctx) -> MethodResult:
    """S2.trivial-saddles: zero gradient and indefinite 50-digit Hessian at exact saddles."""
    return check_property(
        "S2.trivial-saddles", hessian_points("saddle"), trivial_saddle_holds, ctx,
        statement="at a = 0, w^T g = 0: gradient = 0 and the Hessian has eigenvalues of both signs",
        tolerance="gradient <= 1e-20 of the data scale; eigenvalue signs beyond 1e-15 of the scale",
        method="numeric", max_examples=ctx.n(12, 200))


@check("S2.strict", method="numeric",
       reading="Eq. (8) text / §A.1: the saddle points are strict: the Hessian has a negative "
               "eigenvalue.")
def check_strict(ctx) -> MethodResult:
    """S2.strict: a negative eigenvalue of the 50-digit Hessian at each drawn saddle."""
    return check_property(
        "S2.strict", hessian_points("saddle"), strict_saddle_holds, ctx,
        statement="Hessian at a saddle has a negative eigenvalue",
        tolerance="negative: below -1e-15 of the spectral scale (FD error ~1e-24)",
        method="numeric", max_examples=ctx.n(12, 200))


@check("S2.minimizers", method="numeric",
       reading="Eq. (8): a* = sign(s) sqrt(u^T H u), w* = s u (s != 0) are critical points and "
               "global minimisers (J = noise/2, its infimum).")
def check_minimizers(ctx) -> MethodResult:
    """S2.minimizers (Eq. 8): zero gradient and J = noise/2 at 50 digits."""
    return check_property(
        "S2.minimizers", hessian_points("minimizer"), minimizer_holds, ctx,
        statement="(sign(s) sqrt(u^T H u), s u): gradient 0 and J = min J = noise/2",
        tolerance="gradient <= 1e-20 of the data scale (FD error ~1e-24); J to 1e-40",
        method="numeric", max_examples=ctx.n(12, 200))


@check("S2.degenerate", method="numeric",
       reading="After Eq. (8): the Hessian at each global minimiser is degenerate (singular).")
def check_degenerate(ctx) -> MethodResult:
    """S2.degenerate: the 50-digit Hessian at minimisers is PSD with a zero eigenvalue."""
    return check_property(
        "S2.degenerate", hessian_points("minimizer"), degenerate_holds, ctx,
        statement="Hessian at (a*, s u) is positive semi-definite and singular",
        tolerance="zero: |λ| <= 1e-15 of the spectral scale (FD error ~1e-24)",
        method="numeric", max_examples=ctx.n(12, 200))


@check("E22-23", method="numeric",
       reading="Eq. (22)-(23): a* = ±sqrt(u^T H u), w* ∥ u, sign(a*) = sign(u^T w*) are the "
               "nontrivial critical points, global minimisers, with Hessian diag(1, H*/||w*||^2);"
               " no normalisation of u is assumed in §A.1 (||u|| = 1 is set only from §A.3 on).")
def check_e22_23(ctx) -> MethodResult:
    """E22-23: critical/global-minimiser part and the printed Hessian at the minimisers."""
    return hessian_at_minimizer_result(
        "E22-23", ctx, "at (±sqrt(u^T H u), s u): FD Hessian = diag(1, H*/||w*||^2) as printed")


@check("E22-23", method="numeric")
def check_e22_23_critical(ctx) -> MethodResult:
    """E22-23: the points are critical and global minimisers (as S2.minimizers)."""
    return check_property(
        "E22-23", hessian_points("minimizer"), minimizer_holds, ctx,
        statement="(sign(u^T w*) sqrt(u^T H u), w* = s u): gradient 0 and J = noise/2",
        tolerance="gradient <= 1e-20 of the data scale; J to 1e-40", method="numeric",
        max_examples=ctx.n(10, 200), key_suffix="critical")




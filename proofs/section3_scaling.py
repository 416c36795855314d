"""The scaling law, Prop. 3.2 / Lemma A.8, checked on engine orbits (Def. 3.1).

Claims: P3.2-1 (both printed readings), P3.2-2.

Definition 3.1: two configurations are *equivalent* if there are an invertible linear ``T`` and a
scalar ``t != 0`` with ``w'_k = T w_k`` and ``a'_k = t a_k`` for all ``k``.  The check runs both
configurations with the engine (``bnverify.dynamics.batched.step``) for ``K = 2d + 6`` steps and
fits ``t`` and ``T`` by least squares (``T = W' W^+`` over the iterates): the orbits are
equivalent on the horizon iff both relative residuals vanish.  Float64: equivalent orbits agree to
the rounding of the iterates amplified over ``K`` steps (step sizes are kept moderate, ``eps`` in
[1e-2, 10] ``||w0||^2/lambda_max`` and ``eps_a`` in (0, 1], so the amplification stays below
~1e6): residual <= ``EQUIV_RTOL = 1e-7``; inequivalent orbits differ at O(1) (>= 1e-2 in
practice).  A residual in between is re-decided on the 50-digit orbits (``run_mp`` with the
transformed configuration built *exactly* in rationals: ``mu = m^2`` with rational ``m``,
``Q`` a product of two Householder reflections with integer vectors, so ``Q^T Q = I`` exactly).

Readings.  The conditions print as 'μ = 0, γ = 0, r = 0' (the '≠' lost): read ``mu > 0`` (so
that ``mu Q^T H Q`` is positive definite and ``sqrt(mu)`` real), ``gamma != 0``, ``r != 0``.
P3.2-1 prints ``sqrt(mu) Q u`` in the main text and ``sqrt(gamma mu) Q u`` in Lemma A.8(1); both
are checked (the appendix reading needs ``gamma > 0``).  Derivation (done by hand and checked
here as the correction): with ``H' = mu Q^T H Q``, ``w' = gamma Q^T w``, equivalence requires
``u' = (|gamma|/sqrt(mu)) Q^T u`` with ``a' = gamma a`` -- both printed forms scale ``u`` wrongly
and pair ``Q^T H Q`` with ``Q u`` (instead of ``Q^T u``).  P3.2-2 fails for ``r < 0`` (the sign of
``w^T g/sigma`` flips while ``a0`` does not): corrected ``{H, u, sign(r) a0, r w0, eps_a, r^2 eps}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from bnverify.claims import Correction, MethodResult, check
from bnverify.dynamics.batched import step
from bnverify.dynamics.mp import run_mp
from bnverify.model import OLSProblem
from bnverify.properties import Outcome, check_property
from bnverify.strategies import Configuration, initial_w, log_floats, problems

EQUIV_RTOL = 1e-7
INEQUIV_RTOL = 1e-2
MP_EQUIV_RTOL = 1e-9  # after the 50-digit orbits, only the float64 fit's own rounding remains


def householder(v: tuple[int, ...]) -> list[list[Fraction]]:
    """``I - 2 v v^T / (v^T v)`` in exact rationals (identity for v = 0)."""
    d = len(v)
    n = sum(x * x for x in v)
    return [[Fraction(int(i == j)) - (Fraction(2 * v[i] * v[j], n) if n else 0)
             for j in range(d)] for i in range(d)]


def _matmul(A, B):
    return [[sum(A[i][k] * B[k][j] for k in range(len(B))) for j in range(len(B[0]))]
            for i in range(len(A))]


def _T(A):
    return [list(r) for r in zip(*A, strict=True)]


def _matvec(A, x):
    return [sum(a * b for a, b in zip(r, x, strict=True)) for r in A]


@dataclass(frozen=True)
class ScalingCase:
    """A configuration and the parameters of a transformation (Prop. 3.2 / Lemma A.8)."""

    cfg: Configuration
    m: Fraction  # mu = m^2
    gamma: Fraction
    v1: tuple[int, ...]
    v2: tuple[int, ...]
    r: Fraction = Fraction(1)

    @property
    def Q(self):
        return _matmul(householder(self.v1), householder(self.v2))

    def describe(self) -> str:
        Qf = np.array([[float(x) for x in row] for row in self.Q])
        return (f"{self.cfg.describe()}; mu = {float(self.m * self.m):g}, gamma = "
                f"{float(self.gamma):g}, r = {float(self.r):g}, Q = {np.round(Qf, 4).tolist()}")

    def to_json(self) -> dict[str, Any]:
        return self.cfg.to_json(comment=(
            f"scaling law: mu = {self.m * self.m}, gamma = {self.gamma}, r = {self.r}, Q = "
            f"{[[str(x) for x in row] for row in self.Q]}"))


@st.composite
def scaling_cases(draw, appendix: bool = False) -> ScalingCase:
    p = draw(problems(max_d=3, kappa_max=1e3))
    w0, kind = draw(initial_w(p, ("generic", "eigenvector", "parallel-u")))
    f = draw(log_floats(1e-2, 10.0))
    eps = f * float(w0 @ w0) / p.lambda_max
    a0 = draw(st.one_of(st.just(1.0), st.floats(-3.0, 3.0)))
    eps_a = draw(st.one_of(st.just(1.0), st.floats(0.05, 1.0)))
    cfg = Configuration(p, float(a0), np.asarray(w0, dtype=float), float(eps_a), float(eps), kind)
    m = Fraction(draw(st.sampled_from(["1", "2", "1/2", "3"])))
    gl = ["1", "2", "1/2", "3"] if appendix else ["1", "-1", "2", "1/2", "-3"]
    gamma = Fraction(draw(st.sampled_from(gl)))
    ints = st.lists(st.integers(-2, 2), min_size=p.d, max_size=p.d).map(tuple)
    v1, v2 = draw(ints), draw(ints)
    r = Fraction(draw(st.sampled_from(["1", "-1", "2", "1/2", "-2"])))
    return ScalingCase(cfg, m, gamma, v1, v2, r)


def _exact(x) -> Fraction:
    return Fraction(float(x))


def transformed(case: ScalingCase, reading: str) -> dict[str, Any]:
    """The second configuration in exact rationals (``None`` entries never occur).

    readings: "main" ``{mu Q^T H Q, sqrt(mu) Q u, gamma a0, gamma Q w0}``; "appendix"
    ``{mu Q^T H Q, sqrt(gamma mu) Q u, ...}`` (gamma > 0; ``sqrt(gamma)`` must be rational: the
    drawn gamma are squares or the case is skipped); "corrected" ``{mu Q^T H Q,
    (|gamma|/sqrt(mu)) Q^T u, gamma a0, gamma Q^T w0}``; "rw" (P3.2-2) ``{H, u, a0, r w0, r^2
    eps}``; "rw-corrected" ``{H, u, sign(r) a0, r w0, r^2 eps}``.
    """
    c = case.cfg
    p = c.problem
    H = [[_exact(x) for x in row] for row in p.H]
    u = [_exact(x) for x in p.u]
    w0 = [_exact(x) for x in c.w0]
    a0 = _exact(c.a0)
    eps = _exact(c.eps)
    if reading in ("rw", "rw-corrected"):
        r = case.r
        a = a0 if reading == "rw" or r > 0 else -a0
        return dict(H=H, u=u, a0=a, w0=[r * x for x in w0], eps=r * r * eps)
    Q = case.Q
    mu = case.m * case.m
    Hq = [[mu * x for x in row] for row in _matmul(_matmul(_T(Q), H), Q)]
    g = case.gamma
    if reading == "main":
        uq = [case.m * x for x in _matvec(Q, u)]
        wq = [g * x for x in _matvec(Q, w0)]
    elif reading == "appendix":
        sg = _sqrt_fraction(g * mu)
        uq = [sg * x for x in _matvec(Q, u)]
        wq = [g * x for x in _matvec(Q, w0)]
    else:
        uq = [abs(g) / case.m * x for x in _matvec(_T(Q), u)]
        wq = [g * x for x in _matvec(_T(Q), w0)]
    return dict(H=Hq, u=uq, a0=g * a0, w0=wq, eps=eps)


def _sqrt_fraction(q: Fraction) -> Fraction:
    """Exact square root of a rational square (the drawn gamma mu are chosen so)."""
    import math

    n, d = math.isqrt(q.numerator), math.isqrt(q.denominator)
    if n * n == q.numerator and d * d == q.denominator:
        return Fraction(n, d)
    return Fraction(float(np.sqrt(float(q))))  # not a square: rounded (documented in the reading)


def _orbit_float(H, u, a0, w0, eps, eps_a, K) -> tuple[np.ndarray, np.ndarray]:
    p = OLSProblem(np.array([[float(x) for x in row] for row in H]), [float(x) for x in u])
    a, w = float(a0), np.array([float(x) for x in w0])
    A, W = [a], [w]
    for _ in range(K):
        a, w = step(p, "bngd", a, w, float(eps), float(eps_a))
        a = float(a)
        A.append(a)
        W.append(w)
    return np.array(A), np.array(W).T


def _orbit_mp(H, u, a0, w0, eps, eps_a, K) -> tuple[np.ndarray, np.ndarray]:
    A, W = [], []
    for k in range(K + 1):
        r = run_mp(H=H, u=u, w0=w0, eps=eps, eps_a=_exact(eps_a), a0=a0, steps=k, precision=50)
        A.append(float(r.a))
        W.append([float(x) for x in r.w])
    return np.array(A), np.array(W).T


def orbit_residuals(A, W, A2, W2) -> tuple[float, float]:
    """Least-squares fit ``a' = t a``, ``W' = T W``: relative residuals (Def. 3.1 on a horizon)."""
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(W2))):
        return float("inf"), float("inf")
    na = float(np.linalg.norm(A))
    t = float(A @ A2) / na**2 if na > 0 else 0.0
    ra = float(np.linalg.norm(A2 - t * A)) / max(float(np.linalg.norm(A2)), 1e-300)
    if na == 0 and np.linalg.norm(A2) == 0:
        ra = 0.0
    # singular directions of W below 1e-10 of the largest are dropped: they carry only rounding
    # (orbits that stay near a line), and an exact T (|gamma| <= 3) maps them to < 1e-9 of W'
    T = W2 @ np.linalg.pinv(W, rcond=1e-10)
    rw = float(np.linalg.norm(W2 - T @ W)) / max(float(np.linalg.norm(W2)), 1e-300)
    return ra, rw


def equivalent(case: ScalingCase, reading: str) -> Outcome:
    """Are ``case.cfg`` and its transform under ``reading`` equivalent (Def. 3.1) on ``2d + 6``
    engine steps?  Float64 first; borderline residuals re-decided on 50-digit orbits."""
    c = case.cfg
    p = c.problem
    K = 2 * p.d + 6
    base = dict(H=[[_exact(x) for x in row] for row in p.H], u=[_exact(x) for x in p.u],
                a0=_exact(c.a0), w0=[_exact(x) for x in c.w0], eps=_exact(c.eps))
    tr = transformed(case, reading)
    A, W = _orbit_float(**base, eps_a=c.eps_a, K=K)
    A2, W2 = _orbit_float(**tr, eps_a=c.eps_a, K=K)
    ra, rw = orbit_residuals(A, W, A2, W2)
    worst = max(ra, rw)
    meas = {"residual_a": ra, "residual_w": rw, "steps": K, "decided_at": "float64"}
    if worst <= EQUIV_RTOL:
        return Outcome(True, meas)
    if worst >= INEQUIV_RTOL:
        return Outcome(False, meas)
    A, W = _orbit_mp(**base, eps_a=c.eps_a, K=K)
    A2, W2 = _orbit_mp(**tr, eps_a=c.eps_a, K=K)
    ra, rw = orbit_residuals(A, W, A2, W2)
    meas.update(residual_a=ra, residual_w=rw, decided_at="50 digits")
    return Outcome(max(ra, rw) <= MP_EQUIV_RTOL, meas)


TOL = (f"orbit residuals of the least-squares fit of (t, T): <= {EQUIV_RTOL:g} equivalent, >= "
       f"{INEQUIV_RTOL:g} not; in between re-decided on 50-digit orbits ({MP_EQUIV_RTOL:g})")


def _corrected_result(ctx, claim_id: str, reading: str, statement: str, appendix=False):
    return check_property(
        claim_id, scaling_cases(appendix), lambda c: equivalent(c, reading), ctx,
        statement=statement, tolerance=TOL, max_examples=ctx.n(12, 400),
        key_suffix=f"{reading}-check")


P321_READING = (
    "Prop. 3.2(1) / Lemma A.8(1): {mu Q^T H Q, sqrt(mu) Q u, gamma a0, gamma Q w0, eps_a, eps} and "
    "{H, u, a0, w0, eps_a, eps} equivalent (Def. 3.1) for mu > 0, gamma != 0, Q^T Q = I (printed "
    "'μ = 0, γ = 0' read as ≠, and mu > 0 for a positive definite mu Q^T H Q); the appendix prints "
    "sqrt(gamma mu) Q u instead (checked for gamma > 0). Both readings checked.")


def _p321_correction(ctx) -> Correction:
    r = _corrected_result(
        ctx, "P3.2-1", "corrected",
        "{mu Q^T H Q, (|gamma|/sqrt(mu)) Q^T u, gamma a0, gamma Q^T w0, eps_a, eps} ~ {H, u, a0, "
        "w0, eps_a, eps}")
    return Correction(
        "For mu > 0, gamma != 0, Q^T Q = I: {mu Q^T H Q, (|gamma|/sqrt(mu)) Q^T u, gamma a0, "
        "gamma Q^T w0, eps_a, eps} is equivalent to {H, u, a0, w0, eps_a, eps} (T = gamma Q^T, "
        "t = gamma); equivalently {mu Q H Q^T, (|gamma|/sqrt(mu)) Q u, gamma a0, gamma Q w0, "
        "eps_a, eps}.", r.verdict, r.evidence)


@check("P3.2-1", method="property", reading=P321_READING)
def check_p321_main(ctx) -> MethodResult:
    """P3.2-1, main-text reading sqrt(mu) Q u: engine orbits vs Def. 3.1."""
    return check_property(
        "P3.2-1", scaling_cases(), lambda c: equivalent(c, "main"), ctx,
        statement="{mu Q^T H Q, sqrt(mu) Q u, gamma a0, gamma Q w0} ~ {H, u, a0, w0} (main text)",
        tolerance=TOL, max_examples=ctx.n(15, 400), key_suffix="main",
        correction=lambda _x: _p321_correction(ctx))


@check("P3.2-1", method="property")
def check_p321_appendix(ctx) -> MethodResult:
    """P3.2-1, appendix reading sqrt(gamma mu) Q u (gamma > 0)."""
    return check_property(
        "P3.2-1", scaling_cases(appendix=True), lambda c: equivalent(c, "appendix"), ctx,
        statement="{mu Q^T H Q, sqrt(gamma mu) Q u, gamma a0, gamma Q w0} ~ {H, u, a0, w0} "
                  "(Lemma A.8, gamma > 0)",
        tolerance=TOL, max_examples=ctx.n(15, 400), key_suffix="appendix",
        correction=lambda _x: _p321_correction(ctx))


@check("P3.2-2", method="property",
       reading="Prop. 3.2(2): {H, u, a0, w0, eps_a, eps} and {H, u, a0, r w0, eps_a, r^2 eps} are "
               "equivalent for r != 0 (printed 'r = 0', the ≠ lost).")
def check_p322(ctx) -> MethodResult:
    """P3.2-2: w0 -> r w0, eps -> r^2 eps on engine orbits (r of both signs)."""

    def corr(_x):
        r = _corrected_result(ctx, "P3.2-2", "rw-corrected",
                              "{H, u, sign(r) a0, r w0, eps_a, r^2 eps} ~ {H, u, a0, w0, eps_a, eps}")
        return Correction(
            "For r > 0 as printed; for any r != 0, {H, u, sign(r) a0, r w0, eps_a, r^2 eps} is "
            "equivalent to {H, u, a0, w0, eps_a, eps} (T = r I, t = sign(r)): with r < 0 and the "
            "same a0 the a-orbit is pulled toward -w^T g/sigma instead.", r.verdict, r.evidence)

    return check_property(
        "P3.2-2", scaling_cases(), lambda c: equivalent(c, "rw"), ctx,
        statement="{H, u, a0, r w0, eps_a, r^2 eps} ~ {H, u, a0, w0, eps_a, eps}", tolerance=TOL,
        max_examples=ctx.n(15, 400), key_suffix="rw", correction=corr)

"""Orbit fitting for the scaling law (Definition 3.1, Prop. 3.2, Lemma A.8).

:class:`ScalingCase` is a configuration and a transformation ``(m, gamma, Q, r)``;
:func:`transformed` builds the transformed configuration (exactly, in rationals: ``mu = m^2``,
``Q`` a product of two Householder reflections with integer vectors); :func:`orbit_residuals`
runs both orbits and fits ``t`` and ``T`` by least squares (``T = W' W^+``); :func:`equivalent`
decides equivalence on the horizon (float64 residual <= ``EQUIV_RTOL``, otherwise re-decided on
the 50-digit orbits).  Used by ``proofs/sec3_1_scaling.py``, the severity probes and
``bnverify replay``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from bnverify.dynamics.batched import step
from bnverify.dynamics.mp import run_mp
from bnverify.model import OLSProblem
from bnverify.properties import Outcome
from bnverify.strategies import Configuration

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
        sg = sqrt_fraction(g * mu)
        uq = [sg * x for x in _matvec(Q, u)]
        wq = [g * x for x in _matvec(Q, w0)]
    else:
        uq = [abs(g) / case.m * x for x in _matvec(_T(Q), u)]
        wq = [g * x for x in _matvec(_T(Q), w0)]
    return dict(H=Hq, u=uq, a0=g * a0, w0=wq, eps=eps)


def sqrt_fraction(q: Fraction) -> Fraction:
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

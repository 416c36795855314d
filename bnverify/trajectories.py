"""Engine trajectories and per-step quantities for the rate identities (§3.3, §A.3, §A.5).

:func:`rate_configs` draws configurations (generic, near-saddle, eigenvector and near-minimiser
initial values); :func:`trajectory` runs the engine ``STEPS`` steps; :func:`step_quantities`
gives ``eps^_k``, ``e_k``, ``sigma_k``, ... per step; :func:`mp_state` the same at 50 digits.
``trajectory_property`` runs a property over the drawn trajectories with rounding tolerance ``16 d u S``
(:func:`norm_tolerance`); :func:`la22_holds` is Lemma A.22's inequality (shared by P3.4 and L-A.22).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from hypothesis import strategies as st

from bnverify import linalg_mp as L
from bnverify.claims import MethodResult
from bnverify.dynamics.batched import step
from bnverify.dynamics.mp import run_mp
from bnverify.model import OLSProblem, spectral_radius
from bnverify.properties import Outcome, check_property
from bnverify.strategies import (
    Configuration,
    a0_values,
    initial_w,
    log_floats,
    problems,
    unit_vectors,
)

UNIT = float(np.finfo(float).eps)  # unit roundoff 2^-52 (the spacing of doubles at 1)
DPS = 50  # working digits of the mpmath cross-checks (= bnverify.linalg_mp.DPS)

STEPS = 8


MP_TOL = mpmath.mpf("1e-35")


@st.composite
def rate_configs(draw, near_minimizer: bool | None = None, max_d: int = 6) -> Configuration:
    """A BNGD configuration; ``near_minimizer`` (or a coin) puts ``(a0, w0)`` at relative distance
    ``eta`` in [1e-6, 1e-1] from a minimiser ``(sqrt(u^T H u), s u)`` (small ``delta_k``)."""
    p = draw(problems(max_d=max_d, kappa_max=1e6))
    near = draw(st.booleans()) if near_minimizer is None else near_minimizer
    if near:
        eta = draw(log_floats(1e-6, 1e-1, shrink_to=1e-3))
        v = draw(unit_vectors(p.d))
        s = draw(st.sampled_from([1.0, 1e-2, 1e2]))
        w0 = s * (p.u + eta * np.linalg.norm(p.u) * v)
        a0 = p.u_norm_H * (1 + eta * draw(st.floats(-1.0, 1.0)))
        kind = f"near-minimiser (eta = {eta:.3g})"
    else:
        w0, kind = draw(initial_w(p, ("generic", "near-saddle", "eigenvector", "perp-g")))
        a0 = draw(a0_values(-1e2, 1e2))
    f = draw(log_floats(1e-3, 1e3))
    eps = f * float(w0 @ w0) / p.lambda_max
    eps_a = draw(st.one_of(st.just(1.0), st.floats(0.01, 1.99)))
    return Configuration(p, float(a0), np.asarray(w0, dtype=float), float(eps_a), float(eps), kind)


@dataclass
class Trajectory:
    """The iterates ``a_k``, ``w_k`` of one engine run."""

    a: list
    w: list


def trajectory(cfg: Configuration, steps: int = STEPS) -> Trajectory:
    """``(a_k, w_k)``, k = 0..steps, from the engine's ``step`` (stops at a non-finite state)."""
    a, w = float(cfg.a0), np.asarray(cfg.w0, dtype=float)
    A, W = [a], [w]
    for _ in range(steps):
        an, wn = step(cfg.problem, "bngd", a, w, cfg.eps, cfg.eps_a)
        an = float(an)
        if not (np.isfinite(an) and np.all(np.isfinite(wn))) or not np.any(wn):
            break
        a, w = an, wn
        A.append(a)
        W.append(w)
    return Trajectory(A, W)


def _mp_iterates(cfg: Configuration, k: int) -> tuple[Any, list]:
    """``(a_k, w_k)`` of the 50-digit engine (``run_mp``) for the same configuration."""
    p = cfg.problem
    kw = {"H_diag": np.diag(p.H).tolist()} if p.is_diagonal else {"H": p.H.tolist()}
    r = run_mp(u=p.u.tolist(), w0=np.asarray(cfg.w0).tolist(), eps=cfg.eps, eps_a=cfg.eps_a,
               a0=cfg.a0, steps=k, precision=DPS, **kw)
    return r.a, r.w


@dataclass
class MPState:
    """Quantities of Eq. 11-15, 62 at step k of the 50-digit trajectory."""

    e_norm: Any
    e_next_norm: Any
    mid_norm: Any  # ||u - t_k w_{k+1}||_H
    eps_hat: Any
    rho: Any
    rho_star: Any
    delta: Any
    abs_tol: Any  # 50-digit rounding of the residual norms: 1e-44 (||u||_H + |t_k| sigma_k)


def mp_state(cfg: Configuration, k: int) -> MPState:
    """The quantities of eq. 11-15, 62 at step ``k`` of the 50-digit trajectory."""
    p = cfg.problem
    a, w = _mp_iterates(cfg, k)
    _, w1 = _mp_iterates(cfg, k + 1)
    with mpmath.workdps(DPS):
        H = L.to_mp_matrix(p.H)
        u = L.to_mp_vector(p.u)
        g = L.mat_vec(H, u)

        def tt(x):
            return L.dot(x, g) / L.dot(x, L.mat_vec(H, x))

        def e_of(x, t):
            return [ui - t * xi for ui, xi in zip(u, x, strict=True)]

        t0, t1 = tt(w), tt(w1)
        s2 = L.dot(w, L.mat_vec(H, w))
        en = L.norm_H_mp(H, e_of(w, t0))
        eh = mpmath.mpf(cfg.eps) * a / mpmath.sqrt(s2) * t0
        # spectra of the float64 data themselves (a dense H is Q diag Q^T only up to rounding)
        lm = L.eigvalsh_mp(H, DPS)
        ls = L.eigvalsh_mp(L.h_star_mp(H, u, DPS), DPS) if p.d > 1 else [mpmath.mpf(0)]
        rs = L.spectral_radius_mp(eh, [ls[1], ls[-1]]) if p.d > 1 else mpmath.mpf(0)
        return MPState(en, L.norm_H_mp(H, e_of(w1, t1)), L.norm_H_mp(H, e_of(w1, t0)), eh,
                       L.spectral_radius_mp(eh, lm), rs,
                       lm[-1] * mpmath.mpf(cfg.eps) * abs(a) * en / s2,
                       mpmath.mpf("1e-44") * (L.norm_H_mp(H, u) + abs(t0) * mpmath.sqrt(s2)))


@dataclass
class StepQ:
    """Float64 quantities at step k (model.py formulas) and rounding scales."""

    a: float
    w: np.ndarray
    w1: np.ndarray
    a1: float
    t: float
    sigma: float
    e: np.ndarray
    e_norm: float
    eps_hat: float
    coef: float  # eps a_k / sigma_k
    tol_vec: float  # rounding bound of vector identities at this step (Euclidean)
    tol_t: float  # rounding bound of t_k


def step_quantities(cfg: Configuration, tr: Trajectory, k: int) -> StepQ:
    """Quantities at step k with rounding scales.  ``S = ||u|| + |t|(||w_k|| + ||w_{k+1}||) +
    |eps^| lambda_max (||u|| + |t| ||w_k||) + |t| |eps a/sigma| M``, ``M = (||g|| + |t| lambda_max
    ||w||)(1 + lambda_max ||w||^2/sigma^2)`` (the step's rounding, including that of its own
    ``t``, which is amplified by the conditioning ``lambda_max ||w||^2/sigma^2 <= kappa``)."""
    p = cfg.problem
    a, w, a1, w1 = tr.a[k], tr.w[k], tr.a[k + 1], tr.w[k + 1]
    s2 = float(w @ p.H @ w)
    t = float(w @ p.g) / s2
    e = p.e(w)
    eh = p.effective_step(cfg.eps, a, w)
    coef = cfg.eps * a / np.sqrt(s2)
    nw, nw1, nu, ng = (np.linalg.norm(x) for x in (w, w1, p.u, p.g))
    lam = p.lambda_max
    cond = 1 + lam * nw**2 / s2
    M = (ng + abs(t) * lam * nw) * cond
    S = nu + abs(t) * (nw + nw1) + abs(eh) * lam * (nu + abs(t) * nw) + abs(t) * abs(coef) * M
    tol_t = p.d * UNIT * (ng * nw + abs(t) * lam * nw**2) / s2
    return StepQ(a, w, w1, a1, t, np.sqrt(s2), e, p.norm_H(e), eh, coef,
                 16 * p.d * UNIT * S, tol_t)


def along_trajectory(cfg: Configuration, fn, steps: int = STEPS) -> Outcome:
    """Apply ``fn(k, StepQ) -> (ok, borderline, info)`` at every step; borderline steps are
    re-decided by ``fn.mp(k)`` when given."""
    tr = trajectory(cfg, steps)
    worst: dict[str, Any] = {"steps": len(tr.a) - 1}
    n_mp = 0
    for k in range(len(tr.a) - 1):
        q = step_quantities(cfg, tr, k)
        ok, border, info = fn(k, q, tr)
        if not ok and border and hasattr(fn, "mp"):
            n_mp += 1
            ok, info = fn.mp(cfg, k)
            info = {**info, "decided_at": "50 digits"}
        if not ok:
            return Outcome(False, {"step": k, **info})
    worst["mp_decisions"] = n_mp
    return Outcome(True, worst)


def norm_tolerance(p: OLSProblem, q: StepQ) -> float:
    """H-norm rounding of the residual vectors: ``sqrt(lambda_max)`` times ``tol_vec``."""
    return float(np.sqrt(p.lambda_max)) * q.tol_vec


def _hstar_pair(p: OLSProblem) -> np.ndarray:
    ls = p.h_star_eigenvalues()
    return np.array([ls[1], ls[-1]]) if p.d > 1 else np.array([0.0])


def la22_holds(cfg: Configuration, reading: str = "L-A.22") -> Outcome:
    """Eq. (62): ``(1 - delta_k) ||e_{k+1}||_H <= (rho*(I - eps^_k H*) + delta_k) ||e_k||_H``;
    ``reading``: "L-A.22" (62), "P3.4a" (if ``delta_k < 1``: ``||e_{k+1}|| <= min{(rho* +
    delta_k)/(1 - delta_k), rho} ||e_k||``), "P3.4b" (literal ``min{rho* + delta_k, rho}``).
    (P3.4 for a given ``delta >= delta_k`` follows, the bounds being increasing in ``delta``.)
    "no-delta" drops ``delta_k`` (a deliberately wrong variant for the mutation test).
    ``rho*`` with float64 eigenvalues of H* (error ``d u lambda_max``, times ``|eps^|``).
    Margin as Eq. (13); borderline steps re-decided at 50 digits."""
    p = cfg.problem
    pair = _hstar_pair(p)

    def bound(rs, rho, dl):
        if reading == "L-A.22":
            return None
        a = (rs + dl) / (1 - dl) if reading == "P3.4a" else rs + dl
        return min(a, rho)

    def fn(k, q, tr):
        t1 = float(q.w1 @ p.g) / float(q.w1 @ p.H @ q.w1)
        en1 = p.norm_H(p.u - t1 * q.w1)
        dl = p.lambda_max * cfg.eps * abs(q.a) * q.e_norm / q.sigma**2
        rs = float(spectral_radius(q.eps_hat, pair)) if p.d > 1 else 0.0
        rho = p.rho(q.eps_hat)
        tol = 2 * norm_tolerance(p, q) + 4 * p.d * UNIT * abs(q.eps_hat) * p.lambda_max * q.e_norm
        tol *= 2 + dl
        if reading == "L-A.22":
            lhs, rhs = (1 - dl) * en1, (rs + dl) * q.e_norm
        elif reading == "no-delta":  # mutation: drop delta_k from (62)
            lhs, rhs = en1, rs * q.e_norm
        else:
            if dl >= 1:
                return True, False, {}
            lhs, rhs = en1, bound(rs, rho, dl) * q.e_norm
            tol /= 1 - dl
        ok = lhs <= rhs + tol
        border = ok and lhs > rhs
        return ok and not border, border, {"lhs": lhs, "rhs": rhs, "delta_k": dl,
                                           "rho_star": rs, "tolerance": tol}

    def mp_fn(cfg, k):
        with mpmath.workdps(DPS):
            return _mp_la22(cfg, k, reading)

    fn.mp = mp_fn
    return along_trajectory(cfg, fn)


def _mp_la22(cfg, k, reading):
    if True:
        s = mp_state(cfg, k)
        if reading == "L-A.22":
            lhs, rhs = (1 - s.delta) * s.e_next_norm, (s.rho_star + s.delta) * s.e_norm
        else:
            if s.delta >= 1:
                return True, {}
            a = (s.rho_star + s.delta) / (1 - s.delta) if reading == "P3.4a" else s.rho_star + s.delta
            lhs, rhs = s.e_next_norm, min(a, s.rho) * s.e_norm
        return bool(lhs <= rhs + MP_TOL * s.e_norm + 4 * s.abs_tol), {"lhs": float(lhs), "rhs": float(rhs),
                                                      "delta_k": float(s.delta)}


def trajectory_property(claim_id: str, holds, ctx, statement: str, tolerance: str,
                        n=(20, 400), strategy=None, key: str = "",
                        correction=None) -> MethodResult:
    """Run the property ``holds`` over drawn configurations (:func:`rate_configs`) with
    ``bnverify.properties.check_property``."""
    strategy = strategy if strategy is not None else rate_configs()
    return check_property(claim_id, strategy, holds, ctx, statement=statement,
                          tolerance=tolerance, max_examples=ctx.n(*n), key_suffix=key,
                          correction=correction)


TOL_INEQ = "H-norm rounding of the residuals as margin; borderline steps re-decided at 50 digits"

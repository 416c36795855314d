"""§3.3 Convergence rate, acceleration and asymptotic sensitivity -- claims S3.eff-step (eq. 11),
S3.recurrence (eq. 12), S3.contraction (eq. 13), S3.linear (after eq. 13), S3.Hstar (eq. 14,
stated again as eq. 23 in §A.1), S3.Hstar-psd (after eq. 14), P3.4 (Prop. 3.4, eq. 15),
S3.acceleration (after Prop. 3.4), P3.5 (Prop. 3.5), S3.insensitive (after Prop. 3.5).

* Identities and inequalities along engine trajectories (:mod:`bnverify.trajectories`): each
  identity is compared with a rounding tolerance ``16 d u S`` (``S`` the magnitude of the terms it
  sums, ``u = 2^-52``); an inequality violated by less than its tolerance is re-decided on the
  50-digit trajectory of the same configuration.
* Statements about the spectrum of ``H* = H - H u u^T H/(u^T H u)`` are decided at 50 digits
  (:mod:`bnverify.hstar`); the strictness statements fail when an extreme eigenvalue of ``H`` is
  repeated, and corrected statements are derived and checked.
* Asymptotic statements (S3.linear, P3.5, S3.insensitive) are checked by sweeps that estimate the
  constants and report them.
* symbolic (``@derivation``): the effective step, the recurrence and H* for general d.

Readings.  ``delta_k`` of Lemma A.22 / Prop. 3.4 prints as ``λmax £| ak | / σ2 ∣ek∣H``; read as
``delta_k = lambda_max eps |a_k| ||e_k||_H / sigma_k^2``.  The bound of Eq. (15) prints as
``min{Py-I-H*)+δ, ρ(I - εkH)}``: read (a) as ``(rho* + delta)/(1 - delta)`` (what Lemma A.22
gives; the catalogue's reading) and (b) literally as ``rho* + delta``; both are checked.  P3.5:
the garbled hypothesis ``||g||^2 >= 篝 g^T H w0`` is read as ``||g||^2 >= (w0^T g / sigma0^2) g^T H
w0``; "for all k" includes ``k = 0``.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from hypothesis import strategies as st

from bnverify import linalg_mp as L
from bnverify.claims import CheckContext, Correction, MethodResult, Replay, certify, check
from bnverify.convergence import (
    eps0_lemma_a12,
    random_problem,
    trajectory,
    trajectory_scalars,
    unit_rows,
)
from bnverify.dynamics.batched import run
from bnverify.exact_replay import (
    dot,
    exact_text,
    mv,
    problem,
    q,
    replay_almost_all,
    replay_minimiser_hessian,
)
from bnverify.hstar import (
    EQ_RTOL,
    ProblemVector,
    almost_all_result,
    hstar_problems,
    mp_equal,
    problem_and_eps,
    spectra_mp,
)
from bnverify.model import OLSProblem
from bnverify.objective_points import hessian_at_minimizer_result
from bnverify.probes import hstar_probe, spectral_probe_of
from bnverify.properties import Outcome, check_property
from bnverify.severity import Severity, probe
from bnverify.strategies import (
    Configuration,
    configurations,
    log_floats,
)
from bnverify.symbolic import algebra as A
from bnverify.symbolic import objective as O
from bnverify.symbolic.claims_support import (
    minimizer_derivation,
    minimizer_hessian_compare,
    sym_objective,
)
from bnverify.symbolic.derivation import Derivation, derivation
from bnverify.symbolic.explicit import Instance
from bnverify.trajectories import (
    MP_TOL,
    STEPS,
    TOL_INEQ,
    along_trajectory,
    la22_holds,
    mp_state,
    norm_tolerance,
    rate_configs,
    trajectory_property,
)

a, sigma, y, nu, eps, g, w, u = A.a, A.sigma, A.y, A.nu, A.eps, A.g, A.w, A.u
UNIT = float(np.finfo(float).eps)  # unit roundoff 2^-52 (the spacing of doubles at 1)
EPS_MACH = float(np.finfo(float).eps)
DPS = 50  # working digits of the mpmath cross-checks (= bnverify.linalg_mp.DPS)

@check("S3.Hstar", method="numeric",
       reading="Eq. (14), (23): the Hessian of J at a minimiser (a*, w*) is diag(1, H*/||w*||^2),"
               " H* = H - H u u^T H/(u^T H u); no normalisation of u is stated there.")
def check_hstar(ctx) -> MethodResult:
    """S3.Hstar: the 50-digit FD Hessian at minimisers vs diag(1, H*/||w*||^2) (printed)."""
    return hessian_at_minimizer_result(
        "S3.Hstar", ctx, "FD Hessian at (a*, s u) = diag(1, H*/||w*||^2) as printed (Eq. 14)")


def hstar_psd_holds(p: OLSProblem, strict_kappa: bool = False) -> Outcome:
    """S3.Hstar-psd (deterministic part): H* PSD, H* u = 0 (float64: ``||H* u|| <= 8 d u
    lambda_max ||u||``, the rounding of forming H* and the product), kappa* <= kappa (50 digits).
    ``strict_kappa`` demands kappa* < kappa (mutation / the a.a. part)."""
    lam, ls = spectra_mp(p)
    scale = lam[-1]
    Hs_u = p.h_star() @ p.u
    null_ok = float(np.linalg.norm(Hs_u)) <= 8 * p.d * UNIT * p.lambda_max * float(np.linalg.norm(p.u))
    psd = ls[0] >= -EQ_RTOL * scale
    if p.d < 2:
        return Outcome(bool(psd and null_ok), {"d": 1})
    kstar, kap = ls[-1] / ls[1], lam[-1] / lam[0]
    kappa_ok = (kstar < kap and not mp_equal(kstar * lam[0], kap * lam[0], scale)) if strict_kappa \
        else kstar <= kap * (1 + EQ_RTOL)
    return Outcome(bool(psd and null_ok and kappa_ok),
                   {"kappa_star": float(kstar), "kappa": float(kap), "H*u": float(np.linalg.norm(Hs_u))})


@check("S3.Hstar-psd", method="property",
       reading="After Eq. (14): H* is PSD, H* u = 0, kappa* = lambda*_max/lambda*_min (nonzero "
               "eigenvalues, d >= 2) <= kappa, and kappa* < kappa for almost all u (Lebesgue-almost"
               " all u for fixed H).")
def check_hstar_psd(ctx) -> MethodResult:
    """S3.Hstar-psd: PSD, null vector u and kappa* <= kappa, decided at 50 digits."""
    return check_property(
        "S3.Hstar-psd", hstar_problems(), hstar_psd_holds, ctx,
        statement="H* PSD, H* u = 0, kappa* <= kappa",
        tolerance="spectra at 50 digits (1e-35); H* u: 8 d u lambda_max ||u|| (float64)",
        max_examples=ctx.n(20, 400))


@check("S3.Hstar-psd", method="monte-carlo")
def check_hstar_psd_aa(ctx) -> MethodResult:
    """S3.Hstar-psd, 'kappa* < kappa for almost all u': random u for each drawn H."""
    return almost_all_result("S3.Hstar-psd", ctx, "27", "kappa* < kappa for almost all u (random u)")


def acceleration_holds(pv: ProblemVector, use_kappa_star: bool = True) -> Outcome:
    """S3.acceleration at 50 digits: ``rho* <= rho`` at ``eps`` (> 0); ``rho*_opt =
    min_eps rho*(eps)`` equals ``(kappa*-1)/(kappa*+1)`` (attained at ``2/(lambda*_min +
    lambda*_max)``, not beaten at ``eps``) and is ``<= (kappa-1)/(kappa+1)``.
    ``use_kappa_star=False`` (mutation) uses ``kappa`` in the formula for ``rho*_opt``."""
    p, eps = pv.p, pv.eps
    lam, ls = spectra_mp(p)
    with mpmath.workdps(DPS):
        e = mpmath.mpf(eps)
        r = L.spectral_radius_mp(e, lam)
        pair = [ls[1], ls[-1]]
        rs = L.spectral_radius_mp(e, pair)
        ks, k = ls[-1] / ls[1], lam[-1] / lam[0]
        kk = ks if use_kappa_star else k
        opt_formula = (kk - 1) / (kk + 1)
        opt_attained = L.spectral_radius_mp(2 / (ls[1] + ls[-1]), pair)
        ok = (rs <= r + EQ_RTOL and mp_equal(opt_formula, opt_attained, 1)
              and opt_attained <= rs + EQ_RTOL and opt_formula <= (k - 1) / (k + 1) + EQ_RTOL)
    return Outcome(bool(ok), {"rho": float(r), "rho_star": float(rs),
                              "rho_star_opt": float(opt_attained), "rho_opt": float((k - 1) / (k + 1))})


@check("S3.acceleration", method="property",
       reading="After Prop. 3.4: rho*(I - eps H*) <= rho(I - eps H) for eps > 0; rho*_opt := "
               "(kappa*-1)/(kappa*+1) (the minimum over eps of rho*) <= (kappa-1)/(kappa+1); "
               "strict for almost all u.")
def check_acceleration(ctx) -> MethodResult:
    return check_property(
        "S3.acceleration", problem_and_eps(), acceleration_holds, ctx,
        statement="rho* <= rho; rho*_opt = (kappa*-1)/(kappa*+1) = min rho* <= (kappa-1)/(kappa+1)",
        tolerance="50-digit spectra, equality to 1e-35", max_examples=ctx.n(20, 500))


@check("S3.acceleration", method="monte-carlo")
def check_acceleration_aa(ctx) -> MethodResult:
    """S3.acceleration, 'strict for almost all u' (rho*_opt < rho_opt iff kappa* < kappa)."""
    return almost_all_result("S3.acceleration", ctx, "27",
                      "rho*_opt < rho_opt (kappa* < kappa) for almost all u (random u)")


LINEAR_STEPS = 100


def linear_rate_holds(c: Configuration, *, delta_frac: float = 0.05,
                      upper: Callable[[OLSProblem], float] | None = None) -> Outcome:
    """On the steps whose effective step (Eq. 11) lies in ``(delta, U - delta)`` with
    ``U = 2/lambda_max`` (``upper`` overrides ``U``, for mutation tests) and
    ``delta = delta_frac / lambda_max``, the contraction ``||e_(k+1)||_H <= (1 - delta
    lambda_min) ||e_k||_H`` holds (the linear rate implied by Eq. 13:
    ``rho(I - eps^ H) <= 1 - delta lambda_min`` on that band).  Tolerance: absolute
    ``64 d 2^-52 sqrt(kappa) ||u||_H`` (the float64 floor of ``||e||_H``) plus relative 1e-12."""
    p = c.problem
    U = 2.0 / p.lambda_max if upper is None else upper(p)
    delta = delta_frac / p.lambda_max
    A, W = trajectory(p, "bngd", a0=c.a0, w0=c.w0, eps=c.eps, eps_a=c.eps_a, steps=LINEAR_STEPS)
    s = trajectory_scalars(p, A, W, c.eps)
    e, eff = s["e_norm_H"], s["eff_step"]
    band = (eff[:-1] > delta) & (eff[:-1] < U - delta) & np.isfinite(e[1:])
    if not band.any():
        return Outcome(True, {"steps_in_band": 0})
    floor = 64 * p.d * EPS_MACH * np.sqrt(p.kappa) * p.u_norm_H
    rate = 1.0 - delta * p.lambda_min
    lhs, rhs = e[1:][band], rate * e[:-1][band] * (1 + 1e-12) + floor
    with np.errstate(all="ignore"):
        ratios = np.where(e[:-1][band] > floor, e[1:][band] / e[:-1][band], 0.0)
    return Outcome(bool(np.all(lhs <= rhs)), {
        "steps_in_band": int(band.sum()), "max_observed_ratio": float(ratios.max()),
        "bound_1_minus_delta_lambda_min": rate})


def linear_strategy():
    return configurations(max_d=6, kappa_max=1e4, eps_a=st.floats(0.05, 1.0),
                          eps=log_floats(1e-2, 1e3), w0_kinds=("generic", "eigenvector"),
                          degenerate_u=False)


@check("S3.linear", method="property", reading=(
    "'linear' read as: on steps with eps^_k in (delta, 2/lambda_max - delta), ||e_(k+1)||_H <= "
    "(1 - delta lambda_min) ||e_k||_H (the rate rho(I - eps^ H) is at most 1 - delta lambda_min "
    "there); checked with delta = 0.05/lambda_max along BNGD runs."))
def linear_property(ctx: CheckContext) -> MethodResult:
    res = check_property(
        "S3.linear", linear_strategy(), linear_rate_holds, ctx,
        statement="||e_(k+1)||_H <= (1 - delta lambda_min)||e_k||_H when eps^_k in band",
        tolerance="relative 1e-12 plus the float64 floor 64 d 2^-52 sqrt(kappa) ||u||_H",
        max_examples=ctx.n(30, 400))
    return res


def p35_configurations(rng: np.random.Generator, n: int) -> list[tuple[OLSProblem, dict]]:
    """Problems and initial values satisfying Prop. 3.5's hypotheses: ``eps_a`` in (0, 1],
    ``a0 w0^T g > 0``, ``||g||^2 >= (w0^T g / sigma0^2) g^T H w0`` (redrawn until they hold),
    ``||w0|| = 1``."""
    out = []
    while len(out) < n:
        p = random_problem(rng, (2, 5), 30.0)
        w0 = unit_rows(rng, 1, p.d)[0]
        y0 = w0 @ p.g
        s2 = w0 @ p.H @ w0
        if p.g @ p.g < y0 / s2 * (p.g @ p.H @ w0):
            continue
        a0 = np.sign(y0) * 10 ** rng.uniform(-1, 1)
        out.append((p, {"a0": a0, "w0": w0, "eps_a": rng.uniform(0.1, 1.0)}))
    return out


def eff_step_sweep(p: OLSProblem, x: dict, eps: np.ndarray, steps: int, stride: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``eps^_k`` (Eq. 11) for every ``eps`` of the grid at steps ``0, stride, ...``:
    shape ``(n_records, len(eps))`` and the record steps."""
    r = run(p, "bngd", eps=eps, w0=x["w0"], eps_a=x["eps_a"], a0=x["a0"], steps=steps,
            history_stride=stride)
    return r.history["eff_step"], r.history_steps


def asymptotic_constants(eps: np.ndarray, vals: np.ndarray, k_from: int, rec_steps: np.ndarray,
                         tail_decades: float = 2.0) -> dict[str, float]:
    """C1 = min, C2 = max over ``k >= k_from`` of ``vals`` (shape (records, len(eps))) and the
    log-log slopes of ``max_k`` and ``min_k`` against ``eps`` over the last ``tail_decades``
    toward the asymptote (the end of the grid where ``|log eps|`` is largest).  Bounded constants
    independent of eps <=> both slopes near 0."""
    v = vals[rec_steps >= k_from]
    hi, lo = np.nanmax(v, axis=0), np.nanmin(v, axis=0)
    le = np.log10(eps)
    sel = np.abs(le - le[np.argmax(np.abs(le))]) <= tail_decades
    with np.errstate(all="ignore"):
        s_hi = float(np.polyfit(le[sel], np.log10(np.abs(hi[sel])), 1)[0])
        s_lo = float(np.polyfit(le[sel], np.log10(np.abs(lo[sel])), 1)[0])
    return {"C1": float(lo.min()), "C2": float(hi.max()), "slope_max": s_hi, "slope_min": s_lo}


#: |log-log slope| below which the bound counts as independent of eps: a bounded ratio moves
#: by at most its (fixed) spread over two decades, i.e. slope ~ 0; any power law eps^p with
#: p != 0 gives |slope| >= 1 on these grids.  0.1 separates the two with wide margins.
SLOPE_TOL = 0.1


def p35_holds(p: OLSProblem, x: dict, *, regime: str, power: float, k_from: int,
              steps: int = 1000) -> Outcome:
    """Prop. 3.5 for one configuration: ``eps^_k eps^power`` stays within positive constants
    independent of ``eps`` (``power=-1`` for eps << 1, ``+1`` for eps >> 1) for ``k >= k_from``.
    Grids: eps << 1: ``eps0 ||w0||^2 10^[-6, -1]``; eps >> 1: ``10^[1, 6] / (C3 eps0)`` with
    ``C3`` of Eq. (78), so that ``eps/||w1||^2 < eps0`` (Appendix A.6)."""
    e0 = float(eps0_lemma_a12(p, x["a0"], x["eps_a"]))
    if regime == "small":
        eps = e0 * np.sum(x["w0"] ** 2) * np.logspace(-6, -1, 11)
    else:
        s2 = x["w0"] @ p.H @ x["w0"]
        e = p.u - (x["w0"] @ p.g) / s2 * x["w0"]
        C3 = x["a0"] ** 2 / s2 * np.sum((p.H @ e) ** 2)
        eps = np.logspace(1, 6, 11) / (C3 * e0)
    eff, rec = eff_step_sweep(p, x, eps, steps, 10 if k_from >= 10 else 1)
    vals = eff * eps[None, :] ** power
    c = asymptotic_constants(eps, vals, k_from, rec)
    c["eps_extreme"] = float(eps[np.argmax(np.abs(np.log10(eps)))])
    ok = c["C1"] > 0 and abs(c["slope_max"]) < SLOPE_TOL and abs(c["slope_min"]) < SLOPE_TOL
    return Outcome(ok, c)


def p35_sweep(ctx: CheckContext, *, k_from: int, statement: str, salt: str,
              method: str = "sweep") -> MethodResult:
    rng = ctx.rng("P3.5" + salt)
    cfgs = p35_configurations(rng, ctx.n(4, 20))
    rows = []
    for regime, power in (("small", -1.0), ("large", 1.0)):
        for p, x in cfgs:
            o = p35_holds(p, x, regime=regime, power=power, k_from=k_from,
                          steps=ctx.n(300, 2000))
            rows.append({"regime": regime, **o.measured, "holds": o.holds,
                         "config": {**p.to_json(), "a0": float(x["a0"]),
                                    "w0": x["w0"].tolist(), "eps_a": float(x["eps_a"])}})
    bad = [r for r in rows if not r["holds"]]
    consts = {rg: {"C1_min": min(r["C1"] for r in rows if r["regime"] == rg),
                   "C2_max": max(r["C2"] for r in rows if r["regime"] == rg)}
              for rg in ("small", "large")}
    det = {"statement": statement, "constants": consts, "rows": rows,
           "slope_tolerance": SLOPE_TOL, "k_from": k_from}
    if bad:
        b = bad[0]
        return MethodResult(
            "refuted", method,
            f"{statement}: fails in {len(bad)}/{len(rows)} sweeps; e.g. eps {b['regime']}: "
            f"log-log slope of max_k {b['slope_max']:.2f}, of min_k {b['slope_min']:.2f} "
            f"(bounded needs ~0), C1 = {b['C1']:.3g}",
            details=det, counterexample={**b["config"], "eps": b["eps_extreme"],
                                         "comment": f"eps {b['regime']} regime; slopes "
                                                    f"{b['slope_max']:.3g}, {b['slope_min']:.3g}"})
    return MethodResult(
        "verified", method,
        f"{statement}: {len(rows)} sweeps; eps<<1: eps^_k/eps in "
        f"[{consts['small']['C1_min']:.3g}, {consts['small']['C2_max']:.3g}]; eps>>1: "
        f"eps^_k eps in [{consts['large']['C1_min']:.3g}, {consts['large']['C2_max']:.3g}] "
        f"(|log-log slope| < {SLOPE_TOL})", details=det)


@check("P3.5", method="sweep", reading=(
    "Garbled hypothesis read as ||g||^2 >= (w0^T g/sigma0^2) g^T H w0; 'eps << 1' as eps/||w0||^2 "
    "in eps0 10^[-6,-1], 'eps >> 1' as eps in 10^[1,6]/(C3 eps0) (Appendix A.6); 'independent of "
    "eps and k' checked over k = 0..K as printed (k from 0), and for k >= 1."))
def p35_as_printed(ctx: CheckContext) -> MethodResult:
    res = p35_sweep(ctx, k_from=0, statement="P3.5 for all k >= 0", salt="")
    if res.verdict == "refuted":
        corr = p35_sweep(ctx, k_from=1, statement="P3.5 for k >= 1", salt="")
        res.correction = Correction(
            "Prop. 3.5(2) holds for k >= 1 (at k = 0, eps^_0 eps = eps^2 a0 w0^T g / sigma0^3 grows "
            "like eps^2; the proof in A.6 starts from (a1, w1)); (1) holds for all k >= 0",
            corr.verdict, corr.evidence)
        res.details["correction_constants"] = corr.details["constants"]
    return res


def interior_stationary_point(f: Callable[[np.ndarray], np.ndarray], lo: float, hi: float,
                              n: int = 141) -> Outcome:
    """Is there an interior local extremum of the differentiable ``f`` on ``[lo, hi]`` (log
    grid)?  Found when the grid maximum is interior and exceeds both end values by a factor 2
    (far above float64 noise), then refined on a 401-point grid between the neighbours of the grid
    maximum: ``f(eps0 / r) < f(eps0) > f(eps0 r)`` for r = 1.01,
    so the derivative vanishes in between (Rolle / Fermat).  Reports ``eps0`` and the width (in
    decades) of the set where ``f >= 0.8 f(eps0)``."""
    eps = np.logspace(np.log10(lo), np.log10(hi), n)
    v = f(eps)
    j = int(np.nanargmax(v))
    if not (0 < j < n - 1) or not (v[j] > 2 * max(v[0], v[-1], 0)):
        return Outcome(False, {"argmax_eps": float(eps[j]), "max": float(v[j]),
                               "ends": [float(v[0]), float(v[-1])]})
    fine = np.logspace(np.log10(eps[j - 1]), np.log10(eps[j + 1]), 401)  # one batched call
    vf = f(fine)
    e0 = float(fine[int(np.nanargmax(vf))])
    fl, fc, fr = f(np.array([e0 / 1.01, e0, e0 * 1.01]))
    if not (np.isfinite(fc) and fc > 0):
        return Outcome(False, {"eps0": e0, "eff_step_at_eps0": float(fc)})
    near = eps[v >= 0.8 * fc]  # may be empty: a peak narrower than the coarse grid
    width = float(np.log10(near.max() / near.min())) if near.size else 0.0
    return Outcome(bool(fl < fc > fr), {"eps0": e0, "eff_step_at_eps0": float(fc),
                                        "flat_width_decades": width})


def eff_step_of_eps(p: OLSProblem, x: dict, k: int) -> Callable[[np.ndarray], np.ndarray]:
    """``eps -> eps^_k`` (Eq. 11 after ``k`` BNGD steps), batched over eps by the engine."""
    def f(eps: np.ndarray) -> np.ndarray:
        r = run(p, "bngd", eps=np.asarray(eps, float), w0=x["w0"], eps_a=x["eps_a"], a0=x["a0"],
                steps=k)
        return r.eff_step
    return f


def insensitive_check(ctx: CheckContext, ks: tuple[int, ...], statement: str) -> MethodResult:
    rng = ctx.rng("S3.insensitive")
    rows = []
    for p, x in p35_configurations(rng, ctx.n(3, 15)):
        for k in ks:
            o = interior_stationary_point(eff_step_of_eps(p, x, k), 1e-6, 1e8)
            rows.append({"k": k, "holds": o.holds, **o.measured,
                         "config": {**p.to_json(), "a0": float(x["a0"]), "w0": x["w0"].tolist(),
                                    "eps_a": float(x["eps_a"])}})
    bad = [r for r in rows if not r["holds"]]
    det = {"rows": rows, "statement": statement}
    if bad:
        return MethodResult("refuted", "sweep",
                            f"{statement}: no stationary point of eps -> eps^_k for "
                            f"{len(bad)}/{len(rows)} (config, k), e.g. k = {bad[0]['k']}",
                            details=det, counterexample={**bad[0]["config"], "eps": 1.0,
                                                         "steps": bad[0]["k"],
                                                         "comment": f"k = {bad[0]['k']}"})
    e0 = [r["eps0"] for r in rows]
    w = [r["flat_width_decades"] for r in rows]
    return MethodResult("verified", "sweep",
                        f"{statement}: {len(rows)} (config, k) with k in {list(ks)}: eps0 in "
                        f"[{min(e0):.3g}, {max(e0):.3g}]; eps^_k within 20% of its maximum over "
                        f"{min(w):.2g}-{max(w):.2g} decades of eps", details=det)


@check("S3.insensitive", method="sweep", reading=(
    "For configurations satisfying Prop. 3.5's hypotheses, eps -> eps^_k has an interior "
    "stationary point on [1e-6, 1e8] (||w0|| = 1); 'finite k' includes k = 0."))
def insensitive_sweep(ctx: CheckContext) -> MethodResult:
    res = insensitive_check(ctx, (0, 1, 10, 100), "S3.insensitive (k = 0, 1, 10, 100)")
    if res.verdict == "refuted":
        corr = insensitive_check(ctx, (1, 10, 100), "S3.insensitive for k >= 1")
        res.correction = Correction(
            "for every finite k >= 1 there is eps0 > 0 with d eps^_k/d eps = 0 (at k = 0, "
            "eps^_0 = eps a0 w0^T g/sigma0^3 is linear in eps)", corr.verdict, corr.evidence)
    return res


def _c0(cex: dict[str, Any]) -> tuple[Fraction, Fraction]:
    """``(a0 w0^T g, sigma0^2)`` exactly: ``eps^_0 = eps a0 w0^T g / sigma0^3`` (Eq. 11 at
    k = 0: ``eps (a0/sigma0) (y0/sigma0^2)``) is linear in eps with slope ``a0 y0 / sigma0^3``."""
    H, u, _ = problem(cex)
    w0 = [q(x) for x in cex["w0"]]
    a0 = q(cex["a0"])
    g = mv(H, u)
    return a0 * dot(w0, g), dot(w0, mv(H, w0))


@certify("S3.insensitive", "sweep")
def replay_insensitive(cex: dict[str, Any], res: MethodResult) -> Replay:
    k = cex.get("steps")
    if k != 0:
        return Replay(None, "proof", "fmpq", f"only k = 0 is replayed exactly (file: k = {k})")
    num, s2 = _c0(cex)
    if s2 <= 0:
        return Replay(None, "proof", "fractions", "sigma0^2 = w0^T H w0 <= 0")
    ok = num != 0
    return Replay(
        ok,
        "proof",
        "exact rational (fractions)",
        f"eps^_0 = eps a0 w0^T g/sigma0^3 is linear in eps, so d eps^_0/d eps = a0 w0^T g/sigma0^3 "
        f"for every eps, with a0 w0^T g = {exact_text(num)} {'!= 0' if ok else '= 0'} and sigma0^2 = "
        f"{exact_text(s2)} > 0: {'no' if ok else 'every'} eps0 is stationary",
        {"a0_y0": str(num), "sigma0_sq": str(s2)},
    )


@certify("P3.5", "sweep")
def replay_p35(cex: dict[str, Any], res: MethodResult) -> Replay:
    comment = str(cex.get("comment", ""))
    if "large" not in comment:
        return Replay(None, "proof", "fractions", "only the eps >> 1 regime is replayed exactly")
    num, s2 = _c0(cex)
    if not (num > 0 and s2 > 0):
        return Replay(None, "proof", "fractions", "a0 w0^T g > 0 not met")
    return Replay(
        True,
        "proof",
        "exact rational (fractions)",
        f"at k = 0, eps^_0 eps = c eps^2 with c = a0 w0^T g/sigma0^3, a0 w0^T g = {exact_text(num)} > 0, "
        f"sigma0^2 = {exact_text(s2)} > 0: for every C2 and every eps > sqrt(C2/c), eps^_0 eps > C2, so "
        "no C2 independent of eps bounds it for all k >= 0 (a finite witness for each C2)",
        {"a0_y0": str(num), "sigma0_sq": str(s2)},
    )


@certify("S3.Hstar-psd", "monte-carlo")
def replay_hstar_aa(cex: dict[str, Any], res: MethodResult) -> Replay:
    return replay_almost_all(cex, "kappa* < kappa")


@certify("S3.acceleration", "monte-carlo")
def replay_accel_aa(cex: dict[str, Any], res: MethodResult) -> Replay:
    return replay_almost_all(cex, "rho*_opt < rho_opt")


@certify("S3.Hstar", "numeric")
def replay_hstar_hessian(cex: dict[str, Any], res: MethodResult) -> Replay:
    return replay_minimiser_hessian(cex, res)


def eff_step_holds(cfg: Configuration, sign: int = 1) -> Outcome:
    """Eq. (11): with ``eps^_k = eps (a_k/sigma_k)(w_k^T g/sigma_k^2)`` the update (10) reads
    ``w_{k+1} - w_k = eps (a_k/sigma_k) g - eps^_k H w_k`` (engine iterates; tolerance
    ``tol_vec``), and the batched engine reports ``eff_step`` = Eq. (11) at its final iterate
    (relative 16 u: same formula, other evaluation order).  ``sign`` flips eps^ (mutation)."""
    p = cfg.problem

    def fn(k, q, tr):
        lhs = q.w1 - q.w
        rhs = q.coef * p.g - sign * q.eps_hat * (p.H @ q.w)
        err = float(np.linalg.norm(lhs - rhs))
        nw = float(np.linalg.norm(q.w))
        lam = p.lambda_max
        M = (np.linalg.norm(p.g) + abs(q.t) * lam * nw) * (1 + lam * nw**2 / q.sigma**2)
        tol = 16 * p.d * UNIT * (nw + np.linalg.norm(q.w1) + abs(q.coef) * M)
        return err <= tol, False, {"difference": err, "tolerance": tol}

    out = along_trajectory(cfg, fn)
    if not out:
        return out
    r = run(p, "bngd", eps=cfg.eps, w0=cfg.w0, eps_a=cfg.eps_a, a0=cfg.a0, steps=3,
            backend="numpy")
    if r.status_name() != "diverged":
        ref = p.effective_step(cfg.eps, float(r.a), r.w)
        rep = float(r.eff_step)
        # the engine works in the eigenbasis: w^T g is rounded differently, by d u ||w|| ||g||,
        # which is all of it near w ⟂ g; the rest is relative rounding, amplified by kappa
        sw = p.sigma(r.w)
        tol = 16 * p.d * UNIT * (1 + p.kappa) * (
            abs(ref) + abs(cfg.eps * float(r.a)) / sw**3 * np.linalg.norm(r.w) * np.linalg.norm(p.g))
        if abs(rep - sign * ref) > tol:
            return Outcome(False, {"engine_eff_step": rep, "eq11": ref})
    return out


def recurrence_holds(cfg: Configuration, variant: str = "printed") -> Outcome:
    """Eq. (12): ``u - t_k w_{k+1} = (I - eps^_k H)(u - t_k w_k)``, ``t_k = w_k^T g/sigma_k^2``,
    to ``tol_vec`` (see ``step_quantities``).  ``variant="t_next"`` uses ``t_{k+1}`` on the left
    (a plausible misreading; mutation)."""
    p = cfg.problem

    def fn(k, q, tr):
        t_left = q.t if variant == "printed" else float(q.w1 @ p.g) / float(q.w1 @ p.H @ q.w1)
        lhs = p.u - t_left * q.w1
        rhs = q.e - q.eps_hat * (p.H @ q.e)
        err = float(np.linalg.norm(lhs - rhs))
        tol = q.tol_vec + abs(q.t) * 0  # t enters both sides identically
        return err <= tol, False, {"difference": err, "tolerance": tol}

    return along_trajectory(cfg, fn)


def contraction_holds(cfg: Configuration, rate_scale: float = 1.0) -> Outcome:
    """Eq. (13): ``||e_{k+1}||_H <= ||u - t_k w_{k+1}||_H <= rho(I - eps^_k H) ||e_k||_H``;
    margin: the H-norm rounding of the vectors plus ``rho``'s (``d u |eps^| lambda_max``).
    Borderline steps are re-decided at 50 digits.  ``rate_scale`` < 1 tightens the bound
    (mutation)."""
    p = cfg.problem

    def fn(k, q, tr):
        t1 = float(q.w1 @ p.g) / float(q.w1 @ p.H @ q.w1)
        en1 = p.norm_H(p.u - t1 * q.w1)
        mid = p.norm_H(p.u - q.t * q.w1)
        rho = rate_scale * p.rho(q.eps_hat)
        tol = 2 * norm_tolerance(p, q) + 4 * p.d * UNIT * abs(q.eps_hat) * p.lambda_max * q.e_norm
        ok = en1 <= mid + tol and mid <= rho * q.e_norm + tol
        border = ok and (en1 > mid or mid > rho * q.e_norm)
        return ok and not border, border, {"e_next": en1, "mid": mid, "rho_e": rho * q.e_norm,
                                           "tolerance": tol}

    def mp_fn(cfg, k):
        with mpmath.workdps(DPS):
            return _mp_contraction(cfg, k, rate_scale)

    fn.mp = mp_fn
    return along_trajectory(cfg, fn)


def _mp_contraction(cfg, k, rate_scale):
    if True:
        s = mp_state(cfg, k)
        ok = (s.e_next_norm <= s.mid_norm * (1 + MP_TOL) + s.abs_tol
              and s.mid_norm <= rate_scale * s.rho * s.e_norm * (1 + MP_TOL) + s.abs_tol)
        return bool(ok), {"e_next": float(s.e_next_norm), "mid": float(s.mid_norm),
                          "rho_e": float(s.rho * s.e_norm)}


TOL_VEC = ("16 d u S, S the magnitude of the summed terms (incl. the step's rounding, "
           "amplified by lambda_max ||w||^2/sigma^2)")


@check("S3.eff-step", method="property",
       reading="Eq. (11): eps^_k := eps (a_k/sigma_k)(w_k^T g/sigma_k^2), the coefficient of "
               "H w_k in the update (10).")
def check_eff_step(ctx) -> MethodResult:
    return trajectory_property("S3.eff-step", eff_step_holds, ctx,
                 f"w_(k+1) - w_k = eps (a_k/sigma_k) g - eps^_k H w_k ({STEPS} engine steps); "
                 "engine eff_step = Eq. (11)", TOL_VEC)


@check("S3.recurrence", method="property",
       reading="Eq. (12) as printed: u - (w_k^T g/sigma_k^2) w_{k+1} = (I - eps^_k H)(u - "
               "(w_k^T g/sigma_k^2) w_k).")
def check_recurrence(ctx) -> MethodResult:
    return trajectory_property("S3.recurrence", recurrence_holds, ctx,
                 f"Eq. (12) along {STEPS} engine steps", TOL_VEC)


@check("S3.contraction", method="property",
       reading="Eq. (13): ||e_{k+1}||_H <= ||u - (w_k^T g/sigma_k^2) w_{k+1}||_H <= "
               "rho(I - eps^_k H) ||e_k||_H, both inequalities.")
def check_contraction(ctx) -> MethodResult:
    return trajectory_property("S3.contraction", contraction_holds, ctx,
                 f"both inequalities of Eq. (13) along {STEPS} engine steps", TOL_INEQ)


@check("P3.4", method="property",
       reading="Prop. 3.4, Eq. (15): if delta_k := lambda_max eps |a_k| ||e_k||_H/sigma_k^2 <= "
               "delta < 1 then ||e_{k+1}||_H <= min{B, rho(I - eps^_k H)} ||e_k||_H; the garbled B "
               "('Py-I-H*)+δ') read as (rho*(I - eps^_k H*) + delta)/(1 - delta), what Lemma "
               "A.22 gives and the catalogue's reading. Checked at delta = delta_k (the bound "
               "increases with delta, so this is the strongest case). The literal glyph reading "
               "rho* + delta (no denominator) is also run and reported in the details; it is a "
               "different statement, not the paper's, and does not enter the verdict.")
def check_p34(ctx) -> MethodResult:
    res = trajectory_property("P3.4", lambda c: la22_holds(c, "P3.4a"), ctx,
                "||e_(k+1)|| <= min{(rho*+delta)/(1-delta), rho} ||e_k|| when delta_k < 1",
                TOL_INEQ, key="a")
    lit = trajectory_property("P3.4", lambda c: la22_holds(c, "P3.4b"), ctx,
                "literal reading: ||e_(k+1)|| <= min{rho* + delta, rho} ||e_k||", TOL_INEQ,
                key="b", strategy=rate_configs(near_minimizer=True), n=(10, 200))
    res.details["literal_reading_without_denominator"] = {
        "verdict": lit.verdict, "evidence": lit.evidence, "counterexample": lit.counterexample}
    return res


def _aa27_fails(p, refuting_counterexample):
    from bnverify.hstar import almost_all_strict

    return not almost_all_strict(p, "27")


@probe("S3.Hstar-psd")
def _probe_hstar_psd(cr, ctx):
    return spectral_probe_of(_aa27_fails)(cr, ctx)


@probe("S3.acceleration")
def _probe_acceleration(cr, ctx):
    return spectral_probe_of(_aa27_fails)(cr, ctx)


@probe("S3.Hstar")
def _probe_hstar(cr, ctx):
    return hstar_probe(cr, ctx)


def _k_reading(cr, what):
    corr = cr.correction
    rows = [row for r in cr.results for row in r.details.get("rows", []) if isinstance(row, dict)]
    failing_k = sorted({row.get("k") for row in rows if row.get("holds") is False} - {None})
    verdict_k1 = corr.verdict if corr is not None else "?"
    if failing_k and failing_k != [0]:
        return Severity("substantive", f"fails at k = {failing_k} (not only k = 0)",
                        {"computed": True, "failing_k": failing_k})
    return Severity(
        "reading",
        f"{what} read as k >= 0: refuted at k = 0 for every configuration (eps^_0 is linear in "
        f"eps); read as k >= 1 (the proof in A.6 starts from (a1, w1)): {verdict_k1} (the "
        "corrected statement)",
        {"computed": True, "failing_k": failing_k or [0],
         "readings": {"k >= 0": "refuted", "k >= 1": verdict_k1}})


@probe("P3.5")
def _p35(cr, ctx):
    return _k_reading(cr, "'constants independent of k'")


@probe("S3.insensitive")
def _insens(cr, ctx):
    return _k_reading(cr, "'for finite k'")


def _explicit_step(inst):
    ep = inst.gen["epsilon"]
    Jx = O.explicit_objective(inst)
    gw = inst.grad_w(Jx)
    return [inst.w[i] - ep * gw[i] for i in range(inst.d)], ep


@derivation(
    "S3.eff-step",
    "Effective step size (eq. 11)",
    reading="Eq. (11): eps^_k := eps (a_k/sigma_k)(w_k^T g/sigma_k^2), the coefficient that "
    "replaces eps in front of H w_k in Eq. (10).",
)
def eff_step(D: Derivation) -> None:
    _, w1 = O.bngd_step(sym_objective())
    inc = (w1 - w).simplify()
    D.step("The w-increment of BNGD (GD on J, E81):", inc, lhs="w_{k+1} - w_k")
    coeff = -inc.terms.get(A.Basis(1, "w"), 0)
    D.step("minus its coefficient of H w_k:", coeff, lhs="\\hat\\epsilon_k")
    D.compare("eps^_k (11)", D.printed("eff step", eps * (a / sigma) * (y / sigma**2)), coeff)

    def exact(d: int) -> bool:
        inst = Instance(d, extra=("epsilon",))
        w1x, ep = _explicit_step(inst)
        eh = ep * inst.a * inst.y * inst.t**3
        return inst.zero_all(
            [
                w1x[i] - inst.w[i] - ep * inst.a * inst.t * inst.g[i] + eh * inst.Hw[i]
                for i in range(d)
            ]
        )

    D.exact("explicit step from the directly differentiated J", exact)

    def num(pt):
        from bnverify.model import OLSProblem

        ep = mpmath.mpf("0.8")
        fd = pt.fd_gradient(pt.J16, pt.a, pt.vecs["w"])
        wv = pt.vecs["w"]
        s = mpmath.sqrt(pt.dot(wv, pt.H * wv))
        eh = pt.scalar(eps * (a / sigma) * (y / sigma**2), {eps: ep})
        gv = pt.H * pt.vecs["u"]
        res = [-ep * fd[i + 1] - (ep * pt.a / s * gv[i] - eh * (pt.H * wv)[i]) for i in range(pt.d)]
        # the toolkit's float64 implementation (bnverify.model) agrees to float64 accuracy
        prob = OLSProblem(
            [[float(pt.H[i, j]) for j in range(pt.d)] for i in range(pt.d)],
            [float(v) for v in pt.vecs["u"]],
        )
        e64 = prob.effective_step(float(ep), float(pt.a), np.array([float(v) for v in wv]))
        res.append(0 if abs(e64 - float(eh)) <= 1e-12 * max(1.0, abs(float(eh))) else 1)
        return res

    D.numeric(
        "finite-difference step; also bnverify.model.effective_step (float64, rel. 1e-12)", num
    )


@derivation(
    "S3.recurrence",
    "Recurrence of the residual (eq. 12)",
    reading="Eq. (12): u - (w_k^T g/sigma_k^2) w_{k+1} = (I - eps^_k H)(u - (w_k^T g/sigma_k^2) w_k).",
)
def recurrence(D: Derivation) -> None:
    _, w1 = O.bngd_step(sym_objective())
    c_ = y / sigma**2
    e = u - w * c_
    eh = eps * (a / sigma) * (y / sigma**2)
    lhs = (u - w1 * c_).simplify()
    D.step("Left side with the BNGD step:", lhs, lhs="u - \\tfrac{w_k^T g}{\\sigma_k^2} w_{k+1}")
    rhs = D.printed("right side", (e - e.H() * eh).simplify())
    D.step("Right side, (I - eps^ H) e_k:", rhs, lhs="(I - \\hat\\epsilon_k H) e_k")
    D.compare("(12)", rhs, lhs)

    def exact(d: int) -> bool:
        inst = Instance(d, extra=("epsilon",))
        w1x, ep = _explicit_step(inst)
        cc = inst.y * inst.t**2
        ex = [inst.u[i] - cc * inst.w[i] for i in range(d)]
        Hex = inst.mv(inst.H, ex)
        eh = ep * inst.a * inst.y * inst.t**3
        return inst.zero_all([inst.u[i] - cc * w1x[i] - (ex[i] - eh * Hex[i]) for i in range(d)])

    D.exact("explicit step from the directly differentiated J", exact)

    def num(pt):
        ep = mpmath.mpf("1.9")
        fd = pt.fd_gradient(pt.J16, pt.a, pt.vecs["w"])
        wv, uu = pt.vecs["w"], pt.vecs["u"]
        w1n = wv - ep * mpmath.matrix(fd[1:])
        s2 = pt.dot(wv, pt.H * wv)
        cc = pt.dot(wv, pt.H * uu) / s2
        ev = uu - cc * wv
        eh = ep * pt.a / mpmath.sqrt(s2) * cc
        return (uu - cc * w1n) - (ev - eh * (pt.H * ev))

    D.numeric("finite-difference step, eps = 1.9", num)


@derivation(
    "S3.Hstar",
    "Hessian at a minimizer is diag(1, H*/||w*||^2) (eq. 14)",
    reading="Sec. 3.3: 'The Hessian matrix for BNGD at a minimizer (a*, w*) is diag(1, "
    "H*/||w*||^2), where H* = H - H u u^T H/(u^T H u)' (Eq. 14); no normalisation of u is stated "
    "in Sec. 3 (||u|| = 1 is set only for the experiments of Sec. 4.1 and in Sec. A.3).",
)
def hstar(D: Derivation) -> None:
    at, Hst = minimizer_derivation(D)
    minimizer_hessian_compare(D, at, Hst)


@derivation(
    "S3.Hstar-psd",
    "H* is PSD, H* u = 0, kappa* <= kappa (after eq. 14)",
    reading="After Eq. (14): H* is positive semi-definite, H* u = 0, and kappa* = lambda*_max/"
    "lambda*_min <= kappa over the nonzero eigenvalues; 'kappa* < kappa for almost all u'.  Symbolic "
    "scope: the first three statements for general d; the almost-everywhere strictness is a "
    "measure statement left to the numeric/property checks of this claim.",
)
def hstar_psd(D: Derivation) -> None:
    Hst = A.Mat.H() - A.Mat.outer(g, g) / nu
    Hu = Hst.apply(u).simplify()
    D.step("H* u by the algebra (g^T u = u^T H u = nu):", Hu, lhs="H^* u")
    D.compare("H* u = 0", D.printed("H*u", A.Vec()), Hu)
    xv = A.x
    ts = A.invariant("u", 1, "x") / nu
    r = xv - u * ts
    cert = sp.simplify(r.hdot(r) - Hst.quad(xv))
    D.step(
        "PSD: x^T H* x = ||x - t* u||_H^2 >= 0 with t* = x^T H u/nu (difference):",
        cert,
        lhs="\\|x - t^* u\\|_H^2 - x^T H^* x",
    )
    D.compare("x^T H* x = ||x - t* u||_H^2 (so H* >= 0)", D.printed("psd", sp.Integer(0)), cert)
    tt = sp.Symbol("t", real=True)
    xu = A.invariant("u", 0, "x")
    orth = sp.expand((xv - u * tt).dot(xv - u * tt)).subs(xu, 0)
    D.step(
        "kappa* <= kappa: eigenvectors of H* for nonzero eigenvalues are orthogonal to u "
        "(H* symmetric, H* u = 0).  For x orthogonal to u, ||x - t u||^2 =",
        orth,
        lhs="\\|x - t u\\|^2",
    )
    D.step(
        "so x^T H* x = min_t ||x - t u||_H^2 >= lambda_min(H) min_t ||x - t u||^2 = lambda_min(H) "
        "||x||^2, and x^T H* x <= x^T H x <= lambda_max(H) ||x||^2 (E25).  Hence every nonzero "
        "eigenvalue of H* lies in [lambda_min(H), lambda_max(H)] and kappa* <= kappa.",
        None,
    )
    D.compare(
        "||x - t u||^2 - ||x||^2 - t^2 ||u||^2 for x orthogonal to u",
        sp.Integer(0),
        sp.simplify(orth - A.invariant("x", 0, "x") - tt**2 * A.invariant("u", 0, "u")),
    )
    D.note("Scope: the 'kappa* < kappa for almost all u' part is not derived symbolically.")

    def exact(d: int) -> bool:
        inst = Instance(d)
        nuHst = [
            [inst.nu * inst.H[i][j] - inst.g[i] * inst.g[j] for j in range(d)] for i in range(d)
        ]
        xx = inst.w
        xg = inst.dot(xx, inst.g)
        r_nu = [inst.nu * xx[i] - xg * inst.u[i] for i in range(d)]
        cert_x = inst.dot(r_nu, inst.mv(inst.H, r_nu)) - inst.nu * inst.dot(xx, inst.mv(nuHst, xx))
        return inst.zero_all(inst.mv(nuHst, inst.u)) and inst.is_zero(cert_x)

    D.exact("explicit nu H* u = 0 and nu^2 ||x - t* u||_H^2 = nu x^T (nu H*) x", exact)

    def num(pt):
        uu = pt.vecs["u"]
        gv = pt.H * uu
        nuv = pt.dot(uu, gv)
        Hs = pt.H - gv * gv.T / nuv
        ev = sorted(mpmath.eigsy(Hs)[0])
        evH = sorted(mpmath.eigsy(pt.H)[0])
        ok = ev[1] >= evH[0] * (1 - mpmath.mpf("1e-40")) and ev[-1] <= evH[-1] * (
            1 + mpmath.mpf("1e-40")
        )
        return list(Hs * uu) + [ev[0], 0 if ok else 1]

    D.numeric("eigenvalues of H* (mpmath eigsy): 0, then within [lambda_min, lambda_max] of H", num)

"""§A.6 Estimating the effective step size -- claim E74-80 (eq. 74-80: bounds on ``eps^_k`` in
terms of ``eps/||w_k||^2``; eq. 78: ``||w1||^2 - ||w0||^2 = C3 eps^2``), with its exact replay
(``@certify``) and severity probe (``@probe``).

Readings of the printed (garbled) text
--------------------------------------
* Eq. (74): lower bound read as ``eps^_k >= a0 (w0^T g/sigma0) eps / (lambda_max ||w_k||^2)``,
  upper bound as ``eps^_k <= u^T H u C_a eps / (lambda_min ||w_k||^2)``; hypotheses of Lemma A.12.
* Eq. (78): read as ``||w1||^2 - ||w0||^2 = C3 eps^2`` with ``C3 = a0^2 ||H e0||^2 / sigma0^2``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from bnverify.claims import CheckContext, Correction, MethodResult, Replay, certify, check
from bnverify.convergence import (
    eps0_lemma_a12,
    lemma_a10_bound,
    trajectory,
    trajectory_scalars,
)
from bnverify.dynamics.batched import step
from bnverify.exact_replay import dot, mv, problem, q
from bnverify.model import OLSProblem
from bnverify.probes import h_diagonal, jitter, jitter_h, probe_seed, refuting_counterexample
from bnverify.properties import Outcome, check_property
from bnverify.severity import classify, neighbourhood, probe
from bnverify.strategies import Configuration, configurations

EPS_MACH = float(np.finfo(float).eps)

E74_STEPS = 80


@st.composite
def lemma_a12_configs(draw, a0_max: float = 100.0):
    """Configurations satisfying Lemma A.12's hypotheses: ``a0 w0^T g > 0`` (a0 > 0 after a sign
    flip of ``w0``), ``eps_a`` in (0, 1], ``eps/||w0||^2`` a drawn fraction of ``eps0``."""
    c = draw(configurations(max_d=5, kappa_max=1e3, eps_a=st.floats(0.05, 1.0),
                            w0_kinds=("generic", "eigenvector"), degenerate_u=False,
                            a0=st.floats(0.01, a0_max)))
    y0 = float(c.w0 @ c.problem.g)
    assume(abs(y0) > 1e-12 * np.linalg.norm(c.w0) * np.linalg.norm(c.problem.g))  # a0 y0 > 0
    w0 = c.w0 * np.sign(y0)
    frac = draw(st.floats(0.05, 0.99))
    eps = frac * float(eps0_lemma_a12(c.problem, c.a0, c.eps_a)) * float(w0 @ w0)
    return Configuration(c.problem, c.a0, w0, c.eps_a, eps, c.w0_kind)


def e74_bounds_hold(c: Configuration, *, lower: str = "printed") -> Outcome:
    """Eq. (74) along ``E74_STEPS`` steps: ``lower="printed"``: ``eps^_k >= a0 (y0/sigma0) eps /
    (lambda_max ||w_k||^2)``; ``lower="corrected"``: ``min(a0, y0/sigma0)`` in place of ``a0``
    (Eq. 52's constant); upper bound ``eps^_k <= u^T H u C_a eps/(lambda_min ||w_k||^2)`` with
    ``C_a`` of Lemma A.10.  Tolerance: relative 1e-10 (a few roundings of each product)."""
    p = c.problem
    A, W = trajectory(p, "bngd", a0=c.a0, w0=c.w0, eps=c.eps, eps_a=c.eps_a, steps=E74_STEPS)
    s = trajectory_scalars(p, A, W, c.eps)
    eff, n2 = s["eff_step"], s["w_norm"] ** 2
    y0s0 = float(s["y"][0] / s["sigma"][0])
    lead = {"printed": c.a0, "corrected": min(c.a0, y0s0), "none": 1e300}[lower]
    lo = lead * y0s0 * c.eps / (p.lambda_max * n2)
    Ca = max(float(lemma_a10_bound(c.a0, c.eps_a, p.u_norm_H)) / p.u_norm_H, 1.0)
    hi = p.u_norm_H**2 * Ca * c.eps / (p.lambda_min * n2)
    ok_lo = eff >= lo * (1 - 1e-10)
    ok_hi = eff <= hi * (1 + 1e-10)
    meas = {"min_eff_over_lower": float(np.min(eff / lo)),
            "max_eff_over_upper": float(np.max(eff / hi))}
    if not ok_lo.all():
        meas["first_lower_violation_k"] = int(np.argmin(ok_lo))
    return Outcome(bool(ok_lo.all() and ok_hi.all()), meas)


@check("E74-80", method="property-74", reading=(
    "(74) lower bound read as a0 (w0^T g/sigma0) eps/(lambda_max ||w_k||^2) as printed; upper as "
    "u^T H u C_a eps/(lambda_min ||w_k||^2); (78) as ||w1||^2 - ||w0||^2 = C3 eps^2."))
def e74_property(ctx: CheckContext) -> MethodResult:
    def corr(_x: Any) -> Correction:
        r = check_property("E74-80", lemma_a12_configs(),
                           lambda c: e74_bounds_hold(c, lower="corrected"), ctx,
                           statement="(74) with min(a0, w0^T g/sigma0) in place of a0",
                           tolerance="relative 1e-10", max_examples=ctx.n(20, 400),
                           key_suffix="74-corrected")
        return Correction(
            "eps^_k >= min(a0, w0^T g/sigma0) (w0^T g/sigma0) eps/(lambda_max ||w_k||^2) (the "
            "constant of Eq. 52: a_k >= min(a0, w0^T g/sigma0), not a_k >= a0)",
            r.verdict, r.evidence)

    return check_property("E74-80", lemma_a12_configs(), e74_bounds_hold, ctx,
                          statement="Eq. (74) bounds as printed (lower constant a0 w0^T g/sigma0)",
                          tolerance="relative 1e-10", max_examples=ctx.n(30, 400),
                          key_suffix="74-printed", correction=corr)


def c3_formula(c: Configuration) -> float:
    """``C3 = a0^2 ||H e0||^2 / sigma0^2`` (Eq. 40 at ``k = 0``; claim E74-80, Eq. 78)."""
    p = c.problem
    e0 = p.e(c.w0)
    return float(c.a0**2 * np.sum((p.H @ e0) ** 2) / (c.w0 @ p.H @ c.w0))


def c3_holds(c: Configuration, formula=c3_formula) -> Outcome:
    """Eq. (78): ``(||w1||^2 - ||w0||^2) / eps^2`` is the same for every ``eps`` of a grid over
    12 decades and equals ``formula(c)``.  The grid keeps ``C3 eps^2 >= 1e-4 ||w0||^2`` so that
    the difference of squared norms carries at least 1e-4 / (8 d 2^-52) significant bits:
    tolerance relative ``1e-9`` (rounding of the two squared norms, ``8 d 2^-52 ||w1||^2``,
    divided by the difference)."""
    p = c.problem
    if p.norm_H(p.e(c.w0)) <= 1e-6 * p.u_norm_H and formula is c3_formula:
        return c3_holds_mp(c)
    C3 = formula(c)
    n0 = float(c.w0 @ c.w0)
    if C3 <= 0:  # a0 = 0 or e0 = 0: w1 = w0 for every eps
        eps = np.logspace(-3, 3, 7)
    else:
        e_min = np.sqrt(1e-4 * n0 / C3)
        eps = e_min * np.logspace(0, 12, 13)
    _, w1 = step(p, "bngd", np.full(len(eps), c.a0), np.broadcast_to(c.w0, (len(eps), p.d)),
                 eps, c.eps_a)
    diff = np.sum(w1**2, axis=1) - n0
    est = diff / eps**2
    tol = 1e-9 * max(C3, 1e-300) + 8 * p.d * EPS_MACH * np.sum(w1**2, axis=1) / eps**2
    ok = np.abs(est - C3) <= tol
    return Outcome(bool(ok.all()), {"C3_formula": C3, "C3_estimates": [float(x) for x in est],
                                    "eps_grid": [float(eps[0]), float(eps[-1])]})


def c3_holds_mp(c: Configuration, digits: int = 100) -> Outcome:
    """Eq. (78) at ``digits`` digits, for ``w0`` (nearly) parallel to ``u`` where float64 cannot
    resolve ``e0`` (``||e0||_H <= 1e-6 ||u||_H``: ``e0`` is then mostly rounding): ``C3`` from the
    exact float inputs, ``||w1||^2`` from ``run_mp`` for three ``eps``; tolerance relative 1e-30
    plus ``1e-60 ||w0||^2 / eps^2`` at 100 digits (the update cancels digits in ``g - t H w0``)."""
    import mpmath

    from bnverify.dynamics.mp import run_mp

    p = c.problem
    kw = {"H_diag": np.diag(p.H).tolist()} if p.is_diagonal else {"H": p.H.tolist()}
    with mpmath.workdps(digits + 10):
        H = mpmath.matrix(p.H.tolist())
        u = mpmath.matrix(p.u.tolist())
        w = mpmath.matrix(c.w0.tolist())
        s2 = (w.T * H * w)[0]
        t = (w.T * H * u)[0] / s2
        He = H * (u - t * w)
        C3 = mpmath.mpf(c.a0) ** 2 * sum(x**2 for x in He) / s2
        n0 = sum(x**2 for x in w)
        errs = []
        for eps in (1e-2, 1.0, 1e3):
            r = run_mp(u=p.u.tolist(), w0=c.w0.tolist(), a0=c.a0, eps=eps, eps_a=c.eps_a,
                       steps=1, precision=digits, **kw)
            e2 = mpmath.mpf(eps) ** 2
            est = (sum(x**2 for x in r.w) - n0) / e2
            # allowed: 1e-30 relative, plus 1e-60 n0 / eps^2: the update g - t H w0 cancels
            # ~log10(|t| ||H w0|| / ||H e0||) digits (about 17 for float inputs parallel to u,
            # more with large a0 or kappa), so the 100-digit ||w1||^2 is trusted to 60 digits
            # relative to ||w0||^2
            errs.append(abs(est - C3) / (mpmath.mpf("1e-30") * C3 + mpmath.mpf("1e-60") * n0 / e2))
        worst = max(errs)
    return Outcome(bool(worst <= 1),
                   {"C3_mp": float(C3), "max_error_over_tolerance": float(worst),
                    "digits": digits})


@check("E74-80", method="property-78")
def e78_property(ctx: CheckContext) -> MethodResult:
    strat = configurations(max_d=6, kappa_max=1e6, degenerate_u=False)
    return check_property("E74-80", strat, c3_holds, ctx,
                          statement="||w1||^2 - ||w0||^2 = C3 eps^2 with C3 = a0^2 ||H e0||^2/"
                                    "sigma0^2 independent of eps",
                          tolerance="relative 1e-9 plus the rounding of the squared norms",
                          max_examples=ctx.n(20, 400), key_suffix="78")


def norm_growth_constant(p, x: dict, steps: int = 20000, power: float = 1.0) -> Outcome:
    """Eq. (76): for ``eps/||w0||^2 < eps0``, ``||w_k||^2 <= ||w0||^2 + C eps`` for *all* k,
    with ``C`` independent of ``eps``.  The total growth is only reached once the run has
    converged, so the grid is ``eps = eps0 ||w0||^2 [0.03, 1]`` (where ``steps`` iterations
    reach ``||e~||_H <= 1e-6 ||u||_H``, checked) and the estimate ``(||w_K||^2 - ||w0||^2)/eps``
    must not grow as eps shrinks (log-log slope above -0.1; ``C eps^2`` would give slope -1).
    ``power`` replaces the exponent of eps (mutation tests).  Runs that did not converge make
    the outcome fail (reported as not converged)."""
    from bnverify.dynamics.batched import run

    e0 = float(eps0_lemma_a12(p, x["a0"], x["eps_a"]))
    n0 = float(x["w0"] @ x["w0"])
    eps = e0 * n0 * np.logspace(np.log10(0.03), 0, 5)
    r = run(p, "bngd", eps=eps, w0=x["w0"], eps_a=x["eps_a"], a0=x["a0"], steps=steps)
    conv = bool(np.all(r.e_tilde_norm_H <= 1e-6 * p.u_norm_H))
    growth = (r.w_norm**2 - n0) / eps**power
    C = float(np.max(growth))
    with np.errstate(all="ignore"):
        slope = float(np.polyfit(np.log10(eps), np.log10(np.maximum(growth, 1e-300)), 1)[0])
    return Outcome(bool(conv and np.isfinite(C) and slope > -0.1),
                   {"C_estimate": C, "log_log_slope": slope, "converged": conv})


@check("E74-80", method="sweep-76")
def e76_sweep(ctx: CheckContext) -> MethodResult:
    """Sweep estimating ``C`` of Eq. (76) on configurations meeting Lemma A.12's hypotheses
    (``a0 w0^T g > 0``, ``||w0|| = 1``, ``||u|| = 1``)."""
    from bnverify.convergence import random_problem
    from bnverify.convergence_harness import t331_batch

    rng = ctx.rng("E76")
    rows = []
    for _ in range(ctx.n(4, 20)):
        # kappa <= 5 and eps_a >= 0.5 keep eps0 large enough to converge within 20000 steps
        p = random_problem(rng, (2, 5), 5.0)
        x = {k: v[0] for k, v in t331_batch(rng, p, 1, eps_a=(0.5, 1.0)).items()}
        x["a0"] = x["a0"] if x["a0"] != 0 else float(np.sign(x["w0"] @ p.g))
        o = norm_growth_constant(p, x, steps=ctx.n(20000, 200000))
        rows.append({**o.measured, "holds": o.holds})
    bad = [r for r in rows if not r["holds"]]
    Cs = [r["C_estimate"] for r in rows]
    det = {"rows": rows}
    if bad:
        nc = sum(not r["converged"] for r in bad)
        verdict = "inconclusive" if nc == len(bad) else "refuted"
        return MethodResult(verdict, "sweep-76", f"Eq. (76): (||w_k||^2 - ||w0||^2)/eps grows "
                            f"as eps -> 0 or runs unconverged in {len(bad)}/{len(rows)} sweeps "
                            f"({nc} unconverged)", details=det)
    return MethodResult("verified", "sweep-76",
                        f"Eq. (76): ||w_k||^2 <= ||w0||^2 + C eps on {len(rows)} sweeps over "
                        f"eps/||w0||^2 in eps0 [0.03, 1] run to convergence; estimated C in "
                        f"[{min(Cs):.3g}, {max(Cs):.3g}]", details=det)


#: working precision of the ball replays (bits)
BITS = 320


def _arb_str(x) -> str:
    return x.str(20, radius=True)


def _arb_iterates(cex: dict[str, Any], n: int):
    """``n + 1`` iterates of Eq. 9-10 in arb balls at :data:`BITS` bits from the exact inputs."""
    from flint import arb, ctx

    H, u, _ = problem(cex)
    A = lambda x: arb(x.numerator) / x.denominator  # noqa: E731  exact when representable
    old = ctx.prec
    ctx.prec = BITS
    try:
        Hb = [[A(x) for x in row] for row in H]
        ub = [A(x) for x in u]
        g = mv(Hb, ub)
        a = A(q(cex["a0"]))
        w = [A(q(x)) for x in cex["w0"]]
        ea, e = A(q(cex["eps_a"])), A(q(cex["eps"]))
        out = []
        for k in range(n + 1):
            Hw = mv(Hb, w)
            s2 = dot(w, Hw)
            s = s2.sqrt()
            y = dot(w, g)
            out.append({"a": a, "w": w, "sigma": s, "y": y, "eff": e * a * y / (s * s2),
                        "n2": dot(w, w)})
            if k < n:
                a, w = a + ea * (y / s - a), [wi + e * (a / s) * (gi - (y / s2) * hi)
                                               for wi, gi, hi in zip(w, g, Hw, strict=True)]
        return out
    finally:
        ctx.prec = old


@certify("E74-80", "property-74")
def replay_e74(cex: dict[str, Any], res: MethodResult) -> Replay:
    from flint import arb, ctx

    H, u, diag = problem(cex)
    if not diag:
        return Replay(None, "certified", f"arb {BITS} bits", "non-diagonal H")
    k = int((res.details.get("measured") or {}).get("first_lower_violation_k", -1))
    if k < 0 or k > 200:
        return Replay(None, "certified", f"arb {BITS} bits", "no lower-bound violation to replay")
    it = _arb_iterates(cex, k)
    old = ctx.prec
    ctx.prec = BITS
    try:
        lmax = max(H[i][i] for i in range(len(u)))
        a0 = arb(q(cex["a0"]).numerator) / q(cex["a0"]).denominator
        e = arb(q(cex["eps"]).numerator) / q(cex["eps"]).denominator
        y0s0 = it[0]["y"] / it[0]["sigma"]
        lo = a0 * y0s0 * e / ((arb(lmax.numerator) / lmax.denominator) * it[k]["n2"])
        eff = it[k]["eff"]
        below = bool(eff < lo)  # True only when the balls are disjoint
        above = bool(eff >= lo)
    finally:
        ctx.prec = old
    return Replay(
        True if below else (False if above else None),
        "certified",
        f"arb {BITS} bits",
        f"at k = {k}: eps^_k in {_arb_str(eff)} < printed lower bound a0 (y0/sigma0) eps/"
        f"(lambda_max ||w_k||^2) in {_arb_str(lo)} (disjoint balls)" if below else
        f"at k = {k}: eps^_k in {_arb_str(eff)}, lower bound in {_arb_str(lo)}",
        {"k": k, "eff_step": _arb_str(eff), "lower_bound": _arb_str(lo)},
    )


@probe("E74-80")
def _e74(cr, ctx):
    from bnverify.strategies import Configuration

    cex = refuting_counterexample(cr, "property-74") or refuting_counterexample(cr)
    if cex is None or "w0" not in cex:
        return None
    h0, u0 = h_diagonal(cex), np.asarray(cex["u"], dtype=float)

    def one(rng, radius):
        p = OLSProblem(jitter_h(h0, rng, radius), jitter(u0, rng, radius))
        w0 = jitter(np.asarray(cex["w0"], dtype=float), rng, radius)
        a0 = float(cex["a0"]) * (1 + radius * rng.standard_normal())
        eps = float(cex["eps"]) * (1 + radius * rng.standard_normal())
        cfg = Configuration(p, a0, w0, float(cex["eps_a"]), eps, "perturbed")
        return not e74_bounds_hold(cfg)

    return classify(neighbourhood(one, n=8, seed=probe_seed(ctx)), "at the drawn configuration",
                    "on an open set (the printed lower constant of Eq. 74 is too large)")

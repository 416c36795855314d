"""§B.1 MBNGD proof (with the introduction of Appendix B) -- claims E81 (eq. 81: MBNGD is BNGD
with ``a_k = w_k^T g / sigma_k``), T-B.1 (Thm. B.1, proved as Thm. B.4), L-B.2 (Lemma B.2),
L-B.3 (Lemma B.3).

The engines run ``method="mbngd"``; limits are decided by :func:`bnverify.convergence.decide`
through :func:`bnverify.convergence_harness.t33_verdict`.  E81 is checked numerically (the MBNGD
step against BNGD with the optimal ``a``) and symbolically (``@derivation``).

Readings of the printed (garbled) text
--------------------------------------
* T-B.1: the printed ``w0^T g = 0`` is the extraction's rendering of ``!=`` (with ``= 0`` the
  iteration is at a saddle and never moves).  Same reading in L-B.2, whose ``eps0`` is read as
  ``eps0 = 2/(kappa lambda_max)`` (with ``||u|| = 1``).
* L-B.3: ``delta`` is garbled; read as ``delta = ||g|| / (4 kappa)`` with ``||w_k|| >= 1``; the
  reading ``delta = ||g||/4`` (no kappa) is checked too and reported in the details.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import sympy as sp
from hypothesis import strategies as st

from bnverify.claims import CheckContext, MethodResult, check
from bnverify.convergence import (
    MINIMISER,
    SADDLE,
    UNDECIDED,
    decide,
    random_problem,
    unit_rows,
)
from bnverify.convergence_harness import t33_verdict
from bnverify.dynamics.batched import step
from bnverify.model import OLSProblem
from bnverify.properties import Outcome, check_property, monte_carlo_result
from bnverify.strategies import Configuration, configurations, log_floats, problems
from bnverify.symbolic import algebra as A
from bnverify.symbolic import objective as O
from bnverify.symbolic.derivation import Derivation, derivation
from bnverify.symbolic.explicit import Instance

a, sigma, y, eps, eps_a, g, w, Hw = A.a, A.sigma, A.y, A.eps, A.eps_a, A.g, A.w, A.Hw
UNIT = float(np.finfo(float).eps)  # unit roundoff 2^-52 (the spacing of doubles at 1)

def printed_mbngd_step(problem: OLSProblem, w: np.ndarray, eps: float) -> np.ndarray:
    """Eq. (81) as printed: ``w + ε (w^T g/σ^2)(g - (w^T g/σ^2) H w)`` (the claim's formula)."""
    g = problem.g
    Hw = problem.H @ w
    t = float(w @ g) / float(w @ Hw)
    return w + eps * t * (g - t * Hw)


def mbngd_matches(cfg, steps: int = 8, variant: str = "printed") -> Outcome:
    """E81 along an MBNGD trajectory of the engine (``step(..., "mbngd")``): at every iterate,
    (i) the engine's MBNGD step equals the engine's BNGD step with ``a_k = w_k^T g/σ_k`` and
    (ii) the printed Eq. (81).  Tolerance: the three evaluate the same expression in different
    orders, so they differ by rounding only: ``16 d u S + 4 |ε| δt (||g|| + 2|t| λmax ||w||)`` with
    ``S = ||w|| + |ε t| (||g|| + |t| λmax ||w||)`` the magnitude of the summed terms
    (``t = w^T g/σ^2``, ``H w`` rounded at ``d u λmax ||w||``) and ``δt`` the rounding bound of
    ``t`` (``d u (||g|| ||w|| + |t| λmax ||w||^2)/σ^2``).  ``variant="wrong-a"`` enforces ``a_k = w_k^T g/σ_k^2`` (mutation)."""
    p = cfg.problem
    w = np.asarray(cfg.w0, dtype=float)
    worst = 0.0
    for k in range(steps):
        Hw = p.H @ w
        wg = float(w @ p.g)
        s2 = float(w @ Hw)
        sig = np.sqrt(s2)
        a_enf = wg / sig if variant != "wrong-a" else wg / s2
        _, w_m = step(p, "mbngd", 0.0, w, cfg.eps)
        _, w_b = step(p, "bngd", a_enf, w, cfg.eps, 1.0)
        w_p = printed_mbngd_step(p, w, cfg.eps)
        t = wg / s2
        lam_max, nw, ng = p.lambda_max, np.linalg.norm(w), np.linalg.norm(p.g)
        # rounding of t = w^T g / w^T H w (dense H: H w cancels down to lambda_min |w|)
        dt = p.d * UNIT * (ng * nw + abs(t) * lam_max * nw**2) / s2
        S = nw + abs(cfg.eps * t) * (ng + abs(t) * lam_max * nw)
        if not np.isfinite(S) or not np.all(np.isfinite(w_m)):
            break
        tol = 16 * p.d * UNIT * S + 4 * abs(cfg.eps) * dt * (ng + 2 * abs(t) * lam_max * nw)
        err = max(np.linalg.norm(w_m - w_b), np.linalg.norm(w_m - w_p))
        worst = max(worst, err / S)
        if err > tol:
            return Outcome(False, {"step": k, "difference": err, "tolerance": tol})
        w = w_m
    return Outcome(True, {"max_relative_difference": worst})


@check("E81", method="property",
       reading="Eq. (81) as printed: w_{k+1} = w_k + ε (w_k^T g/σ_k^2)(g - (w_k^T g/σ_k^2) H w_k),"
               " BNGD (Eq. 10) with a_k = w_k^T g/σ_k substituted at every step.")
def check_e81(ctx) -> MethodResult:
    """E81 (Eq. 81, App. B): engine MBNGD iterates = engine BNGD step with a enforced = Eq. 81."""
    strat = configurations(max_d=12, eps=log_floats(1e-4, 1e4), w0_kinds=(
        "generic", "parallel-u", "near-saddle", "eigenvector"))
    return check_property(
        "E81", strat, mbngd_matches, ctx,
        statement="MBNGD step = BNGD step with a_k = w_k^T g/σ_k = printed Eq. (81), 8 steps",
        tolerance="rounding bound 16 d u (||w|| + |ε t|(||g|| + |t| λmax ||w||)) + t-rounding: same expression, other order",
        max_examples=ctx.n(25, 500),
    )


def mbngd_decisions(ctx: CheckContext, salt: str, *, n_problems: int, n_per: int,
                    log_eps: tuple[float, float] | None = None,
                    log_eps_eff: tuple[float, float] | None = None,
                    eps_factor: tuple[float, float] | None = None, unit_u: bool = True,
                    max_steps: int = 20000) -> tuple[dict[str, int], list[dict], dict]:
    """Decide MBNGD runs from random ``w0`` (direction uniform, norm log-uniform in [1e-3, 1e3]).
    ``eps``: log-uniform in ``10^log_eps``; or ``10^t ||w0||^2/lambda_max`` (``log_eps_eff``); or a
    fraction ``eps_factor`` of the bound ``2 ||w0||^2 / (lambda_max kappa ||u||^2)`` of T-B.1."""
    rng = ctx.rng(salt)
    counts = {MINIMISER: 0, SADDLE: 0, "diverged": 0, UNDECIDED: 0}
    ex: list[dict[str, Any]] = []
    min_y = np.inf
    for i in range(n_problems):
        p = random_problem(rng, (2, 6), 30.0, dense=(i % 3 == 2))
        if not unit_u:
            p = OLSProblem(p.H, p.u * 10 ** rng.uniform(-1, 1))
        w0 = unit_rows(rng, n_per, p.d) * 10 ** rng.uniform(-3, 3, (n_per, 1))
        n2 = np.sum(w0**2, axis=1)
        if log_eps is not None:
            eps = 10 ** rng.uniform(*log_eps, n_per)
        elif log_eps_eff is not None:
            eps = 10 ** rng.uniform(*log_eps_eff, n_per) * n2 / p.lambda_max
        else:
            bound = 2 * n2 / (p.lambda_max * p.kappa * float(p.u @ p.u))
            eps = rng.uniform(*eps_factor, n_per) * bound
        dec = decide(p, "mbngd", eps=eps, w0=w0, max_steps=max_steps)
        for k, v in dec.counts().items():
            counts[k] += v
        m = dec.label == MINIMISER
        if m.any():  # |w^T g| / (sigma ||u||_H) at the decided minimisers (-> 1)
            min_y = min(min_y, float(np.min(np.abs(dec.a[m])) / p.u_norm_H))
        for j in np.flatnonzero(dec.label != MINIMISER)[:2]:
            ex.append({**p.to_json(), "a0": 1.0, "w0": w0[j].tolist(), "eps_a": 1.0,
                       "eps": float(eps[j]), "method": "mbngd", "steps": max_steps,
                       "comment": f"decision: {dec.label[j]}"})
    return counts, ex, {"min_abs_y_over_sigma_at_minimisers": min_y}


def mbngd_lemma_decisions(ctx: CheckContext, salt: str, *, n_problems: int, n_per: int,
                          log_eps: tuple[float, float] = (-8.0, 16.0), max_steps: int = 20000
                          ) -> dict[str, Any]:
    """The draws of :func:`mbngd_decisions` (``eps`` log-uniform in ``10^log_eps``), decided
    through Lemma B.2 (as printed, or with the constants of the state at ``K``;
    :mod:`bnverify.lemma_chain`): hypotheses proved on Arb balls of the exact state at the first
    ``K`` where they hold.  Configurations the chain leaves undecided go to
    :func:`bnverify.convergence.decide` (float64, sampled).  Returns the details."""
    from bnverify import lemma_chain as lc

    rng = ctx.rng(salt)
    records: list[dict[str, Any]] = []
    by_lemma: dict[str, int] = {}
    undecided: list[dict[str, Any]] = []
    fallback = {MINIMISER: 0, SADDLE: 0, "diverged": 0, UNDECIDED: 0}
    for i in range(n_problems):
        p = random_problem(rng, (2, 6), 30.0, dense=(i % 3 == 2))
        w0 = unit_rows(rng, n_per, p.d) * 10 ** rng.uniform(-3, 3, (n_per, 1))
        eps = 10 ** rng.uniform(*log_eps, n_per)
        ones = np.ones(n_per)
        recs = lc.decide_batch(p, a0=ones, w0=w0, eps=eps, eps_a=ones, max_steps=max_steps,
                               method="mbngd")
        und = [j for j, r in enumerate(recs) if not r["decided"]]
        for j, r in enumerate(recs):
            if r["decided"]:
                by_lemma[r["lemma"]] = by_lemma.get(r["lemma"], 0) + 1
                records.append({"K": r["K"], "lemma": r["lemma"], "margins": r["margins"],
                                "bits": r["bits"],
                                "conclusion_violated": r.get("conclusion_violated", False)})
            else:
                undecided.append({**p.to_json(), "a0": 1.0, "w0": w0[j].tolist(), "eps_a": 1.0,
                                  "eps": float(eps[j]), "method": "mbngd", "steps": max_steps,
                                  "comment": f"lemma chain: {r['reason']}"})
        if und:
            idx = np.array(und)
            dec = decide(p, "mbngd", eps=eps[idx], w0=w0[idx], max_steps=max_steps)
            for lab in dec.label.tolist():
                fallback[lab] += 1
    n = n_problems * n_per
    Ks = [r["K"] for r in records]
    return {"problems": n_problems, "per_problem": n_per, "n": n,
            "decided_fraction": len(records) / n, "decided_by_lemma_chain": len(records),
            "by_lemma": by_lemma, "lemma_chain": {k: lc.LEMMA_TEXT[k] for k in (lc.B2, lc.B2S)},
            "K_max": max(Ks) if Ks else None,
            "K_median": float(np.median(Ks)) if Ks else None,
            "min_margin_bound": min((r["margins"]["bound"] for r in records), default=None),
            "min_margin_sign": min((r["margins"]["sign"] for r in records), default=None),
            "records": records,
            "conclusion_violations_float64_200_steps": sum(r["conclusion_violated"]
                                                            for r in records),
            "chain_undecided": undecided,
            "fallback_float64_decision": fallback, "max_steps": max_steps,
            "log_eps": list(log_eps)}


@check("T-B.1", method="decision", reading=(
    "Convergence to a global minimiser read as: Lemma B.2's hypotheses (w_K^T g != 0, "
    "eps/||w_K||^2 < eps0 = 2/(kappa lambda_max ||u||^2), or the same chain with the constants of "
    "the state at K) hold at some step K, proved in Arb ball arithmetic on the exact state at K; "
    "configurations outside the chain go to the float64 decision procedure (sampled); the garbled "
    "sufficient condition read as eps < 2||w0||^2/(lambda_max kappa ||u||^2) and w0^T g != 0."))
def tb1_full_range(ctx: CheckContext) -> MethodResult:
    """Any ``eps`` in [1e-8, 1e16], each configuration decided through Lemma B.2 (certified);
    the evidence class is ``certified`` when the chain decided every configuration."""
    det = mbngd_lemma_decisions(ctx, "T-B.1-full", n_problems=ctx.n(3, 12),
                                n_per=ctx.n(100, 1500))
    n, nc = det["n"], det["decided_by_lemma_chain"]
    fb = det["fallback_float64_decision"]
    bl = ", ".join(f"{v} by {k}" for k, v in sorted(det["by_lemma"].items()))
    ev = (f"T-B.1 (MBNGD, eps in [1e-8, 1e16]): {nc}/{n} = {nc / n:.1%} decided at a global "
          f"minimiser through Lemma B.2 -> A.11, certified in ball arithmetic ({bl}; first "
          f"K <= {det['K_max']}, median {det['K_median']:g}); float64 cross-check of the "
          f"conclusion (200 steps from K): {det['conclusion_violations_float64_200_steps']} "
          f"violations")
    if n - nc:
        ev += (f"; {n - nc} outside the chain's hypotheses within {det['max_steps']} steps, "
               f"float64 decision: " + ", ".join(f"{v} {k}" for k, v in fb.items() if v))
    cls = "certified" if nc == n else None
    if fb["diverged"] or fb[SADDLE]:
        ex = next((e for e in det["chain_undecided"]), None)
        return MethodResult("refuted", "decision", ev, details=det, counterexample=ex)
    if fb[UNDECIDED]:
        return MethodResult("inconclusive", "decision", ev + "; undecided runs are not counted",
                            details=det, evidence_class=cls)
    return MethodResult("verified", "decision", ev, details=det, evidence_class=cls)


@check("T-B.1", method="decision-window")
def tb1_window(ctx: CheckContext) -> MethodResult:
    """``eps lambda_max/||w0||^2`` in [1e-2, 1e2]: every run decided, at a minimiser (random
    ``w0`` have ``w_k^T g != 0`` for all ``k`` with probability 1)."""
    counts, ex, det = mbngd_decisions(ctx, "T-B.1-window", n_problems=ctx.n(3, 12),
                                      n_per=ctx.n(150, 1500), log_eps_eff=(-2.0, 2.0),
                                      max_steps=40000)
    return t33_verdict("T-B.1", counts, ex, det,
                       "T-B.1 (MBNGD, eps lambda_max/||w0||^2 in [1e-2, 1e2])",
                       target=(MINIMISER,))


@check("T-B.1", method="decision-small-eps")
def tb1_small_eps(ctx: CheckContext) -> MethodResult:
    """The particular case: ``eps`` in ``[0.1, 1)`` times ``2||w0||^2/(lambda_max kappa ||u||^2)``,
    ``||u||`` log-uniform in [0.1, 10] (the bound is not scale-free in ``u``): minimiser."""
    counts, ex, det = mbngd_decisions(ctx, "T-B.1-small", n_problems=ctx.n(3, 12),
                                      n_per=ctx.n(100, 1000), eps_factor=(0.1, 1.0),
                                      unit_u=False, max_steps=60000)
    return t33_verdict("T-B.1", counts, ex, det,
                       "T-B.1 (eps < 2||w0||^2/(lambda_max kappa ||u||^2), w0^T g != 0)",
                       target=(MINIMISER,))


def exact_perp_w0(p: OLSProblem, i: int = 0, j: int = 1) -> np.ndarray:
    """``w0`` with ``w0^T g = 0`` *exactly* in float64: ``w0_i = g_j``, ``w0_j = -g_i`` (the two
    products are equal and cancel exactly; the other coordinates are 0).  For diagonal ``H``."""
    w = np.zeros(p.d)
    w[i], w[j] = p.g[j], -p.g[i]
    return w


def saddle_iff_holds(c: Configuration, *, perturb: float, undecided_ok: bool = False
                     ) -> Outcome:
    """``perturb = 0``: ``w0^T g = 0`` exactly -> decided 'saddle' (``w_k = w0`` for all k);
    ``perturb > 0``: ``w0 + perturb ||w0|| g/||g||`` (``w_k^T g != 0`` for all k by L-B.3) ->
    decided 'minimiser'.  ``undecided_ok``: an undecided run is not a counterexample (the caller
    counts such runs and reports them; they never make the check verified)."""
    p = c.problem
    w0 = exact_perp_w0(p)
    if perturb:
        w0 = w0 + perturb * np.linalg.norm(w0) * p.g / np.linalg.norm(p.g)
    dec = decide(p, "mbngd", eps=c.eps, w0=w0, max_steps=40000, chunk=10000)
    want = SADDLE if perturb == 0 else MINIMISER
    lab = str(dec.label.item())
    return Outcome(lab == want or (lab == UNDECIDED and undecided_ok),
                   {"decision": lab, "w0_Tg": float(w0 @ p.g)})


def perp_configs():
    """Diagonal problems (d >= 2, generic u, ``kappa <= 30``) with ``w0`` exactly orthogonal to
    ``g`` and ``eps lambda_max / ||w0||^2`` in [1e-1, 10]: the runs stay decidable."""
    def build(p: OLSProblem, t: float) -> Configuration:
        w0 = exact_perp_w0(p)
        return Configuration(p, 1.0, w0, 1.0, t * float(w0 @ w0) / p.lambda_max, "perp-g")

    return st.builds(build, problems(min_d=2, max_d=6, kappa_max=30.0, dense=False,
                                     degenerate_u=False).filter(
                                         lambda p: min(abs(p.g[0]), abs(p.g[1]))
                                         >= 1e-3 * np.linalg.norm(p.g)),
                     log_floats(1e-1, 1e1))


@check("T-B.1", method="property-saddle-iff")
def tb1_saddle_iff(ctx: CheckContext) -> MethodResult:
    """'converges to a saddle iff w_k^T g = 0 for some k': exact ``w0 ⟂ g`` gives a saddle, and a
    relative perturbation of 1e-6 toward ``g`` gives a minimiser."""
    a = check_property("T-B.1", perp_configs(), lambda c: saddle_iff_holds(c, perturb=0.0), ctx,
                       statement="w0^T g = 0 exactly => decided saddle",
                       tolerance="decision criteria of bnverify.convergence (tol 1e-8)",
                       max_examples=ctx.n(15, 200), key_suffix="iff-exact")
    if a.verdict != "verified":
        return a
    undecided = []

    def near(c: Configuration) -> Outcome:
        o = saddle_iff_holds(c, perturb=1e-6, undecided_ok=True)
        if o.measured["decision"] == UNDECIDED:
            undecided.append(c.to_json(method="mbngd"))
        return o

    b = check_property("T-B.1", perp_configs(), near, ctx,
                       statement="w0^T g = 1e-6 relative => decided minimiser",
                       tolerance="decision criteria of bnverify.convergence (tol 1e-8)",
                       max_examples=ctx.n(15, 200), key_suffix="iff-near")
    if b.verdict == "verified":
        b.evidence = a.evidence + "; " + b.evidence
        if undecided:
            b.verdict = "inconclusive"
            b.evidence += f"; {len(undecided)} perturbed runs undecided (not counted)"
            b.details["undecided_examples"] = undecided[:3]
    return b


@check("T-B.1", method="monte-carlo")
def tb1_monte_carlo(ctx: CheckContext) -> MethodResult:
    """Measure zero: random ``w0 ~ N(0, I)``, ``eps lambda_max/||w0||^2`` in [1e-1, 1e2]; event:
    decided saddle."""
    rng = ctx.rng("T-B.1:mc")
    k = n = und = 0
    for i in range(ctx.n(4, 20)):
        p = random_problem(rng, (2, 6), 30.0, dense=(i % 3 == 2))
        B = ctx.n(250, 2500)
        w0 = rng.standard_normal((B, p.d))
        eps = 10 ** rng.uniform(-1, 2, B) * np.sum(w0**2, axis=1) / p.lambda_max
        c = decide(p, "mbngd", eps=eps, w0=w0).counts()
        k += c[SADDLE]
        und += c[UNDECIDED]
        n += B
    res = monte_carlo_result("T-B.1", k, n - und, event="converged to a saddle",
                             statement="MBNGD: saddles attract a null set of w0",
                             details={"undecided": und, "drawn": n})
    if und:
        res.evidence += f"; {und} of {n} undecided (not counted)"
    return res


@check("L-B.2", method="decision", reading=(
    "'w^T g = 0' read as w0^T g != 0 (extraction of !=); eps0 = 2/(kappa lambda_max), ||u|| = 1."))
def lb2_decision(ctx: CheckContext) -> MethodResult:
    """``||u|| = 1``, ``eps/||w0||^2`` in ``[0.5, 1) eps0``, ``eps0 = 2/(kappa lambda_max)``:
    every run decided 'minimiser'."""
    counts, ex, det = mbngd_decisions(ctx, "L-B.2", n_problems=ctx.n(3, 12),
                                      n_per=ctx.n(100, 1000), eps_factor=(0.5, 1.0),
                                      max_steps=60000)
    return t33_verdict("L-B.2", counts, ex, det, "L-B.2 (eps/||w0||^2 < 2/(kappa lambda_max))",
                       target=(MINIMISER,))


def lb2_eff_step_bounds(c: Configuration, steps: int = 100) -> Outcome:
    """Eq. (82)-(83) along the run: ``eps^_k <= eps kappa ||u||^2/||w0||^2 < 2/lambda_max`` and
    ``q_(k+1) <= q_k`` (relative tolerance 1e-12; ``q`` from the vector ``e``, Eq. 35)."""
    from bnverify.convergence import trajectory, trajectory_scalars

    p = c.problem
    A, W = trajectory(p, "mbngd", a0=1.0, w0=c.w0, eps=c.eps, steps=steps)
    s = trajectory_scalars(p, A, W, c.eps)
    eff, q = s["eff_step"], s["e_norm_H"] ** 2
    ub = c.eps * p.kappa * float(p.u @ p.u) / float(c.w0 @ c.w0)
    floor = (64 * p.d * 2.0**-52 * np.sqrt(p.kappa) * p.u_norm_H) ** 2
    ok = np.all(eff <= ub * (1 + 1e-12)) and ub < 2 / p.lambda_max and np.all(
        q[1:] <= q[:-1] * (1 + 1e-12) + floor)
    return Outcome(bool(ok), {"max_eff_over_bound": float(np.max(eff) / ub),
                              "bound_times_lambda_max": ub * p.lambda_max})


@check("L-B.2", method="property-82")
def lb2_property(ctx: CheckContext) -> MethodResult:
    strat = configurations(max_d=6, kappa_max=1e4, degenerate_u=False,
                           w0_kinds=("generic", "eigenvector", "near-saddle"),
                           eps=st.floats(0.01, 0.99)).filter(
        lambda c: abs(c.w0 @ c.problem.g) > 0).map(
        lambda c: Configuration(c.problem, 1.0, c.w0, 1.0, c.eps * 2 * float(c.w0 @ c.w0) / (
            c.problem.kappa * c.problem.lambda_max * float(c.problem.u @ c.problem.u)),
            c.w0_kind))
    return check_property("L-B.2", strat, lb2_eff_step_bounds, ctx,
                          statement="eps^_k <= eps kappa||u||^2/||w0||^2 < 2/lambda_max and "
                                    "q_k non-increasing (Eq. 82)",
                          tolerance="relative 1e-12 plus the float64 floor of q",
                          max_examples=ctx.n(30, 300), key_suffix="82")


def delta_kappa(p: OLSProblem) -> float:
    """``delta = ||g|| / (4 kappa)`` (the reading of L-B.3's garbled delta)."""
    return float(np.linalg.norm(p.g) / (4 * p.kappa))


def lb3_increase_holds(c: Configuration, delta=delta_kappa) -> Outcome:
    """``||w|| >= 1`` and ``0 < |y| < 2 delta`` => ``|y_(k+1)| > |y_k|`` after one MBNGD step.
    Where float64 shows no increase, the step is redone at 50 digits (``run_mp``) and the
    increase must exceed 1e-45 relative there."""
    p = c.problem
    y0 = float(c.w0 @ p.g)
    if not (np.linalg.norm(c.w0) >= 1 and 0 < abs(y0) < 2 * delta(p)):
        return Outcome(True, {"skipped": "hypothesis not met"})
    _, w1 = step(p, "mbngd", 1.0, c.w0, c.eps)
    y1 = float(w1 @ p.g)
    if abs(y1) > abs(y0):
        return Outcome(True, {"y0": y0, "y1": y1})
    import mpmath

    from bnverify.dynamics.mp import run_mp

    kw = {"H_diag": np.diag(p.H).tolist()} if p.is_diagonal else {"H": p.H.tolist()}
    r = run_mp(u=p.u.tolist(), w0=c.w0.tolist(), eps=c.eps, method="mbngd", steps=1,
               precision=50, **kw)
    with mpmath.workdps(60):
        H = mpmath.matrix(p.H.tolist())
        u = mpmath.matrix(p.u.tolist())
        g = H * u
        y0m = sum(mpmath.mpf(a) * b for a, b in zip(c.w0.tolist(), g, strict=True))
        y1m = sum(a * b for a, b in zip(r.w, g, strict=True))
        rel = (abs(y1m) - abs(y0m)) / abs(y0m)
    return Outcome(bool(rel > mpmath.mpf("1e-45")), {"y0": y0, "relative_increase_mp50":
                                                     float(rel)})


def lb3_states(scale_max: float = 1e3):
    """States ``w`` with ``||w|| >= 1`` and small ``|w^T g|``: near-saddle / orthogonal-to-g
    directions (plus a drawn multiple of ``g``) scaled to norm in [1, scale_max]."""
    @st.composite
    def build(draw):
        c = draw(configurations(max_d=6, kappa_max=1e4, degenerate_u=False,
                                w0_kinds=("near-saddle", "perp-g", "generic"),
                                eps=log_floats(1e-8, 1e16)))
        p = c.problem
        w = c.w0 / np.linalg.norm(c.w0)
        frac = draw(st.floats(-1.0, 1.0))
        w = w + frac * 2 * delta_kappa(p) * p.g / np.linalg.norm(p.g) ** 2
        w = w * draw(st.floats(1.0, scale_max)) / np.linalg.norm(w)
        return Configuration(p, 1.0, w, 1.0, c.eps, c.w0_kind)
    return build()


@check("L-B.3", method="property", reading=(
    "delta read as ||g||/(4 kappa) with ||w_k|| >= 1 (Eq. 85); the divergent sums checked through "
    "decided limits: runs with w_k^T g != 0 reach a minimiser, where |w^T g| stays bounded away "
    "from 0, so both sums diverge."))
def lb3_increase(ctx: CheckContext) -> MethodResult:
    res = check_property("L-B.3", lb3_states(), lb3_increase_holds, ctx,
                         statement="||w_k|| >= 1, 0 < |y_k| < 2 delta (delta = ||g||/(4 kappa)) "
                                   "=> |y_(k+1)| > |y_k|",
                         tolerance="strict in float64, else strict by > 1e-45 at 50 digits",
                         max_examples=ctx.n(40, 400), key_suffix="increase")
    alt = check_property("L-B.3", lb3_states(),
                         lambda c: lb3_increase_holds(c, delta=lambda p: float(
                             np.linalg.norm(p.g) / 4)), ctx,
                         statement="reading delta = ||g||/4 (no kappa)", tolerance="as above",
                         max_examples=ctx.n(40, 400), key_suffix="increase-alt")
    res.details["alternative_reading_delta_g_over_4"] = {
        "verdict": alt.verdict, "evidence": alt.evidence, "counterexample": alt.counterexample}
    return res


@check("L-B.3", method="decision")
def lb3_sums(ctx: CheckContext) -> MethodResult:
    """``w_k^T g != 0`` for all ``k`` (random ``w0``; near-saddle starts are covered by T-B.1's
    saddle-iff check): every run decided 'minimiser'; at the limit
    ``|w^T g|/(sigma ||u||_H) = 1 - O(1e-8)``, so ``|y_k|`` is bounded away from 0 and
    ``sum |y_k| = sum y_k^2 = infinity``."""
    counts, ex, det = mbngd_decisions(ctx, "L-B.3", n_problems=ctx.n(3, 12),
                                      n_per=ctx.n(100, 1000), log_eps_eff=(-1.0, 1.0))
    res = t33_verdict("L-B.3", counts, ex, det,
                      "L-B.3 (w_k^T g != 0 for all k => minimiser, terms y_k^2 -> y*^2 > 0)",
                      target=(MINIMISER,))
    res.evidence += (f"; min |w^T g|/(sigma ||u||_H) at the limits = "
                     f"{det['min_abs_y_over_sigma_at_minimisers']:.6f}")
    return res


@derivation(
    "E81",
    "BNGD is gradient descent on J; MBNGD (eq. 81) is its a-optimal limit",
    reading="Eq. (9)-(10): a_{k+1} = a_k + eps_a (w_k^T g/sigma_k - a_k), w_{k+1} = w_k + eps "
    "(a_k/sigma_k)(g - (w_k^T g/sigma_k^2) H w_k); Eq. (81), garbled, read (catalogue) as "
    "w_{k+1} = w_k + eps (w_k^T g/sigma_k^2)(g - (w_k^T g/sigma_k^2) H w_k), i.e. (10) with "
    "a_k = w_k^T g/sigma_k enforced.",
)
def e81(D: Derivation) -> None:
    J = O.objective_quadratic()
    a1, w1 = O.bngd_step(J)
    D.step(
        "Gradient descent on J (Eq. 16) with steps (eps_a, eps), using E17-18:",
        a1,
        lhs="a - \\epsilon_a \\partial_a J",
    )
    D.step("", w1, lhs="w - \\epsilon \\nabla_w J")
    D.compare("a-step (9)", D.printed("a step", a + eps_a * (y / sigma - a)), a1)
    D.compare(
        "w-step (10)", D.printed("w step", w + (g - Hw * (y / sigma**2)) * (eps * a / sigma)), w1
    )
    Ja = sp.diff(J, a)
    astar = sp.solve(Ja, a)[0]
    D.step(
        "J is a convex quadratic in a (d2J/da2 = 1); its minimiser for fixed w:",
        astar,
        lhs="a^*(w)",
    )
    w_m = w1.subs(a, astar).simplify()
    D.step("Enforcing a_k = a*(w_k) in (10):", w_m, lhs="w_{k+1}")
    D.compare(
        "MBNGD (81)", D.printed("MBNGD", w + (g - Hw * (y / sigma**2)) * (eps * y / sigma**2)), w_m
    )
    Jp = sp.simplify(J.subs(a, astar))
    D.step(
        "Equivalently, GD with step eps on the profile objective J~(w) = min_a J(a, w):",
        Jp,
        lhs="\\tilde J(w)",
    )
    w_p = (w - A.grad_w(Jp) * eps).simplify()
    D.compare("GD on the profile objective = MBNGD", w_p, w_m, role="corrected")
    D.note(
        "With eps_a = 1, BNGD sets a_{k+1} = a*(w_k) (the optimum for the previous w); MBNGD "
        "uses a*(w_k) in the same step in which w_k is updated."
    )

    def exact(d: int) -> bool:
        inst = Instance(d, extra=("epsilon", "epsa"))
        ep, epa = inst.gen["epsilon"], inst.gen["epsa"]
        Jx = O.explicit_objective(inst)
        gw = inst.grad_w(Jx)
        a1x = inst.a - epa * Jx.diff(inst.a)
        ok = inst.is_zero(a1x - (inst.a + epa * (inst.y * inst.t - inst.a)))
        w1x = [inst.w[i] - ep * gw[i] for i in range(d)]
        pr = [
            inst.w[i] + ep * inst.a * inst.t * (inst.g[i] - inst.y * inst.t**2 * inst.Hw[i])
            for i in range(d)
        ]
        ok &= inst.zero_all([w1x[i] - pr[i] for i in range(d)])
        # profile objective: J(a*(w), w) with a* = y t; its direct gradient is the MBNGD step
        Jp_x = inst.subs(Jx, {"a": inst.y * inst.t})
        gp = inst.grad_w(Jp_x)
        mb = [
            inst.w[i] + ep * inst.y * inst.t**2 * (inst.g[i] - inst.y * inst.t**2 * inst.Hw[i])
            for i in range(d)
        ]
        ok &= inst.zero_all([inst.w[i] - ep * gp[i] - mb[i] for i in range(d)])
        return ok

    D.exact("explicit GD step and profile-objective gradient from direct differentiation", exact)

    def num(pt):
        ep, epa = mpmath.mpf("0.6"), mpmath.mpf("0.45")
        wv, uu = pt.vecs["w"], pt.vecs["u"]
        fd = pt.fd_gradient(pt.J16, pt.a, wv)
        s = mpmath.sqrt(pt.dot(wv, pt.H * wv))
        gv = pt.H * uu
        yy = pt.dot(wv, gv)
        a_pr = pt.a + epa * (yy / s - pt.a)
        w_pr = wv + ep * (pt.a / s) * (gv - (yy / s**2) * (pt.H * wv))
        errs = [pt.a - epa * fd[0] - a_pr] + list(wv - ep * mpmath.matrix(fd[1:]) - w_pr)

        def Jprof(_a, ww):
            sw = mpmath.sqrt(pt.dot(ww, pt.H * ww))
            return pt.J16(pt.dot(ww, gv) / sw, ww)

        fdp = pt.fd_gradient(Jprof, pt.a, wv)
        w_mb = wv + ep * (yy / s**2) * (gv - (yy / s**2) * (pt.H * wv))
        errs += list(wv - ep * mpmath.matrix(fdp[1:]) - w_mb)
        return errs

    D.numeric("finite-difference GD steps on J and on the profile objective", num)

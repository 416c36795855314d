"""§2.1 Ordinary least squares -- claims S2.GD-step (eq. 3), S2.GD-rate (eq. 4), S2.GD-opt (eq. 5).

Gradient descent on the OLS objective: the step-size range of convergence, the rate ``rho(I - eps
H)`` and the optimal step ``2/(lambda_min + lambda_max)``.

* numeric: the engines (``bnverify.dynamics.batched.step`` for float64 iterates,
  ``bnverify.dynamics.mp.run_mp`` at 50 digits for the boundary ``eps = 2/lambda_max``);
* symbolic (``@derivation``): the error recurrence and its spectrum in eigen-coordinates for
  general d, cross-checked exactly for d = 1..4 and numerically at 50 digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from hypothesis import strategies as st

from bnverify.claims import MethodResult, check
from bnverify.dynamics.batched import step
from bnverify.dynamics.mp import run_mp
from bnverify.model import OLSProblem
from bnverify.properties import Outcome, check_property
from bnverify.strategies import Configuration, configurations, log_floats, problems, unit_vectors
from bnverify.symbolic import algebra as A
from bnverify.symbolic.derivation import Derivation, derivation
from bnverify.symbolic.explicit import Instance

eps, w, u = A.eps, A.w, A.u
UNIT = float(np.finfo(float).eps)  # unit roundoff 2^-52 (the spacing of doubles at 1)
DPS = 50  # working digits of the mpmath cross-checks (= bnverify.linalg_mp.DPS)

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


lmin, lmax, lam_i, kappa = sp.symbols("lambda_min lambda_max lambda_i kappa", positive=True)


def _gd_error_recurrence(D: Derivation) -> bool:
    J0 = sp.Rational(1, 2) * (u - w).hdot(u - w)  # Eq. (2) up to its constant
    grad = A.grad_w(J0).simplify()
    D.step(
        "Gradient of J0(w) = ||u - w||_H^2/2 (+ const), by the algebra:", grad, lhs="\\nabla J_0(w)"
    )
    w1 = w - grad * eps
    err = ((u - w1) - ((u - w) - (u - w).H() * eps)).simplify()
    D.step(
        "GD step (3) and its error: u - w_{k+1} - (I - eps H)(u - w_k) =",
        err,
        lhs="u - w_{k+1} - (I - \\epsilon H)(u - w_k)",
    )
    return not err.terms


def _gd_exact(d: int) -> bool:
    inst = Instance(d, extra=("epsilon",))
    ep = inst.gen["epsilon"]
    r = [inst.u[i] - inst.w[i] for i in range(d)]
    J0 = inst.dot(r, inst.mv(inst.H, r)) / 2
    gw = [J0.diff(wi) for wi in inst.w]
    w1 = [inst.w[i] - ep * gw[i] for i in range(d)]
    Hr = inst.mv(inst.H, r)
    return inst.zero_all([inst.u[i] - w1[i] - (r[i] - ep * Hr[i]) for i in range(d)])


@derivation(
    "S2.GD-step",
    "GD on OLS converges iff 0 < eps < 2/lambda_max (eq. 3)",
    reading="Eq. (3): 'converges if 0 < eps < 2/lambda_max =: eps_max' (catalogue: iff); read as "
    "convergence for every initial w_0.",
)
def gd_step(D: Derivation) -> None:
    ok = _gd_error_recurrence(D)
    D.compare(
        "error recurrence u - w_{k+1} = (I - eps H)(u - w_k)",
        sp.Integer(0),
        sp.Integer(0 if ok else 1),
    )
    D.step(
        "In the eigenbasis of H the i-th error component is multiplied by (1 - eps lambda_i) "
        "per step; it tends to 0 for every start iff |1 - eps lambda_i| < 1:",
        None,
    )
    sol = sp.solve_univariate_inequality(sp.Abs(1 - eps * lam_i) < 1, eps, relational=False)
    D.step("SymPy solves |1 - eps lambda_i| < 1 for eps > 0:", sol, lhs="\\epsilon \\in")
    D.step("The intersection over i = 1..d is (0, min_i 2/lambda_i) = (0, 2/lambda_max).", None)
    derived = sol.subs(lam_i, lmax)
    D.compare("convergence interval", D.printed("interval", sp.Interval.open(0, 2 / lmax)), derived)
    D.exact("error recurrence from the explicit gradient of J0", _gd_exact)

    def num(pt):
        ev = mpmath.eigsy(pt.H)[0]
        lm = max(ev)
        rho = [
            max(abs(1 - e_ * lv) for lv in ev)
            for e_ in (2 / lm * (1 - mpmath.mpf("1e-20")), 2 / lm * (1 + mpmath.mpf("1e-20")))
        ]
        return [0 if rho[0] < 1 < rho[1] else 1]

    D.numeric("rho(I - eps H) < 1 just below 2/lambda_max and > 1 just above (mpmath eigsy)", num)


@derivation(
    "S2.GD-rate",
    "GD contraction ||u - w_{k+1}|| <= rho(I - eps H) ||u - w_k|| (eq. 4)",
    reading="Eq. (4) with rho = max_i |1 - eps lambda_i(H)|.",
)
def gd_rate(D: Derivation) -> None:
    ok = _gd_error_recurrence(D)
    i = sp.Idx("i")
    dd = sp.Symbol("d", positive=True, integer=True)
    L, C = sp.IndexedBase("lambda"), sp.IndexedBase("c")
    rho = sp.Symbol("rho", positive=True)
    lhs = sp.Sum((1 - eps * L[i]) ** 2 * C[i] ** 2, (i, 1, dd))
    gap = sp.Sum(rho**2 * C[i] ** 2, (i, 1, dd)) - lhs
    termwise = sp.Sum((rho**2 - (1 - eps * L[i]) ** 2) * C[i] ** 2, (i, 1, dd))
    D.step(
        "In eigen-coordinates c_i of e_k = u - w_k (H symmetric, orthonormal eigenvectors), "
        "||e_k||^2 = sum c_i^2 and ||(I - eps H) e_k||^2 = sum (1 - eps lambda_i)^2 c_i^2, so",
        termwise,
        lhs="\\rho^2\\|e_k\\|^2 - \\|(I-\\epsilon H)e_k\\|^2",
    )
    D.step(
        "Each term is >= 0 because rho >= |1 - eps lambda_i| for every i (definition of rho); "
        "with the error recurrence this is (4), and equality holds for e_k along the "
        "eigenvector attaining the max, so rho is the best constant.",
        None,
    )
    D.compare("error recurrence (basis of (4))", sp.Integer(0), sp.Integer(0 if ok else 1))
    D.compare(
        "rho^2 ||e||^2 - ||(I - eps H) e||^2 as a sum of termwise-nonnegative terms",
        D.printed("termwise", termwise),
        gap,
    )
    D.exact("error recurrence from the explicit gradient of J0", _gd_exact)

    def num(pt):
        ev = mpmath.eigsy(pt.H)[0]
        out = []
        for e_ in (mpmath.mpf("0.05"), mpmath.mpf("0.3"), 2 / max(ev) * mpmath.mpf("1.3")):
            rho_v = max(abs(1 - e_ * lv) for lv in ev)
            ek = pt.vecs["x"]
            e1 = ek - e_ * (pt.H * ek)
            out.append(max(mpmath.norm(e1) - rho_v * mpmath.norm(ek), 0))
        return out

    D.numeric("||(I - eps H) e|| <= rho ||e|| at random e, three step sizes", num)


@derivation(
    "S2.GD-opt",
    "Optimal GD step and rate (eq. 5)",
    reading="Eq. (5): eps_opt = 2/(lambda_max + lambda_min); ||u - w_{k+1}|| <= (kappa - 1)/(kappa "
    "+ 1) ||u - w_k||.",
)
def gd_opt(D: Derivation) -> None:
    D.step(
        "|1 - eps lambda| is convex in lambda, so rho(eps) = max(|1 - eps lambda_min|, "
        "|1 - eps lambda_max|); it decreases while 1 - eps lambda_min dominates and increases "
        "once eps lambda_max - 1 does, so the minimiser solves",
        None,
    )
    e_opt = sp.solve(sp.Eq(1 - eps * lmin, eps * lmax - 1), eps)[0]
    D.step("1 - eps lambda_min = eps lambda_max - 1:", e_opt, lhs="\\epsilon_{opt}")
    rate = sp.simplify((1 - e_opt * lmin).subs(lmax, kappa * lmin))
    D.step("rho(eps_opt) with lambda_max = kappa lambda_min:", rate, lhs="\\rho(\\epsilon_{opt})")
    D.compare("eps_opt", D.printed("eps_opt", 2 / (lmax + lmin)), e_opt)
    D.compare("optimal rate", D.printed("rate", (kappa - 1) / (kappa + 1)), rate)
    both = sp.simplify((e_opt * lmax - 1) - (1 - e_opt * lmin))
    D.step(
        "Both endpoint factors agree at eps_opt:",
        both,
        lhs="(\\epsilon_{opt}\\lambda_{max} - 1) - (1 - \\epsilon_{opt}\\lambda_{min})",
    )

    def exact(d: int) -> bool:
        ls = sp.symbols(f"l1:{d + 1}", positive=True)
        lo, hi = ls[0], ls[-1]
        eo = 2 / (lo + hi)
        vals = [sp.simplify(1 - eo * li) for li in ls]
        # endpoints: +-(hi - lo)/(hi + lo); every lambda_i in [lo, hi] lies between them (linear)
        return (
            sp.simplify(vals[0] + vals[-1]) == 0
            and sp.simplify(vals[0] - (hi / lo - 1) / (hi / lo + 1)) == 0
        )

    D.exact("explicit eigenvalues l_1 <= ... <= l_d: endpoint factors at eps_opt", exact)

    def num(pt):
        ev = mpmath.eigsy(pt.H)[0]
        lo, hi = min(ev), max(ev)
        eo = 2 / (lo + hi)

        def rho_of(e_):
            return max(abs(1 - e_ * lv) for lv in ev)

        best = mpmath.findroot(lambda e_: (1 - e_ * lo) - (e_ * hi - 1), mpmath.mpf("0.01"))
        k_ = hi / lo
        worse = min(rho_of(eo * (1 + mpmath.mpf(z))) for z in ("1e-8", "-1e-8")) > rho_of(eo)
        return [best - eo, rho_of(eo) - (k_ - 1) / (k_ + 1), 0 if worse else 1]

    D.numeric("eps_opt and rho(eps_opt) at random H; rho larger on both sides", num)

"""§A.4 Impossibility of converging to strict saddle points -- claim L-A.18-20 (Lemmas A.18-A.20:
for ``eps_a = eps >= 1`` the saddles attract a null set; ``det(I - eps Hess J) != 0`` almost
everywhere; the saddle Hessian has a negative eigenvalue).  (Theorem A.21 restates Thm. 3.3(2):
registered as T3.3-2 in ``proofs/sec3_2_convergence.py``.)

Boundary (exact, method ``symbolic:boundary``): at ``d = 1`` ``J`` does not depend on ``|w|``:
``det(I - eps Hess J) = 1 - eps``, identically 0 at ``eps = 1``; no saddles.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from bnverify.claims import CheckContext, Correction, MethodResult, check
from bnverify.convergence import (
    SADDLE,
    UNDECIDED,
    decide,
    random_problem,
)
from bnverify.dynamics.batched import step
from bnverify.model import OLSProblem
from bnverify.probes import boundary_severity
from bnverify.properties import Outcome, check_property, monte_carlo_result
from bnverify.severity import Severity, probe
from bnverify.strategies import problems


def jacobian_T(p: OLSProblem, a: np.ndarray, w: np.ndarray, eps: np.ndarray, h: float = 1e-6
               ) -> np.ndarray:
    """Jacobian of ``T(x) = x - eps grad J(x)`` (BNGD with ``eps_a = eps``, Sect. A.4) at a batch
    of points, by central differences of :func:`bnverify.dynamics.batched.step` with relative
    step ``h`` (truncation error ~ h^2, rounding ~ 2^-52/h: about 1e-10 relative)."""
    B, d = w.shape
    x = np.concatenate([a[:, None], w], axis=1)
    sc = np.maximum(np.abs(x), np.linalg.norm(x, axis=1, keepdims=True) * 1e-3) * h
    J = np.empty((B, d + 1, d + 1))
    for i in range(d + 1):
        xp, xm = x.copy(), x.copy()
        xp[:, i] += sc[:, i]
        xm[:, i] -= sc[:, i]
        ap, wp = step(p, "bngd", xp[:, 0], xp[:, 1:], eps, eps)
        am, wm = step(p, "bngd", xm[:, 0], xm[:, 1:], eps, eps)
        Tp = np.concatenate([np.asarray(ap)[:, None], wp], axis=1)
        Tm = np.concatenate([np.asarray(am)[:, None], wm], axis=1)
        J[:, :, i] = (Tp - Tm) / (2 * sc[:, i])[:, None]
    return J


def hessian_J(p: OLSProblem, a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Hessian of ``J`` (Eq. 16) from the identity ``T_1(x) = x - grad J(x)`` (BNGD step with
    ``eps = eps_a = 1``): ``Hess J = I - Jac T_1``."""
    eye = np.eye(w.shape[1] + 1)
    J = jacobian_T(p, a, w, np.ones(len(a)))
    return 0.5 * ((eye - J) + np.swapaxes(eye - J, 1, 2))


def saddle_negative_eigenvalue(p: OLSProblem, wstar: np.ndarray) -> Outcome:
    """At the saddle ``(0, w*)``, ``w*^T g = 0``: the Hessian has an eigenvalue below
    ``-1e-6 max|eig|`` (central differences are accurate to ~1e-9 relative here)."""
    H = hessian_J(p, np.zeros(1), wstar[None, :])[0]
    ev = np.linalg.eigvalsh(H)
    s2 = wstar @ p.H @ wstar
    lam_minus = 0.5 * (1 - np.sqrt(1 + 4 * (p.g @ p.g) / s2))
    return Outcome(bool(ev[0] < -1e-6 * np.max(np.abs(ev))),
                   {"min_eigenvalue": float(ev[0]), "closed_form_negative": float(lam_minus)})


def saddle_points():
    """(problem, w*) with ``w* ⟂ g``, ``||w*|| = 1`` (d >= 2)."""
    @st.composite
    def build(draw):
        p = draw(problems(min_d=2, max_d=6, kappa_max=1e4, degenerate_u=False))
        v = np.array(draw(st.lists(st.floats(-1, 1), min_size=p.d, max_size=p.d)))
        gh = p.g / np.linalg.norm(p.g)
        w = v - (v @ gh) * gh
        if np.linalg.norm(w) < 1e-3:
            e = np.zeros(p.d)
            e[int(np.argmin(np.abs(gh)))] = 1.0
            w = e - (e @ gh) * gh
        return p, w / np.linalg.norm(w)
    return build()


@check("L-A.18-20", method="property-saddle", reading=(
    "eps_a = eps (T(x) = x - eps grad J); the saddle Hessian's eigenvalues printed as "
    "(1 +- sqrt(1 + 4||g||^2/(w*^T H w*)))/2 and zeros; 'almost all' checked by Monte Carlo."))
def a20_saddle_negative(ctx: CheckContext) -> MethodResult:
    return check_property("L-A.18-20", saddle_points(),
                          lambda t: saddle_negative_eigenvalue(*t), ctx,
                          statement="the Hessian at a saddle (0, w*), w*^T g = 0, has a negative "
                                    "eigenvalue",
                          tolerance="min eigenvalue < -1e-6 max|eig| (FD error ~1e-9)",
                          max_examples=ctx.n(40, 400), key_suffix="saddle-neg")


def det_nonzero_monte_carlo(ctx: CheckContext, event_fn=None, event: str = "det(I - eps Hess J) "
                            "= 0 within the FD error") -> MethodResult:
    """Random ``x = (a, w)`` (``a ~ N(0,1)``, ``w ~ N(0, I)``) and ``eps = eps_a`` log-uniform in
    [1, 100]: count points where ``DT(x) = I - eps Hess J(x)`` is singular within the accuracy of
    central differences: smallest singular value <= 1e-7 times the largest (entries are accurate
    to ~1e-9 relative, so singular values move by <= 1e-8 sigma_max: a 10x margin).  Observed
    smallest ratios are ~1e-5."""
    rng = ctx.rng("L-A.18-20:det")
    k = n = 0
    negs = 0
    for i in range(ctx.n(5, 40)):
        p = random_problem(rng, (2, 6), 100.0, dense=(i % 2 == 1))
        B = ctx.n(400, 4000)
        a = rng.standard_normal(B)
        w = rng.standard_normal((B, p.d))
        eps = 10 ** rng.uniform(0, 2, B)
        J = jacobian_T(p, a, w, eps)
        det = np.linalg.det(J)
        sv = np.linalg.svd(J, compute_uv=False)
        ev = sv[:, -1] <= 1e-7 * sv[:, 0] if event_fn is None else event_fn(det, sv)
        k += int(ev.sum())
        negs += int((det < 0).sum())
        n += B
    return monte_carlo_result("L-A.18-20", k, n, event=event,
                              statement="det(I - eps Hess J(x)) != 0 for almost all x",
                              details={"negative_determinants": negs})


@check("L-A.18-20", method="monte-carlo-det")
def a18_det(ctx: CheckContext) -> MethodResult:
    return det_nonzero_monte_carlo(ctx)


@check("L-A.18-20", method="monte-carlo")
def a20_monte_carlo(ctx: CheckContext) -> MethodResult:
    """eps_a = eps in [1, 2) (eps_a > 2 makes a_k diverge, L-A.10): random (a0, w0); event =
    decided saddle; runs diverging or undecided are reported."""
    rng = ctx.rng("L-A.18-20:mc")
    k = n = und = div = 0
    for i in range(ctx.n(4, 20)):
        p = random_problem(rng, (2, 6), 30.0, dense=(i % 3 == 2))
        B = ctx.n(250, 2500)
        w0 = rng.standard_normal((B, p.d))
        a0 = rng.standard_normal(B)
        eps = rng.uniform(1.0, 1.9, B)
        dec = decide(p, eps=eps, w0=w0, eps_a=eps, a0=a0)
        c = dec.counts()
        k += c[SADDLE]
        und += c[UNDECIDED]
        div += c["diverged"]
        n += B
    res = monte_carlo_result("L-A.18-20", k, n - und, event="converged to a saddle",
                             statement="eps_a = eps in [1, 1.9]: saddles attract a null set",
                             details={"undecided": und, "diverged": div, "drawn": n})
    if und:
        res.evidence += f"; {und} of {n} undecided (not counted)"
    return res


def _bn_loss_sym(a: sp.Expr, w: list, h: list, u: list) -> sp.Expr:
    """``J(a, w) = (C - 2 a y/sigma + a^2)/2`` (Eq. 16, noise-free; ``J* = 0``) for diagonal
    ``H = diag(h)`` (the eigenbasis: ``J`` and ``det(I - eps Hess J)`` are invariant)."""
    C = sum(hi * ui**2 for hi, ui in zip(h, u, strict=True))
    y = sum(hi * ui * wi for hi, ui, wi in zip(h, u, w, strict=True))
    sig = sp.sqrt(sum(hi * wi**2 for hi, wi in zip(h, w, strict=True)))
    return (C - 2 * a * y / sig + a**2) / 2


def a19_boundary(eps_value: Any = 1) -> dict[str, Any]:
    """Exact (SymPy) check of Lemmas A.18-A.20 at the boundary ``d = 1`` and of the general-``d``
    argument for ``det(I - eps Hess J) != 0`` almost everywhere.

    * ``d = 1`` (``w > 0`` and ``w < 0``): ``J = (h u^2 - 2 a sqrt(h) u sign(w) + a^2)/2`` does not
      depend on ``|w|``: ``Hess J = diag(1, 0)`` and ``det(I - eps Hess J(x)) = 1 - eps`` for every
      ``x``.  At ``eps = eps_a = 1`` (inside "eps >= 1") it vanishes for *every* ``x``: Lemma A.19
      as printed is false there.  For ``eps > 1`` it is ``1 - eps != 0`` everywhere.  Saddles
      (``a = 0``, ``w^T g = h u w = 0``) need ``w = 0``, outside the domain: none exist, so A.18
      (saddles attract a null set) and A.20 (saddle Hessian) hold vacuously at ``d = 1``.
    * ``d >= 2``: at ``a = 0`` the Hessian is ``[[1, -b^T], [-b, 0]]`` with
      ``b = grad_w (y/sigma)`` (verified for d = 2, 3: ``J`` is linear in ``a``), and
      ``det([[1 - eps, eps b^T], [eps b, I_d]]) = 1 - eps - eps^2 ||b||^2`` (Schur complement;
      verified for d = 2, 3, 4).  At ``H = diag(1, 2)``, ``u = (1, 1)``, ``w = (1, 0)``:
      ``b = (0, 2)`` and ``det = 1 - eps - 4 eps^2 = -4 - 9t - 4t^2 < 0`` (``eps = 1 + t``,
      ``t >= 0``); in general ``b = 0`` iff ``w || u``.  ``det(I - eps Hess J(.))`` is real-analytic
      and not identically zero on the connected domain ``R x (R^d - {0})``, so its zero set is
      null for every ``eps >= 1``.

    ``eps_value``: the step size at which the ``d = 1`` determinant is evaluated (default 1, the
    boundary; ``det_vanishes`` says whether it is 0 for every ``x`` there)."""
    out: dict[str, Any] = {}
    a, eps = sp.symbols("a epsilon", real=True)
    h1, u1 = sp.symbols("h u", positive=True)
    d1 = {}
    for sign, wsym in (("w>0", sp.Symbol("w", positive=True)),
                       ("w<0", sp.Symbol("w", negative=True))):
        J = _bn_loss_sym(a, [wsym], [h1], [u1])
        Hs = sp.simplify(sp.hessian(J, (a, wsym)))
        det = sp.factor(sp.simplify((sp.eye(2) - eps * Hs).det()))
        d1[sign] = {"hessian": str(Hs.tolist()), "det": str(det),
                    "ok": Hs == sp.Matrix([[1, 0], [0, 0]]) and sp.simplify(det - (1 - eps)) == 0}
    ws = sp.Symbol("w", real=True)
    saddles = sp.solve(sp.Eq(h1 * u1 * ws, 0), ws)
    det_at = sp.Integer(1) - sp.Rational(str(eps_value))
    out["d1"] = {**d1, "eps": str(eps_value), "det_at_eps": str(det_at),
                 "det_vanishes": all(v["ok"] for v in d1.values()) and det_at == 0,
                 "saddle_w": [str(s_) for s_ in saddles], "no_saddles": saddles == [0]}
    # d >= 2: Hessian at a = 0 and the Schur determinant
    blocks = {}
    for d in (2, 3):
        hs = sp.symbols(f"h1:{d + 1}", positive=True)
        us = sp.symbols(f"u1:{d + 1}", real=True)
        wv = sp.symbols(f"w1:{d + 1}", real=True)
        J = _bn_loss_sym(a, list(wv), hs, us)
        Hs = sp.hessian(J, (a, *wv)).subs(a, 0)
        y = sum(hi * ui * wi for hi, ui, wi in zip(hs, us, wv, strict=True))
        sig = sp.sqrt(sum(hi * wi**2 for hi, wi in zip(hs, wv, strict=True)))
        b = [sp.diff(y / sig, wi) for wi in wv]
        expect = sp.Matrix(d + 1, d + 1, lambda r, c, b=b: 1 if r == c == 0 else
                           (-b[c - 1] if r == 0 and c > 0 else (-b[r - 1] if c == 0 and r > 0
                                                                 else 0)))
        blocks[d] = all(sp.simplify(e_) == 0 for e_ in (Hs - expect))
    schur = {}
    for d in (2, 3, 4):
        bs = sp.symbols(f"b1:{d + 1}", real=True)
        M = sp.eye(d + 1) - eps * sp.Matrix(d + 1, d + 1, lambda r, c, bs=bs: 1 if r == c == 0 else (
            -bs[c - 1] if r == 0 and c > 0 else (-bs[r - 1] if c == 0 and r > 0 else 0)))
        schur[d] = sp.expand(M.det() - (1 - eps - eps**2 * sum(x**2 for x in bs))) == 0
    # the exact point
    hp, up, wp = [1, 2], [1, 1], [sp.Integer(1), sp.Integer(0)]
    w1s, w2s = sp.symbols("w1 w2", real=True)
    yv = sum(hi * ui * wi for hi, ui, wi in zip(hp, up, (w1s, w2s), strict=True))
    sg = sp.sqrt(sum(hi * wi**2 for hi, wi in zip(hp, (w1s, w2s), strict=True)))
    bp = [sp.simplify(sp.diff(yv / sg, x).subs({w1s: wp[0], w2s: wp[1]})) for x in (w1s, w2s)]
    t = sp.Symbol("t", nonnegative=True)
    detp = sp.expand((1 - eps - eps**2 * sum(x**2 for x in bp)).subs(eps, 1 + t))
    out["d_ge_2"] = {"hessian_at_a0_block_form": blocks, "schur_det": schur,
                     "point": {"H_diag": hp, "u": up, "w": [1, 0], "a": 0,
                               "b": [str(x) for x in bp], "det_eps_1_plus_t": str(detp)},
                     "ok": all(blocks.values()) and all(schur.values()) and detp.is_negative is True}
    out["ok"] = all(v["ok"] for v in d1.values()) and out["d1"]["no_saddles"] and out["d_ge_2"]["ok"]
    # float64 cross-check with the engine: central-difference Jacobian of T at d = 1, eps = 1
    p1 = OLSProblem.from_diagonal([1.0], [1.0])
    J1 = jacobian_T(p1, np.array([0.5, -2.0]), np.array([[1.0], [3.0]]), np.ones(2))
    out["engine_det_d1_eps1"] = [float(x) for x in np.linalg.det(J1)]
    return out


A19_CORRECTION = (
    "for eps_a = eps >= 1: det(I - eps Hess J(x)) != 0 for almost all x when d >= 2 (every "
    "eps >= 1) or when d = 1 and eps > 1 (then det = 1 - eps != 0 everywhere); at d = 1, eps = 1 "
    "the determinant vanishes identically. At d = 1 there are no saddles (w^T g = h u w = 0 forces "
    "w = 0), so A.18 and A.20 hold vacuously there")


@check("L-A.18-20", method="symbolic:boundary")
def a19_boundary_check(ctx: CheckContext, result: dict[str, Any] | None = None,
                       eps_value: Any = 1) -> MethodResult:
    """Boundary ``d = 1`` of Lemmas A.18-A.20, exactly (:func:`a19_boundary`).  Refuted when the
    SymPy computation shows ``det(I - Hess J) = 0`` identically at ``d = 1`` (``eps = 1``) and
    the corrected statement's two parts are proved."""
    r = a19_boundary(eps_value) if result is None else result
    d1 = r["d1"]
    if not all(v["ok"] for v in (d1["w>0"], d1["w<0"])):
        return MethodResult("inconclusive", "symbolic:boundary",
                            f"d = 1 Hessian not diag(1, 0): {d1}", details=r,
                            evidence_class="proof")
    if not d1["det_vanishes"]:
        return MethodResult("verified", "symbolic:boundary",
                            f"at d = 1, eps = {d1['eps']}: det(I - eps Hess J(x)) = "
                            f"{d1['det_at_eps']} != 0 for every x (exact)", details=r,
                            evidence_class="proof")
    corr = Correction(A19_CORRECTION, "verified" if r["ok"] else "inconclusive",
                      "SymPy: d = 1: Hess J = diag(1, 0), det = 1 - eps for every x (w > 0 and "
                      "w < 0), no saddle with w != 0; d >= 2: Hess J(0, w) = [[1, -b^T], [-b, 0]] "
                      "(d = 2, 3), det = 1 - eps - eps^2 ||b||^2 (d = 2, 3, 4), at H = diag(1, 2), "
                      f"u = (1, 1), w = (1, 0): det = {r['d_ge_2']['point']['det_eps_1_plus_t']} "
                      "< 0 (eps = 1 + t), so the analytic det is not identically zero on the "
                      "connected domain")
    cex = {"kind": "boundary", "lemma": "A.19", "d": 1, "H_diag": [1], "u": [1], "eps": 1,
           "eps_a": 1, "x": {"a": "1/2", "w": [1]}, "det": "0",
           "note": "det(I - eps Hess J(x)) = 1 - eps = 0 for every x = (a, w), w != 0 "
                   "(any h > 0, u != 0)"}
    return MethodResult(
        "refuted", "symbolic:boundary",
        "Lemma A.19 as printed fails at the boundary d = 1, eps = eps_a = 1: there J does not "
        "depend on |w|, Hess J = diag(1, 0) and det(I - eps Hess J(x)) = 1 - eps = 0 for EVERY x "
        "(exact; engine FD det " + ", ".join(f"{x:.1e}" for x in r["engine_det_d1_eps1"]) + "); "
        "at d = 1 A.18 and A.20 are vacuous (no saddles: w^T g = 0 forces w = 0); d >= 2 (any "
        "eps >= 1) and d = 1 with eps > 1 hold (exact)", details=r, counterexample=cex,
        correction=corr, evidence_class="proof")


@probe("L-A.18-20")
def _a18_20_severity(cr: Any, ctx: Any) -> Severity | None:
    return boundary_severity(cr, "d = 1, eps = eps_a = 1",
                              "d >= 2 (all eps >= 1) and d = 1 with eps > 1 hold (exact)")

"""Appendix A.1 numerically: gradients, Hessian blocks, the saddle spectrum; Appendix B Eq. (81).

Claims: E17-18 (gradients, Eq. 17-18), E19-21 (Hessian blocks, Eq. 19-21), A1.saddle-eigs (the
Hessian spectrum at a saddle ``(0, w*)``), E81 (MBNGD is BNGD with ``a_k = w_k^T g / sigma_k``).

Method.  The objective ``J(a, w)`` of Eq. (7) is evaluated *from its definition* as an expectation
(``bnverify.linalg_mp.bn_objective_mp``: linearity of E only) at 50 digits; its gradient and
Hessian are taken by central finite differences at 50 digits (error below 1e-24 relative, see
``bnverify.linalg_mp``) and compared with the printed closed forms, also evaluated at 50 digits,
at relative tolerance ``FD_RTOL = 1e-18`` of the largest entry.  Points are drawn by Hypothesis
(``hessian_points``): small dimension (1..5; 2..4 at saddles, 1..3 at minimisers), condition number <= 1e3, ``||u||`` in {1, 2, 1/2},
``w`` at scales 0.1, 1, 10, including ``w ⟂ g`` exactly (to 50 digits) for the saddles.

Readings of garbled text (Eq. 21).  The extraction prints
``A22 = σ(WTg)hH + WTg ((HW)gT + g(Hw)T) - σ32(HW)(HW)Ti``.  The catalogue reads it as
``(a/σ^3)[(w^T g) H + (Hw) g^T + g (Hw)^T - (3 w^T g/σ^2)(Hw)(Hw)^T]``; the glyphs are equally
consistent with the factored form ``(a/σ^3)(w^T g)[H + ((Hw) g^T + g (Hw)^T)/(w^T g) -
(3/σ^2)(Hw)(Hw)^T]`` (the "1/" of the fraction lost), which is the same matrix wherever
``w^T g != 0``.  Both readings are checked (the factored one only where ``w^T g != 0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from hypothesis import strategies as st

from bnverify import linalg_mp as L
from bnverify.claims import Correction, MethodResult, check
from bnverify.dynamics.batched import step
from bnverify.model import OLSProblem
from bnverify.properties import Outcome, check_property
from bnverify.strategies import configurations, log_floats, problems, unit_vectors

DPS = L.DPS
UNIT = float(np.finfo(float).eps)  # unit roundoff 2^-52 (2 u, the spacing of doubles at 1)


# ----------------------------------------------------------------------------------------------
# points (a, w) of the objective, exact at 50 digits
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """A point ``(a, w)`` of the BN objective for problem ``problem``; ``a`` and ``w`` are held
    at 50 digits (``a_mp``, ``w_mp``) so that saddles (``a = 0, w^T g = 0``) and minimisers
    (``a* = sign(s) sqrt(u^T H u), w* = s u``) are exact; ``kind`` says which."""

    problem: OLSProblem
    a_mp: Any
    w_mp: tuple
    kind: str = "generic"
    s: float | None = None

    @property
    def d(self) -> int:
        return self.problem.d

    def describe(self) -> str:
        p = self.problem

        def fmt(v):
            return "(" + ", ".join(f"{float(x):.4g}" for x in v) + ")"

        H = f"diag{fmt(np.diag(p.H))}" if p.is_diagonal else f"Q diag{fmt(p.eigenvalues)} Q^T"
        extra = f", s = {self.s:.4g}" if self.s is not None else ""
        return (f"d = {p.d}, H = {H}, u = {fmt(p.u)} (||u|| = {np.linalg.norm(p.u):.4g}), "
                f"a = {float(self.a_mp):.6g}, w = {fmt(self.w_mp)} [{self.kind}{extra}]")

    def to_json(self) -> dict[str, Any]:
        """A ``bnverify run --config`` file placing the iteration at this point (50-digit strings
        keep saddles and minimisers exact for the high-precision engine)."""
        out = self.problem.to_json()
        out.update(a0=mpmath.nstr(self.a_mp, 50), w0=[mpmath.nstr(x, 50) for x in self.w_mp],
                   eps_a=1.0, eps=1.0, comment=f"point of J(a, w): {self.kind}")
        return out


def _problem_with_u_scale(p: OLSProblem, beta: float) -> OLSProblem:
    q = OLSProblem(p.H, beta * p.u) if beta != 1.0 else p
    if beta != 1.0 and hasattr(p, "spec"):
        object.__setattr__(q, "spec", p.spec)
    return q


@st.composite
def hessian_points(draw, kind: str = "generic", min_d: int = 1, max_d: int = 5) -> Point:
    """Points for the derivative checks.  ``kind``: "generic" (any ``a``, ``w``), "saddle"
    (``a = 0``, ``w ⟂ g`` exactly at 50 digits; needs d >= 2), "minimizer" (Eq. 8)."""
    if kind == "saddle":
        min_d = max(min_d, 2)
    if kind != "generic":  # spectra at these points cost a (d+1)^2 FD Hessian
        max_d = min(max_d, 4 if kind == "saddle" else 3)
    p = draw(problems(min_d=min_d, max_d=max_d, kappa_max=1e3))
    beta = draw(st.sampled_from([1.0, 2.0, 0.5]))
    p = _problem_with_u_scale(p, beta)
    scale = draw(st.sampled_from([1.0, 0.1, 10.0]))
    v = draw(unit_vectors(p.d)) * scale
    with mpmath.workdps(DPS + 10):
        if kind == "minimizer":
            s = draw(st.sampled_from([1.0, -1.0, 0.5, -2.0, 3.0]))
            um = L.to_mp_vector(p.u)
            Hm = L.to_mp_matrix(p.H)
            a = mpmath.sign(s) * mpmath.sqrt(L.dot(um, L.mat_vec(Hm, um)))
            w = tuple(mpmath.mpf(s) * x for x in um)
            return Point(p, +a, w, "minimizer", s)
        if kind == "saddle":
            g = L.mat_vec(L.to_mp_matrix(p.H), L.to_mp_vector(p.u))
            vm = L.to_mp_vector(v)
            c = L.dot(vm, g) / L.dot(g, g)
            w = [x - c * gi for x, gi in zip(vm, g, strict=False)]
            if max(abs(x) for x in w) < mpmath.mpf("1e-6") * scale:  # v was parallel to g
                w = [g[1], -g[0]] + [mpmath.mpf(0)] * (p.d - 2)
            return Point(p, mpmath.mpf(0), tuple(w), "saddle")
        a = draw(st.one_of(st.sampled_from([1.0, 0.0, -1.0]), st.floats(-3.0, 3.0)))
        return Point(p, mpmath.mpf(a), tuple(L.to_mp_vector(v)), "generic")


# ----------------------------------------------------------------------------------------------
# printed closed forms (Eq. 17-21), evaluated at 50 digits
# ----------------------------------------------------------------------------------------------


def _moments(pt: Point):
    Hm = L.to_mp_matrix(pt.problem.H)
    um = L.to_mp_vector(pt.problem.u)
    g = L.mat_vec(Hm, um)
    w = list(pt.w_mp)
    Hw = L.mat_vec(Hm, w)
    s2 = L.dot(w, Hw)
    return Hm, um, g, w, Hw, s2, mpmath.sqrt(s2), L.dot(w, g)


def printed_gradient(pt: Point, *, a_coef: int = -1, w_sign: int = -1) -> list:
    """Eq. (17)-(18): ``dJ/da = -(1/σ) w^T g + a``, ``dJ/dw = -(a/σ) g + (a/σ^3)(w^T g) H w``.
    ``a_coef``/``w_sign`` exist for mutation tests (the printed values are -1, -1)."""
    with mpmath.workdps(DPS + 10):
        Hm, um, g, w, Hw, s2, sig, y = _moments(pt)
        a = pt.a_mp
        da = a_coef * y / sig + a
        dw = [w_sign * (a / sig) * gi + (a / sig**3) * y * hwi for gi, hwi in zip(g, Hw, strict=False)]
        return [da] + dw


def printed_hessian(pt: Point, *, reading: str = "catalogue", coef3: int = 3,
                    a21_sign: int = -1) -> mpmath.matrix:
    """Eq. (19)-(21): ``∂²J/∂a² = 1``, ``A21 = -(1/σ)(g - (w^T g/σ^2) H w)`` and ``A22`` in the
    chosen reading ("catalogue" or "factored", see the module docstring).  ``coef3`` and
    ``a21_sign`` exist for mutation tests (printed: 3 and -1)."""
    with mpmath.workdps(DPS + 10):
        Hm, um, g, w, Hw, s2, sig, y = _moments(pt)
        a = pt.a_mp
        d = pt.d
        M = mpmath.matrix(d + 1, d + 1)
        M[0, 0] = mpmath.mpf(1)
        for i in range(d):
            v = a21_sign * (g[i] - y / s2 * Hw[i]) / sig
            M[0, i + 1] = v
            M[i + 1, 0] = v
        for i in range(d):
            for j in range(d):
                if reading == "catalogue":
                    inner = (y * Hm[i, j] + Hw[i] * g[j] + g[i] * Hw[j]
                             - coef3 * y / s2 * Hw[i] * Hw[j])
                    M[i + 1, j + 1] = a / sig**3 * inner
                else:  # factored: (a/σ^3)(w^T g)[H + ((Hw)g^T + g(Hw)^T)/(w^T g) - (3/σ^2)(Hw)(Hw)^T]
                    inner = (Hm[i, j] + (Hw[i] * g[j] + g[i] * Hw[j]) / y
                             - coef3 / s2 * Hw[i] * Hw[j])
                    M[i + 1, j + 1] = a / sig**3 * y * inner
        return M


def fd_gradient_at(pt: Point) -> list:
    with mpmath.workdps(DPS + 10):
        Hm = L.to_mp_matrix(pt.problem.H)
        um = L.to_mp_vector(pt.problem.u)
        return L.fd_gradient(lambda z: L.bn_objective_mp(Hm, um, z[0], z[1:], dps=DPS + 10),
                             [pt.a_mp] + list(pt.w_mp), dps=DPS + 10)


def fd_hessian_at(pt: Point) -> mpmath.matrix:
    with mpmath.workdps(DPS + 10):
        Hm = L.to_mp_matrix(pt.problem.H)
        um = L.to_mp_vector(pt.problem.u)
        return L.fd_hessian(lambda z: L.bn_objective_mp(Hm, um, z[0], z[1:], dps=DPS + 10),
                            [pt.a_mp] + list(pt.w_mp), dps=DPS + 10)


def _term_scales(pt: Point) -> tuple:
    """Magnitudes of the terms summed in the gradient and the Hessian at ``pt`` (absolute values,
    Euclidean norms): the comparison is relative to these, not to the result, which vanishes at
    critical points."""
    with mpmath.workdps(DPS + 10):
        Hm, um, g, w, Hw, s2, sig, y = _moments(pt)
        a = abs(pt.a_mp)
        ng = mpmath.sqrt(L.dot(g, g))
        nhw = mpmath.sqrt(L.dot(Hw, Hw))
        lam = mpmath.mpf(pt.problem.lambda_max)
        grad = a + abs(y) / sig + a * ng / sig + a * abs(y) * nhw / sig**3
        hess = (1 + (ng + abs(y) * nhw / s2) / sig
                + a / sig**3 * (abs(y) * lam + 2 * nhw * ng + 3 * abs(y) / s2 * nhw**2))
        return grad, hess


def _rel_diff(x: list, y: list, scale) -> float:
    """``max |x - y|`` relative to ``scale`` (the magnitude of the terms, ``_term_scales``)."""
    # scale 0 only where every term vanishes (a = 0 and w^T g = 0): compare absolutely there
    return float(max(abs(p - q) for p, q in zip(x, y, strict=False)) / max(scale, 1e-30))


def gradient_matches(pt: Point, **mut) -> Outcome:
    """E17-18 at one point: printed gradient vs 50-digit finite differences, relative
    ``FD_RTOL`` of the magnitude of the summed terms."""
    err = _rel_diff(printed_gradient(pt, **mut), fd_gradient_at(pt), _term_scales(pt)[0])
    return Outcome(err <= L.FD_RTOL, {"relative_difference": err, "tolerance": L.FD_RTOL})


def hessian_matches(pt: Point, reading: str = "catalogue", **mut) -> Outcome:
    """E19-21 at one point: printed Hessian blocks vs 50-digit finite differences (FD_RTOL of
    the magnitude of the summed terms)."""
    if reading == "factored" and abs(_moments(pt)[-1]) < mpmath.mpf("1e-30"):
        return Outcome(True, {"skipped": "w^T g = 0: the factored reading is undefined"})
    P = printed_hessian(pt, reading=reading, **mut)
    F = fd_hessian_at(pt)
    n = P.rows
    err = _rel_diff([P[i, j] for i in range(n) for j in range(n)],
                    [F[i, j] for i in range(n) for j in range(n)], _term_scales(pt)[1])
    return Outcome(err <= L.FD_RTOL, {"relative_difference": err, "tolerance": L.FD_RTOL})


#: eigenvalues below this fraction of the spectral scale count as zero: the 50-digit
#: finite-difference Hessian is accurate to ~1e-24 relative, nonzero eigenvalues of the drawn
#: saddles exceed 1e-8 of the scale (||g||^2/sigma^2 bounded below by the drawn data)
ZERO_EIG_RTOL = 1e-15


def saddle_spectrum(pt: Point) -> dict[str, Any]:
    """Signature of the 50-digit Hessian (finite differences) at a saddle, and the printed pair
    ``½(1 ± sqrt(1 + 4 ||g||^2 / (w*^T H w*)))``."""
    F = fd_hessian_at(pt)
    with mpmath.workdps(DPS + 10):
        ev = L.eigvalsh_mp(F, DPS + 10)
        scale = max(abs(x) for x in ev)
        n_zero = sum(1 for x in ev if abs(x) <= ZERO_EIG_RTOL * scale)
        n_pos = sum(1 for x in ev if x > ZERO_EIG_RTOL * scale)
        n_neg = sum(1 for x in ev if x < -ZERO_EIG_RTOL * scale)
        Hm, um, g, w, Hw, s2, sig, y = _moments(pt)
        r = mpmath.sqrt(1 + 4 * L.dot(g, g) / s2)
        printed = [(1 - r) / 2, (1 + r) / 2]
        nonzero = sorted(x for x in ev if abs(x) > ZERO_EIG_RTOL * scale)
        pair_err = (float(max(abs(p - q) for p, q in zip(printed, nonzero, strict=False)) / scale)
                    if len(nonzero) == 2 else float("inf"))
    return {"d": pt.d, "size": pt.d + 1, "zeros": n_zero, "positive": n_pos, "negative": n_neg,
            "pair_relative_error": pair_err, "eigenvalues": [mpmath.nstr(x, 20) for x in ev]}


def saddle_eigs_holds(pt: Point, zeros_expected=lambda d: d - 2) -> Outcome:
    """A1.saddle-eigs at one saddle: the printed pair of eigenvalues, ``zeros_expected(d)`` zero
    eigenvalues, one positive and one negative (printed: ``d - 2`` zeros)."""
    sp = saddle_spectrum(pt)
    ok = (sp["zeros"] == zeros_expected(pt.d) and sp["positive"] == 1 and sp["negative"] == 1
          and sp["pair_relative_error"] <= L.FD_RTOL)
    return Outcome(ok, sp)


# ----------------------------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------------------------

E17_READING = ("Eq. (17)-(18) as printed: dJ/da = -(1/σ) w^T g + a, dJ/dw = -(a/σ) g + "
               "(a/σ^3)(w^T g) H w, with J the expectation of Eq. (7).")


@check("E17-18", method="numeric", reading=E17_READING)
def check_e17_18(ctx) -> MethodResult:
    """E17-18 (Eq. 17-18): printed gradients vs 50-digit central differences of J (Eq. 7)."""
    return check_property(
        "E17-18", hessian_points(), gradient_matches, ctx,
        statement="printed gradient (17)-(18) = 50-digit finite differences of J (7)",
        tolerance=f"relative {L.FD_RTOL:g} of the magnitude of the summed terms (FD error < 1e-24 at 50 digits)",
        max_examples=ctx.n(15, 300), key_suffix="grad", method="numeric",
    )


E19_READING = (
    "Eq. (19)-(21): ∂²J/∂a² = 1, A21 = -(1/σ)(g - (w^T g/σ^2) H w); A22 garbled in the "
    "extraction ('σ(WTg)hH + WTg ((HW)gT + g(Hw)T) - σ32(HW)(HW)Ti') and read as in the "
    "catalogue: (a/σ^3)[(w^T g) H + (Hw) g^T + g (Hw)^T - (3 w^T g/σ^2)(Hw)(Hw)^T]; the glyphs "
    "also fit the factored form (a/σ^3)(w^T g)[H + ((Hw)g^T + g(Hw)^T)/(w^T g) - (3/σ^2)"
    "(Hw)(Hw)^T] (a lost '1/'), the same matrix where w^T g != 0: both are checked.")


@check("E19-21", method="numeric", reading=E19_READING)
def check_e19_21(ctx) -> MethodResult:
    """E19-21 (Eq. 19-21), catalogue reading of A22: printed Hessian vs 50-digit FD Hessian."""
    return check_property(
        "E19-21", hessian_points(), hessian_matches, ctx,
        statement="printed Hessian (19)-(21), catalogue reading of A22 = 50-digit FD Hessian",
        tolerance=f"relative {L.FD_RTOL:g} of the magnitude of the summed terms (FD error < 1e-24 at 50 digits)",
        max_examples=ctx.n(20, 300), key_suffix="catalogue", method="numeric",
    )


@check("E19-21", method="numeric", reading=E19_READING)
def check_e19_21_factored(ctx) -> MethodResult:
    """E19-21, factored reading of the garbled A22 (defined where w^T g != 0)."""
    return check_property(
        "E19-21", hessian_points(), lambda pt: hessian_matches(pt, "factored"), ctx,
        statement="printed Hessian (19)-(21), factored reading of A22 (w^T g != 0) = FD Hessian",
        tolerance=f"relative {L.FD_RTOL:g} of the magnitude of the summed terms (FD error < 1e-24 at 50 digits)",
        max_examples=ctx.n(15, 200), key_suffix="factored", method="numeric",
    )


SADDLE_READING = (
    "§A.1 as printed: at a saddle (0, w*) (w*^T g = 0) the Hessian of J in (a, w) -- a "
    "(d+1)x(d+1) matrix -- has eigenvalues {½(1 ± sqrt(1 + 4||g||^2/(w*^T H w*))), 0, ..., 0}, "
    "'which contains d-2 repeated zero, a positive and a negative eigenvalue'. Multiplicities "
    "checked as printed: d-2 zeros, one positive, one negative.")


def _saddle_correction(ctx) -> Correction:
    r = check_property(
        "A1.saddle-eigs", hessian_points("saddle"),
        lambda pt: saddle_eigs_holds(pt, zeros_expected=lambda d: d - 1), ctx,
        statement="saddle Hessian ((d+1)x(d+1)) has d-1 zero eigenvalues plus the printed pair",
        tolerance=f"zero: |λ| <= {ZERO_EIG_RTOL:g} of the spectral scale (50-digit FD Hessian)",
        max_examples=ctx.n(15, 200), key_suffix="corrected", method="numeric",
    )
    return Correction(
        "At a saddle (0, w*) the Hessian of J in (a, w) is [[1, -g^T/σ], [-g/σ, 0]] ((d+1)x(d+1)):"
        " eigenvalues ½(1 ± sqrt(1 + 4||g||^2/(w*^T H w*))) and 0 with multiplicity d-1 (the "
        "vectors (0, x), x ⟂ g), not d-2.", r.verdict, r.evidence)


@check("A1.saddle-eigs", method="numeric", reading=SADDLE_READING)
def check_saddle_eigs(ctx) -> MethodResult:
    """A1.saddle-eigs (§A.1, Lemma A.20): 50-digit eigenvalues of the FD Hessian at exact
    saddles; the multiplicities as printed (d-2 zeros)."""
    return check_property(
        "A1.saddle-eigs", hessian_points("saddle"), saddle_eigs_holds, ctx,
        statement="saddle Hessian has d-2 zero eigenvalues, one positive, one negative "
                  "(the printed pair)",
        tolerance=f"zero: |λ| <= {ZERO_EIG_RTOL:g} of the spectral scale (50-digit FD Hessian)",
        max_examples=ctx.n(15, 200), key_suffix="printed", method="numeric",
        correction=lambda _x: _saddle_correction(ctx),
    )


# ----------------------------------------------------------------------------------------------
# E81: MBNGD = BNGD with a_k = w_k^T g / sigma_k enforced
# ----------------------------------------------------------------------------------------------


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

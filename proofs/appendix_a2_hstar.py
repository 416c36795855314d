"""The matrix H* (Eq. 14, 23) and its spectrum: §3.3 and Appendix A.1 (Lemma A.1, Cor. A.5-A.7).

Claims: S3.Hstar, S3.Hstar-psd, L-A.1, E25, E26, C-A.5, C-A.6, C-A.7, S3.acceleration.

Method.  Statements about the eigenvalues of ``H* = H - H u u^T H/(u^T H u)`` are *decided at 50
digits*: float64 ``eigvalsh`` errs by ``~ d u lambda_max``, i.e. up to 1e-8 of ``lambda_min`` at
kappa = 1e8, which cannot decide the equalities the claims turn on (``lambda_2(H*) = lambda_1``
when ``u ⟂ v_1``).  The spectrum of ``H*`` is invariant under orthogonal changes of basis, so it is
computed from the drawn eigenvalues of ``H`` and the coefficients ``u^T v_i`` (exact floats) with
``mpmath.eigsy`` (``bnverify.linalg_mp.h_star_eigs_mp``); two 50-digit numbers are "equal" when
they agree to ``EQ_RTOL = 1e-35`` of ``lambda_max`` (eigsy is accurate to ~1e-48 relative).
Quadratic-form identities (E25, E26, C-A.6) are checked in float64 with rounding tolerances.

Spectra come from ``bnverify.strategies`` (integers, spread, repeated, clustered, equal extremes),
``u`` possibly orthogonal to ``v_1`` and/or ``v_d``.

Findings.  The strictness statements fail when an extreme eigenvalue of ``H`` is repeated:
C-A.5's 'equality iff u ⟂ span{v1, vd}' (counterexample ``H = I_2``: ``kappa* = kappa = 1`` for
every ``u``), C-A.7's 'strict if u^T v_i != 0 (i = 1, d)', and 'strict for almost all u' of
(27), (28), S3.Hstar-psd and S3.acceleration.  Corrected statements are derived and checked.
"""

from __future__ import annotations

import hashlib
from typing import Any

import mpmath
import numpy as np
from hypothesis import strategies as st

from bnverify import linalg_mp as L
from bnverify.claims import Correction, MethodResult, check
from bnverify.model import OLSProblem
from bnverify.properties import Outcome, check_property
from bnverify.strategies import log_floats, problems, unit_vectors
from proofs.section2_model import hessian_at_minimizer_result

DPS = L.DPS
EQ_RTOL = mpmath.mpf("1e-35")
UNIT = float(np.finfo(float).eps)


def eigen_data(p: OLSProblem) -> tuple[np.ndarray, np.ndarray]:
    """(eigenvalues of H ascending, coefficients u^T v_i): exact from the drawn spec when there
    is one, else from the float64 eigen-decomposition (replayed configurations)."""
    spec = getattr(p, "spec", None)
    if spec is not None:
        return np.array(spec.eigenvalues, dtype=float), np.array(spec.u_eig, dtype=float) * (
            np.linalg.norm(p.u))
    return np.asarray(p.eigenvalues, dtype=float), p.to_eigenbasis(p.u)


def spectra_mp(p: OLSProblem) -> tuple[list, list]:
    """50-digit eigenvalues of H and of H* (ascending)."""
    lam, ue = eigen_data(p)
    with mpmath.workdps(DPS):
        return [mpmath.mpf(float(x)) for x in lam], L.h_star_eigs_mp(lam, ue, DPS)


def _eq(x, y, scale) -> bool:
    return abs(x - y) <= EQ_RTOL * scale


def _resolvable(p: OLSProblem) -> bool:
    """Coefficients ``u^T v_i`` are 0 or above 1e-6 in size: eigenvalue shifts of order
    ``(u^T v_i)^2`` below ~1e-35 cannot be told from equality at 50 digits (Hypothesis otherwise
    draws subnormal coefficients such as 2e-313)."""
    _, ue = eigen_data(p)
    return bool(np.all((ue == 0) | (np.abs(ue) > 1e-6 * np.linalg.norm(ue))))


def _problems(min_d: int = 1, max_d: int = 8):
    return problems(min_d=min_d, max_d=max_d).filter(_resolvable)


# ----------------------------------------------------------------------------------------------
# S3.Hstar, S3.Hstar-psd, L-A.1
# ----------------------------------------------------------------------------------------------


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
    kappa_ok = (kstar < kap and not _eq(kstar * lam[0], kap * lam[0], scale)) if strict_kappa \
        else kstar <= kap * (1 + EQ_RTOL)
    return Outcome(bool(psd and null_ok and kappa_ok),
                   {"kappa_star": float(kstar), "kappa": float(kap), "H*u": float(np.linalg.norm(Hs_u))})


def _random_us(p: OLSProblem, n: int) -> list[np.ndarray]:
    """``n`` Gaussian coefficient vectors (a continuous distribution on R^d: 'almost all u'),
    seeded from the problem so Hypothesis replays are deterministic."""
    lam, _ = eigen_data(p)
    key = hashlib.sha256(np.asarray(lam).tobytes()).digest()
    rng = np.random.default_rng(int.from_bytes(key[:8], "little"))
    return [rng.standard_normal(p.d) for _ in range(n)]


def almost_all_strict(p: OLSProblem, which: str = "27", n_u: int = 6, eps_fracs=(0.3, 1.0, 1.7)
                      ) -> Outcome:
    """'Strict for almost all u' at one ``H``: for ``n_u`` random ``u`` (Gaussian coefficients)
    the inequality is strict at 50 digits.  ``which``: "27" (kappa* < kappa) or "28"
    (rho*(I - eps H*) < rho(I - eps H) at eps = f * 2/(lambda_1 + lambda_d), f in eps_fracs)."""
    lam, _ = eigen_data(p)
    n_eq = 0
    for ue in _random_us(p, n_u):
        with mpmath.workdps(DPS):
            lm = [mpmath.mpf(float(x)) for x in lam]
            ls = L.h_star_eigs_mp(lam, ue, DPS)
            if which == "27":
                n_eq += _eq(ls[-1] / ls[1] * lm[0], lm[-1], lm[-1])
            else:
                for f in eps_fracs:
                    e = mpmath.mpf(f) * 2 / (lm[0] + lm[-1])
                    r, rs = L.spectral_radius_mp(e, lm), L.spectral_radius_mp(e, [ls[1], ls[-1]])
                    n_eq += _eq(rs, r, 1)
    return Outcome(n_eq == 0, {"equalities": n_eq, "samples": n_u})


def _mult(lam: np.ndarray, x: float) -> int:
    return int(np.sum(lam == x))


def almost_all_strict_corrected(p: OLSProblem, which: str = "27") -> Outcome:
    """Corrected 'almost all u' statements: (27) is strict for almost all u iff lambda_1 or
    lambda_d is simple; (28) at eps = f * 2/(lambda_1+lambda_d) iff (lambda_1 simple or f > 1) and
    (lambda_d simple or f < 1).  Checked by comparing the predicted and observed equalities."""
    lam, _ = eigen_data(p)
    s1, sd = _mult(lam, lam[0]) == 1, _mult(lam, lam[-1]) == 1
    if which == "27":
        predicted_strict = s1 or sd
        obs = almost_all_strict(p, "27")
        return Outcome(bool(obs) == predicted_strict, {"predicted_strict": predicted_strict,
                                                      **obs.measured})
    ok = True
    for f in (0.3, 1.7):
        pred = (s1 or f > 1) and (sd or f < 1)
        ok &= bool(almost_all_strict(p, "28", eps_fracs=(f,))) == pred
    return Outcome(ok, {"lambda_1_simple": s1, "lambda_d_simple": sd})


def _aa_correction(claim_id: str, ctx, which: str = "27") -> Correction:
    r = check_property(
        claim_id, _problems(2, 8), lambda p: almost_all_strict_corrected(p, which), ctx,
        statement=("kappa* < kappa for almost all u iff lambda_1 or lambda_d is simple"
                   if which == "27" else
                   "rho* < rho for almost all u at eps iff (lambda_1 simple or eps > eps_opt) and "
                   "(lambda_d simple or eps < eps_opt)"),
        tolerance="50-digit spectra, equality to 1e-35", method="monte-carlo",
        max_examples=ctx.n(10, 200), key_suffix=f"aa-corrected-{which}")
    if which == "27":
        stmt = ("kappa* <= kappa always; kappa* < kappa for almost all u iff at least one of "
                "lambda_1, lambda_d is a simple eigenvalue of H (if both are repeated, "
                "kappa* = kappa for every u, e.g. H = I_2 or diag(1, 1, 2, 2)).")
    else:
        stmt = ("rho*(I - eps H*) < rho(I - eps H) for almost all u iff (lambda_1 simple or "
                "eps > 2/(lambda_1+lambda_d)) and (lambda_d simple or eps < 2/(lambda_1+lambda_d)).")
    return Correction(stmt, r.verdict, r.evidence)


def _aa_result(claim_id: str, ctx, which: str, statement: str) -> MethodResult:
    return check_property(
        claim_id, _problems(2, 8), lambda p: almost_all_strict(p, which), ctx,
        statement=statement, tolerance="6 Gaussian u per H; 50-digit spectra, equality to 1e-35",
        method="monte-carlo", max_examples=ctx.n(12, 200), key_suffix=f"aa-{which}",
        correction=lambda _x: _aa_correction(claim_id, ctx, which))


@check("S3.Hstar-psd", method="property",
       reading="After Eq. (14): H* is PSD, H* u = 0, kappa* = lambda*_max/lambda*_min (nonzero "
               "eigenvalues, d >= 2) <= kappa, and kappa* < kappa for almost all u (Lebesgue-almost"
               " all u for fixed H).")
def check_hstar_psd(ctx) -> MethodResult:
    """S3.Hstar-psd: PSD, null vector u and kappa* <= kappa, decided at 50 digits."""
    return check_property(
        "S3.Hstar-psd", _problems(), hstar_psd_holds, ctx,
        statement="H* PSD, H* u = 0, kappa* <= kappa",
        tolerance="spectra at 50 digits (1e-35); H* u: 8 d u lambda_max ||u|| (float64)",
        max_examples=ctx.n(20, 400))


@check("S3.Hstar-psd", method="monte-carlo")
def check_hstar_psd_aa(ctx) -> MethodResult:
    """S3.Hstar-psd, 'kappa* < kappa for almost all u': random u for each drawn H."""
    return _aa_result("S3.Hstar-psd", ctx, "27", "kappa* < kappa for almost all u (random u)")


def interlacing_holds(p: OLSProblem, strict_first: bool = True, strict_all: bool = False
                      ) -> Outcome:
    """Lemma A.1 (Eq. 24) at 50 digits: ``0 = lambda_1(H*) < lambda_1(H) <= lambda_2(H*) <=
    lambda_2(H) <= ... <= lambda_d(H*) <= lambda_d(H)``.  ``strict_all`` makes every ``<=``
    strict (a deliberately wrong variant for the mutation test)."""
    lam, ls = spectra_mp(p)
    sc = lam[-1]
    ok = _eq(ls[0], 0, sc)
    if strict_first:
        ok = ok and lam[0] > 0 and not _eq(lam[0], 0, sc)
    worst = mpmath.mpf(0)
    for i in range(p.d):
        if i >= 1:
            lower = ls[i] - lam[i - 1]
            ok = ok and (lower > EQ_RTOL * sc if strict_all else lower >= -EQ_RTOL * sc)
            worst = min(worst, lower)
        upper = lam[i] - ls[i]
        ok = ok and (upper > EQ_RTOL * sc if strict_all else upper >= -EQ_RTOL * sc)
        worst = min(worst, upper)
    return Outcome(bool(ok), {"lambda_H": [float(x) for x in lam],
                              "lambda_Hstar": [float(x) for x in ls], "worst_gap": float(worst)})


@check("L-A.1", method="property",
       reading="Lemma A.1, Eq. (24) as printed, with the strict first inequality 0 = "
               "lambda_1(H*) < lambda_1(H); all others non-strict.")
def check_interlacing(ctx) -> MethodResult:
    """L-A.1: interlacing at 50 digits on repeated / clustered / equal-extreme spectra."""
    return check_property(
        "L-A.1", _problems(), interlacing_holds, ctx,
        statement="0 = lambda_1(H*) < lambda_1(H) <= lambda_2(H*) <= ... <= lambda_d(H)",
        tolerance="50-digit eigenvalues; ties within 1e-35 lambda_max count as equal",
        max_examples=ctx.n(20, 500))


# ----------------------------------------------------------------------------------------------
# E25, E26, C-A.6 (quadratic forms, float64)
# ----------------------------------------------------------------------------------------------


@st.composite
def problem_and_vector(draw, min_d: int = 1, max_d: int = 12):
    """(problem, x) with ``x`` generic, parallel to ``u`` or nearly so (cancellation cases)."""
    p = draw(problems(min_d=min_d, max_d=max_d))
    kind = draw(st.sampled_from(("generic", "parallel-u", "near-u")))
    v = draw(unit_vectors(p.d))
    x = {"generic": v, "parallel-u": 2.0 * p.u, "near-u": p.u + 1e-6 * v}[kind]
    return _PV(p, np.asarray(x, dtype=float), kind)


class _PV:
    def __init__(self, p, x, kind, eps=None):
        self.p, self.x, self.kind, self.eps = p, x, kind, eps

    def describe(self) -> str:
        lam = ", ".join(f"{v:.4g}" for v in self.p.eigenvalues)
        e = "" if self.eps is None else f", eps = {self.eps:.4g}"
        return (f"d = {self.p.d}, eigenvalues ({lam}), u = {np.round(self.p.u, 4).tolist()}, "
                f"x = {np.round(self.x, 4).tolist()} [{self.kind}]{e}")

    def to_json(self) -> dict[str, Any]:
        out = self.p.to_json()
        out.update(x=self.x.tolist(), eps=self.eps)
        return out


def e25_holds(pv: _PV, sign: int = -1) -> Outcome:
    """Eq. (25): ``x^T H* x = x^T H x - (x^T H u)^2/(u^T H u)`` in ``[0, x^T H x]``.  Both sides
    are sums of terms bounded by ``lambda_max ||x||^2``; rounding ``<= 8 d u lambda_max ||x||^2``.
    ``sign = +1`` is a wrong variant (mutation)."""
    p, x = pv.p, pv.x
    lhs = float(x @ p.h_star() @ x)
    xHx = float(x @ p.H @ x)
    rhs = xHx + sign * float(x @ p.g) ** 2 / float(p.u @ p.g)
    tol = 8 * p.d * UNIT * p.lambda_max * float(x @ x)
    ok = abs(lhs - rhs) <= tol and -tol <= lhs <= xHx + tol
    return Outcome(ok, {"lhs": lhs, "rhs": rhs, "tolerance": tol})


def e26_holds(pv: _PV, shift: float = 0.0) -> Outcome:
    """Eq. (26): ``x^T H* x = min_t ||x - t u||_H^2``.  The minimum is taken from the function
    itself: ``f(t) = ||x - t u||_H^2`` is a quadratic, determined by ``f(-1), f(0), f(1)``; its
    minimum is ``f(0) - (f(1) - f(-1))^2 / (8 (f(1) + f(-1) - 2 f(0))/2)``.  Rounding
    ``<= 64 d u lambda_max (||x|| + ||u||)^2`` (differences of values of that size).
    ``shift`` adds a wrong constant (mutation)."""
    p, x = pv.p, pv.x

    def f(t: float) -> float:
        v = x - t * p.u
        return float(v @ p.H @ v)

    fm, f0, fp = f(-1.0), f(0.0), f(1.0)
    A = (fp + fm - 2 * f0) / 2
    B = (fp - fm) / 2
    fmin = f0 - B * B / (4 * A)
    lhs = float(x @ p.h_star() @ x) + shift
    tol = 64 * p.d * UNIT * p.lambda_max * (np.linalg.norm(x) + np.linalg.norm(p.u)) ** 2
    tol *= max(1.0, abs(B) / max(A, 1e-300))  # the vertex -B/(2A) amplifies rounding of A, B
    return Outcome(abs(lhs - fmin) <= tol, {"x^T H* x": lhs, "min_t": fmin, "tolerance": tol})


@check("E25", method="property",
       reading="Eq. (25) as printed: x^T H* x = x^T H x - (x^T H u)^2/(u^T H u), in [0, x^T H x].")
def check_e25(ctx) -> MethodResult:
    return check_property(
        "E25", problem_and_vector(), e25_holds, ctx,
        statement="x^T H* x = x^T H x - (x^T H u)^2/(u^T H u) in [0, x^T H x]",
        tolerance="8 d u lambda_max ||x||^2 (float64 rounding of the quadratic forms)",
        max_examples=ctx.n(25, 600))


@check("E26", method="property",
       reading="Eq. (26) as printed: x^T H* x = min_t ||x - t u||_H^2.")
def check_e26(ctx) -> MethodResult:
    return check_property(
        "E26", problem_and_vector(), e26_holds, ctx,
        statement="x^T H* x = min over t of ||x - t u||_H^2 (minimum of the sampled quadratic)",
        tolerance="64 d u lambda_max (||x|| + ||u||)^2, amplified by |vertex|",
        max_examples=ctx.n(25, 600))


@st.composite
def problem_vector_eps(draw):
    pv = draw(problem_and_vector(min_d=2))
    mag = draw(log_floats(1e-3, 1e3))
    sgn = draw(st.sampled_from([1.0, -1.0]))
    pv.eps = sgn * mag / pv.p.lambda_max
    return pv


def ca6_holds(pv: _PV, rho_fn=None) -> Outcome:
    """Cor. A.6: ``||(I - eps H*) x||_{H*} <= rho*(I - eps H*) ||x||_{H*}`` for every real eps
    (the seminorm read with its square root), compared squared; tolerances below."""
    p, x, eps = pv.p, pv.x, pv.eps
    Hs = p.h_star()
    z = x - eps * (Hs @ x)
    lhs2 = float(z @ Hs @ z)
    nx2 = float(x @ Hs @ x)
    rs = p.rho_star(eps) if rho_fn is None else rho_fn(p, eps)
    # squared form: rounding of v^T H* v is 8 d u lambda_max ||v||^2 (also when it is ~0, e.g.
    # x parallel to u, where a square root would magnify it to sqrt(u)); z itself is rounded by
    # d u (1 + |eps| lambda_max) ||x||, changing z^T H* z by 2 lambda_max ||z|| times that
    err_z = p.d * UNIT * (1 + abs(eps) * p.lambda_max) * float(np.linalg.norm(x))
    lam = p.lambda_max
    tol = 8 * p.d * UNIT * lam * (float(z @ z) + rs**2 * float(x @ x)) \
        + 4 * lam * float(np.linalg.norm(z)) * err_z + 8 * p.d * UNIT * (1 + abs(eps) * lam) * rs * nx2
    return Outcome(lhs2 <= rs**2 * nx2 + tol, {"lhs_sq": lhs2, "rhs_sq": rs**2 * nx2,
                                              "tolerance": tol})


@check("C-A.6", method="property",
       reading="Cor. A.6: ||(I - eps H*) x||_{H*} <= rho*(I - eps H*) ||x||_{H*} for all x, real "
               "eps; Def. A.2 prints '||x||_{H*} := x^T H* x', read as sqrt(x^T H* x) (a seminorm "
               "must be absolutely homogeneous; the square root was lost in extraction).")
def check_ca6(ctx) -> MethodResult:
    return check_property(
        "C-A.6", problem_vector_eps(), ca6_holds, ctx,
        statement="||(I - eps H*) x||_H* <= rho*(I - eps H*) ||x||_H* (eps of both signs)",
        tolerance="squared seminorms: 8 d u lambda_max (||z||^2 + rho*^2 ||x||^2) + rounding of "
                  "z = (I - eps H*) x",
        max_examples=ctx.n(25, 600))


# ----------------------------------------------------------------------------------------------
# C-A.5, C-A.7, S3.acceleration (decided at 50 digits)
# ----------------------------------------------------------------------------------------------


def ca5_holds(p: OLSProblem, corrected: bool = False) -> Outcome:
    """Cor. A.5 (Eq. 27): ``kappa* <= kappa`` with equality iff ``u ⟂ span{v_1, v_d}`` (printed:
    ``v_1``, ``v_d`` the first and last eigenvectors of the problem's basis); ``corrected``: iff
    (``u ⟂ E(lambda_1)`` or ``lambda_1`` repeated) and (``u ⟂ E(lambda_d)`` or ``lambda_d``
    repeated), ``E`` the eigenspace."""
    lam_np, ue = eigen_data(p)
    lam, ls = spectra_mp(p)
    kstar, kap = ls[-1] / ls[1], lam[-1] / lam[0]
    ineq = kstar <= kap * (1 + EQ_RTOL)
    equal = _eq(kstar * lam[0], lam[-1], lam[-1])
    if corrected:
        perp1 = bool(np.all(ue[lam_np == lam_np[0]] == 0))
        perpd = bool(np.all(ue[lam_np == lam_np[-1]] == 0))
        cond = (perp1 or _mult(lam_np, lam_np[0]) > 1) and (perpd or _mult(lam_np, lam_np[-1]) > 1)
    else:
        cond = bool(ue[0] == 0 and ue[-1] == 0)
    return Outcome(bool(ineq and equal == cond),
                   {"kappa_star": float(kstar), "kappa": float(kap), "equal": bool(equal),
                    "condition": cond})


@check("C-A.5", method="property",
       reading="Cor. A.5, Eq. (27): kappa*(H*) = lambda_d(H*)/lambda_2(H*) <= kappa(H), 'equality "
               "iff u ⟂ span{v1, vd}', v_i the eigenvectors of H (the problem's orthonormal "
               "eigenbasis; for repeated eigenvalues the choice of v_1, v_d is the basis's); d >= 2.")
def check_ca5(ctx) -> MethodResult:
    """C-A.5: the inequality and the equality condition at 50 digits (repeated extremes probed)."""

    def corr(_x):
        r = check_property(
            "C-A.5", _problems(2), lambda p: ca5_holds(p, corrected=True), ctx,
            statement="kappa* = kappa iff (u ⟂ E(lambda_1) or lambda_1 repeated) and (u ⟂ "
                      "E(lambda_d) or lambda_d repeated)",
            tolerance="50-digit spectra, equality to 1e-35", max_examples=ctx.n(25, 600),
            key_suffix="corrected")
        return Correction(
            "kappa*(H*) <= kappa(H), with equality iff [u ⟂ E(lambda_1) or lambda_1 has "
            "multiplicity >= 2] and [u ⟂ E(lambda_d) or lambda_d has multiplicity >= 2], E(.) the "
            "eigenspace; this reduces to the printed 'u ⟂ span{v1, vd}' when lambda_1 and "
            "lambda_d are simple.", r.verdict, r.evidence)

    return check_property(
        "C-A.5", _problems(2), ca5_holds, ctx,
        statement="kappa* <= kappa, equality iff u ⟂ span{v1, vd}",
        tolerance="50-digit spectra, equality to 1e-35", max_examples=ctx.n(25, 600),
        correction=corr)


@st.composite
def problem_and_eps(draw, min_d: int = 2, max_d: int = 8):
    p = draw(_problems(min_d, max_d))
    f = draw(st.one_of(st.just(1.0), log_floats(1e-2, 1e2)))
    pv = _PV(p, np.zeros(p.d), "eps only", f * 2.0 / (p.lambda_min + p.lambda_max))
    return pv


def ca7_holds(pv: _PV, corrected: bool = False, strict_always: bool = False) -> Outcome:
    """Cor. A.7 (Eq. 28) at 50 digits: ``rho*(I - eps H*) <= rho(I - eps H)`` for ``eps > 0``,
    strict if ``u^T v_1 != 0`` and ``u^T v_d != 0`` (printed); ``corrected`` adds 'lambda_1 and
    lambda_d simple' to the strictness hypothesis; ``strict_always`` (mutation) demands strictness
    everywhere."""
    p, eps = pv.p, pv.eps
    lam_np, ue = eigen_data(p)
    lam, ls = spectra_mp(p)
    with mpmath.workdps(DPS):
        e = mpmath.mpf(eps)
        r = L.spectral_radius_mp(e, lam)
        rs = L.spectral_radius_mp(e, [ls[1], ls[-1]])
        ineq = rs <= r + EQ_RTOL
        strict = rs < r and not _eq(rs, r, 1)
    hyp = bool(ue[0] != 0 and ue[-1] != 0)
    if corrected:
        hyp = hyp and _mult(lam_np, lam_np[0]) == 1 and _mult(lam_np, lam_np[-1]) == 1
    if strict_always:
        hyp = True
    ok = ineq and (strict or not hyp)
    return Outcome(bool(ok), {"rho": float(r), "rho_star": float(rs), "strict": bool(strict),
                              "hypothesis": hyp})


@check("C-A.7", method="property",
       reading="Cor. A.7, Eq. (28): rho*(I - eps H*) <= rho(I - eps H) for eps > 0, 'strict if "
               "u^T v_i != 0 for i = 1, d' (v_1, v_d of the problem's eigenbasis); and '(27) and "
               "(28) strict for almost all u' (fixed H, Lebesgue-almost every u); d >= 2.")
def check_ca7(ctx) -> MethodResult:
    """C-A.7: inequality and strictness condition at 50 digits, eps at and around eps_opt."""

    def corr(_x):
        r = check_property(
            "C-A.7", problem_and_eps(), lambda pv: ca7_holds(pv, corrected=True), ctx,
            statement="strict if u^T v_1 != 0, u^T v_d != 0 and lambda_1, lambda_d simple",
            tolerance="50-digit spectra, equality to 1e-35", max_examples=ctx.n(25, 600),
            key_suffix="corrected")
        return Correction(
            "rho*(I - eps H*) <= rho(I - eps H) for eps > 0, strict if lambda_1 and lambda_d are "
            "simple eigenvalues of H and u^T v_1 != 0, u^T v_d != 0.", r.verdict, r.evidence)

    return check_property(
        "C-A.7", problem_and_eps(), ca7_holds, ctx,
        statement="rho* <= rho for eps > 0, strict if u^T v_1 != 0 and u^T v_d != 0",
        tolerance="50-digit spectra, equality to 1e-35", max_examples=ctx.n(25, 600),
        correction=corr)


@check("C-A.7", method="monte-carlo")
def check_ca7_aa(ctx) -> MethodResult:
    """C-A.7, '(28) strict for almost all u' (the (27) part is S3.Hstar-psd's check)."""
    return _aa_result("C-A.7", ctx, "28", "(28) strict for almost all u (random u, 3 step sizes)")


def acceleration_holds(pv: _PV, use_kappa_star: bool = True) -> Outcome:
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
        ok = (rs <= r + EQ_RTOL and _eq(opt_formula, opt_attained, 1)
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
    return _aa_result("S3.acceleration", ctx, "27",
                      "rho*_opt < rho_opt (kappa* < kappa) for almost all u (random u)")




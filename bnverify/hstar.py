"""The matrix ``H* = H - H u u^T H / (u^T H u)`` (eq. 14, 23) and its spectrum at 50 digits.

:func:`eigen_data` / :func:`spectra_mp` compute the spectra of ``H`` and ``H*`` from the drawn
eigenvalues and the coefficients ``u^T v_i`` (``mpmath.eigsy``); two 50-digit numbers are equal
when they agree to ``EQ_RTOL = 1e-35`` of ``lambda_max``.  :func:`almost_all_strict` (and its
corrected form) decides the "strict for almost all u" statements of (27), (28), S3.Hstar-psd and
S3.acceleration; :func:`problem_and_eps` and ``ProblemVector`` are the Hypothesis strategies and records
the §3.3 and §A.1 checks share.
"""

from __future__ import annotations

import hashlib
from typing import Any

import mpmath
import numpy as np
from hypothesis import strategies as st

from bnverify import linalg_mp as L
from bnverify.claims import Correction, MethodResult
from bnverify.model import OLSProblem
from bnverify.properties import Outcome, check_property
from bnverify.strategies import log_floats, problems

DPS = 50  # working digits of the mpmath cross-checks (= bnverify.linalg_mp.DPS)

EQ_RTOL = mpmath.mpf("1e-35")


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


def mp_equal(x, y, scale) -> bool:
    """Whether two 50-digit numbers agree to ``EQ_RTOL`` of ``scale``."""
    return abs(x - y) <= EQ_RTOL * scale


def _resolvable(p: OLSProblem) -> bool:
    """Coefficients ``u^T v_i`` are 0 or above 1e-6 in size: eigenvalue shifts of order
    ``(u^T v_i)^2`` below ~1e-35 cannot be told from equality at 50 digits (Hypothesis otherwise
    draws subnormal coefficients such as 2e-313)."""
    _, ue = eigen_data(p)
    return bool(np.all((ue == 0) | (np.abs(ue) > 1e-6 * np.linalg.norm(ue))))


def hstar_problems(min_d: int = 1, max_d: int = 8):
    """Problems whose spectra the 50-digit decisions can resolve (Hypothesis strategy)."""
    return problems(min_d=min_d, max_d=max_d).filter(_resolvable)


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
                n_eq += mp_equal(ls[-1] / ls[1] * lm[0], lm[-1], lm[-1])
            else:
                for f in eps_fracs:
                    e = mpmath.mpf(f) * 2 / (lm[0] + lm[-1])
                    r, rs = L.spectral_radius_mp(e, lm), L.spectral_radius_mp(e, [ls[1], ls[-1]])
                    n_eq += mp_equal(rs, r, 1)
    return Outcome(n_eq == 0, {"equalities": n_eq, "samples": n_u})


def multiplicity(lam: np.ndarray, x: float) -> int:
    """How often ``x`` occurs in the spectrum ``lam``."""
    return int(np.sum(lam == x))


def almost_all_strict_corrected(p: OLSProblem, which: str = "27") -> Outcome:
    """Corrected 'almost all u' statements: (27) is strict for almost all u iff lambda_1 or
    lambda_d is simple; (28) at eps = f * 2/(lambda_1+lambda_d) iff (lambda_1 simple or f > 1) and
    (lambda_d simple or f < 1).  Checked by comparing the predicted and observed equalities."""
    lam, _ = eigen_data(p)
    s1, sd = multiplicity(lam, lam[0]) == 1, multiplicity(lam, lam[-1]) == 1
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
        claim_id, hstar_problems(2, 8), lambda p: almost_all_strict_corrected(p, which), ctx,
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


def almost_all_result(claim_id: str, ctx, which: str, statement: str) -> MethodResult:
    """The Monte Carlo check of a "strict for almost all u" statement (``which``: eq. 27 or
    28), with its corrected statement."""
    return check_property(
        claim_id, hstar_problems(2, 8), lambda p: almost_all_strict(p, which), ctx,
        statement=statement, tolerance="6 Gaussian u per H; 50-digit spectra, equality to 1e-35",
        method="monte-carlo", max_examples=ctx.n(12, 200), key_suffix=f"aa-{which}",
        correction=lambda _x: _aa_correction(claim_id, ctx, which))


class ProblemVector:
    """A problem, a vector ``x`` (and a step ``eps``) at which a quadratic-form identity is tested."""

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


@st.composite
def problem_and_eps(draw, min_d: int = 2, max_d: int = 8):
    """A problem and a step size around ``2/(lambda_min + lambda_max)`` (Hypothesis strategy)."""
    p = draw(hstar_problems(min_d, max_d))
    f = draw(st.one_of(st.just(1.0), log_floats(1e-2, 1e2)))
    pv = ProblemVector(p, np.zeros(p.d), "eps only", f * 2.0 / (p.lambda_min + p.lambda_max))
    return pv

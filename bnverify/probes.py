"""Generic machinery of the severity probes (``@probe`` in the ``proofs/`` section modules).

Reading a refuting counterexample back (:func:`_cex`, :func:`_hdiag`), drawing generic
perturbations inside the stated domain (:func:`_jitter`, :func:`_jitter_h`), the probe of a
spectral statement (:func:`spectral_probe`), the scaling-law re-test under both readings
(:func:`_scaling_fails`, :func:`_rw_probe`), the Hessian probe of S3.Hstar / E22-23
(:func:`_hstar_probe`) and the boundary severity of ``symbolic:boundary`` refutations
(:func:`_boundary_severity`).  See :mod:`bnverify.severity` for the classification rules.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import numpy as np

from bnverify.model import OLSProblem
from bnverify.severity import Severity, classify, neighbourhood


def _boundary_severity(cr: Any, boundary: str, rest: str) -> Severity | None:
    """``degenerate`` when the refutation is the exact boundary check alone and its corrected
    statement (the rest of the domain) is verified; otherwise the default rule."""
    refuting = [r for r in cr.results if r.verdict == "refuted"]
    if [r.method for r in refuting] != ["symbolic:boundary"]:
        return None
    corr = refuting[0].correction
    if corr is None or corr.verdict != "verified":
        return None
    return Severity("degenerate", f"fails only at the boundary {boundary} of the stated domain; "
                    f"{rest}", {"computed": True, "boundary": boundary,
                                "correction": corr.statement})


def _cex(cr, method: str | None = None) -> dict[str, Any] | None:
    for r in cr.results:
        if r.verdict == "refuted" and r.counterexample and (method is None or r.method == method):
            return r.counterexample
    return None


def _hdiag(cex: dict[str, Any]) -> np.ndarray:
    if "H_diag" in cex:
        return np.asarray(cex["H_diag"], dtype=float)
    return np.diag(np.asarray(cex["H"], dtype=float))


def _jitter(x: np.ndarray, rng, radius: float) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x + radius * max(float(np.linalg.norm(x)), 1.0) * rng.standard_normal(x.shape)


def _jitter_h(h: np.ndarray, rng, radius: float) -> np.ndarray:
    return np.asarray(h, dtype=float) * (1 + radius * rng.standard_normal(len(h)))


def _seed(ctx) -> int:
    return getattr(ctx, "seed", 0) or 0


def spectral_probe(cex: dict[str, Any], fails, seed: int = 0, n: int = 12) -> Severity:
    """Re-test ``fails(OLSProblem, cex) -> bool`` on generic perturbations of the eigenvalues of
    ``H`` and of ``u`` (relative 1e-3): generic eigenvalues are simple."""
    h0, u0 = _hdiag(cex), np.asarray(cex["u"], dtype=float)

    def one(rng, radius):
        return fails(OLSProblem(_jitter_h(h0, rng, radius), _jitter(u0, rng, radius)), cex)

    lam = np.sort(h0)
    rep = [name for name, v in (("smallest", lam[0]), ("largest", lam[-1]))
           if int(np.sum(lam == v)) > 1]
    special = ("where an extreme eigenvalue of H is repeated (here the "
               + (" and ".join(rep) or "?") + f" of {lam.tolist()}; a measure-zero set of H)")
    sev = classify(neighbourhood(one, n=n, seed=seed), special)
    sev.details["repeated_extremes"] = rep
    return sev


def _spectral(fn):
    """The probe of a spectral claim: :func:`spectral_probe` with ``fn`` as its failure test."""

    def _p(cr, ctx):
        cex = _cex(cr)
        return None if cex is None else spectral_probe(cex, fn, _seed(ctx))

    return _p


def _scaling_fails(cex, reading, rng, radius, m, gamma, r):
    from bnverify.scaling_support import ScalingCase, equivalent
    from bnverify.strategies import Configuration

    h0, u0 = _hdiag(cex), np.asarray(cex["u"], dtype=float)
    p = OLSProblem(_jitter_h(h0, rng, radius), _jitter(u0, rng, radius))
    w0 = _jitter(np.asarray(cex["w0"], dtype=float), rng, radius)
    a0 = float(cex["a0"]) * (1 + radius * rng.standard_normal())
    cfg = Configuration(p, a0, w0, float(cex["eps_a"]), float(cex["eps"]), "perturbed")
    e1 = tuple([1] + [0] * (p.d - 1))
    return not equivalent(ScalingCase(cfg, m, gamma, e1, e1, r), reading)


def _parse(comment: str, name: str, default: str) -> Fraction:
    m = re.search(rf"\b{name} = ([-\d/]+)", comment or "")
    return Fraction(m.group(1)) if m else Fraction(default)


def _rw_probe(cex, ctx):
    r0 = float(_parse(cex.get("comment", ""), "r", str(cex.get("r", -1))))

    def one(rng, radius):
        r = Fraction(r0 * (1 + radius * rng.standard_normal())).limit_denominator(10**6)
        return _scaling_fails(cex, "rw", rng, radius, Fraction(1), Fraction(1), r)

    return classify(neighbourhood(one, n=8, seed=_seed(ctx)), "at isolated r",
                    "for every r < 0 (an open half of the stated domain r != 0), unless a0 "
                    "changes sign with r")


def _bn_loss_np(h, u, a, w):
    s = np.sqrt(w @ (h * w))
    e = u - a * w / s
    return 0.5 * e @ (h * e)


def _fd_hessian(h, u, a, w, step=1e-4):
    x0 = np.concatenate([[a], w])
    n = len(x0)
    f = lambda x: _bn_loss_np(h, u, x[0], x[1:])  # noqa: E731
    Hs = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * step, np.eye(n)[j] * step
            Hs[i, j] = (f(x0 + ei + ej) - f(x0 + ei - ej) - f(x0 - ei + ej) + f(x0 - ei - ej)) / (
                4 * step * step)
    return Hs


def _hstar_probe(cr, ctx):
    cex = _cex(cr, "numeric") or _cex(cr)
    if cex is None or "u" not in cex:
        return None
    h0, u0 = _hdiag(cex), np.asarray(cex["u"], dtype=float)

    def one(rng, radius):
        h, u = _jitter_h(h0, rng, radius), _jitter(u0, rng, radius)
        s = 1 + radius * rng.standard_normal()
        w = s * u
        a = np.sign(s) * np.sqrt(u @ (h * u))
        H = np.diag(h)
        Hstar = H - np.outer(h * u, h * u) / (u @ (h * u))
        printed = np.zeros((len(u) + 1,) * 2)
        printed[0, 0] = 1
        printed[1:, 1:] = Hstar / (w @ w)
        fd = _fd_hessian(h, u, a, w)
        return np.linalg.norm(fd - printed) > 1e-4 * max(np.linalg.norm(fd), 1.0)

    nu = float(np.linalg.norm(u0))
    return classify(neighbourhood(one, seed=_seed(ctx)), "where ||u|| = 1",
                    f"for every u with ||u|| != 1 (here ||u|| = {nu:g}; the Hessian is "
                    "diag(1, H*/s^2) at w* = s u), an open set")

"""Generic machinery of the severity probes (``@probe`` in the ``proofs/`` section modules).

Reading a refuting counterexample back (:func:`refuting_counterexample`, :func:`h_diagonal`),
drawing generic perturbations inside the stated domain (:func:`jitter`, :func:`jitter_h`), the probe of a
spectral statement (:func:`spectral_probe`), the scaling-law re-test under both readings
(:func:`scaling_fails`, :func:`rw_probe`), the Hessian probe of S3.Hstar / E22-23
(:func:`hstar_probe`) and the boundary severity of ``symbolic:boundary`` refutations
(:func:`boundary_severity`).  See :mod:`bnverify.severity` for the classification rules.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import numpy as np

from bnverify.model import OLSProblem
from bnverify.severity import Severity, classify, neighbourhood


def boundary_severity(cr: Any, boundary: str, rest: str) -> Severity | None:
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


def refuting_counterexample(cr, method: str | None = None) -> dict[str, Any] | None:
    """The counterexample of the first refuting result of ``cr`` (of ``method``, if given)."""
    for r in cr.results:
        if r.verdict == "refuted" and r.counterexample and (method is None or r.method == method):
            return r.counterexample
    return None


def h_diagonal(cex: dict[str, Any]) -> np.ndarray:
    """The diagonal of ``H`` of a counterexample (``H_diag`` or the diagonal of ``H``)."""
    if "H_diag" in cex:
        return np.asarray(cex["H_diag"], dtype=float)
    return np.diag(np.asarray(cex["H"], dtype=float))


def jitter(x: np.ndarray, rng, radius: float) -> np.ndarray:
    """``x`` plus a Gaussian perturbation of relative size ``radius`` (at least ``radius``)."""
    x = np.asarray(x, dtype=float)
    return x + radius * max(float(np.linalg.norm(x)), 1.0) * rng.standard_normal(x.shape)


def jitter_h(h: np.ndarray, rng, radius: float) -> np.ndarray:
    """Eigenvalues ``h`` perturbed multiplicatively by ``radius`` (they stay positive)."""
    return np.asarray(h, dtype=float) * (1 + radius * rng.standard_normal(len(h)))


def probe_seed(ctx) -> int:
    """The seed of a check context (0 without one)."""
    return getattr(ctx, "seed", 0) or 0


def spectral_probe(cex: dict[str, Any], fails, seed: int = 0, n: int = 12) -> Severity:
    """Re-test ``fails(OLSProblem, cex) -> bool`` on generic perturbations of the eigenvalues of
    ``H`` and of ``u`` (relative 1e-3): generic eigenvalues are simple."""
    h0, u0 = h_diagonal(cex), np.asarray(cex["u"], dtype=float)

    def one(rng, radius):
        return fails(OLSProblem(jitter_h(h0, rng, radius), jitter(u0, rng, radius)), cex)

    lam = np.sort(h0)
    rep = [name for name, v in (("smallest", lam[0]), ("largest", lam[-1]))
           if int(np.sum(lam == v)) > 1]
    special = ("where an extreme eigenvalue of H is repeated (here the "
               + (" and ".join(rep) or "?") + f" of {lam.tolist()}; a measure-zero set of H)")
    sev = classify(neighbourhood(one, n=n, seed=seed), special)
    sev.details["repeated_extremes"] = rep
    return sev


def spectral_probe_of(fn):
    """The probe of a spectral claim: :func:`spectral_probe` with ``fn`` as its failure test."""

    def _p(cr, ctx):
        cex = refuting_counterexample(cr)
        return None if cex is None else spectral_probe(cex, fn, probe_seed(ctx))

    return _p


def scaling_fails(cex, reading, rng, radius, m, gamma, r):
    """Whether the scaling law under ``reading`` fails at a perturbation of the
    counterexample (``bnverify.scaling_support.equivalent``)."""
    from bnverify.scaling_support import ScalingCase, equivalent
    from bnverify.strategies import Configuration

    h0, u0 = h_diagonal(cex), np.asarray(cex["u"], dtype=float)
    p = OLSProblem(jitter_h(h0, rng, radius), jitter(u0, rng, radius))
    w0 = jitter(np.asarray(cex["w0"], dtype=float), rng, radius)
    a0 = float(cex["a0"]) * (1 + radius * rng.standard_normal())
    cfg = Configuration(p, a0, w0, float(cex["eps_a"]), float(cex["eps"]), "perturbed")
    e1 = tuple([1] + [0] * (p.d - 1))
    return not equivalent(ScalingCase(cfg, m, gamma, e1, e1, r), reading)


def parse_fraction(comment: str, name: str, default: str) -> Fraction:
    """The rational ``name = p/q`` written in a counterexample's comment, else ``default``."""
    m = re.search(rf"\b{name} = ([-\d/]+)", comment or "")
    return Fraction(m.group(1)) if m else Fraction(default)


def rw_probe(cex, ctx):
    """The severity of a Prop. 3.2(2) refutation: re-test perturbations of ``r < 0``."""
    r0 = float(parse_fraction(cex.get("comment", ""), "r", str(cex.get("r", -1))))

    def one(rng, radius):
        r = Fraction(r0 * (1 + radius * rng.standard_normal())).limit_denominator(10**6)
        return scaling_fails(cex, "rw", rng, radius, Fraction(1), Fraction(1), r)

    return classify(neighbourhood(one, n=8, seed=probe_seed(ctx)), "at isolated r",
                    "for every r < 0 (an open half of the stated domain r != 0), unless a0 "
                    "changes sign with r")


def bn_loss_np(h, u, a, w):
    """The BN objective ``J(a, w)`` (noise-free part) in float64, ``H = diag(h)``."""
    s = np.sqrt(w @ (h * w))
    e = u - a * w / s
    return 0.5 * e @ (h * e)


def _fd_hessian(h, u, a, w, step=1e-4):
    x0 = np.concatenate([[a], w])
    n = len(x0)
    f = lambda x: bn_loss_np(h, u, x[0], x[1:])  # noqa: E731
    Hs = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * step, np.eye(n)[j] * step
            Hs[i, j] = (f(x0 + ei + ej) - f(x0 + ei - ej) - f(x0 - ei + ej) + f(x0 - ei - ej)) / (
                4 * step * step)
    return Hs


def hstar_probe(cr, ctx):
    """The severity of a refuted Hessian-at-a-minimiser statement (S3.Hstar, E22-23): the
    printed form fails for every ``u`` with ``||u|| != 1``."""
    cex = refuting_counterexample(cr, "numeric") or refuting_counterexample(cr)
    if cex is None or "u" not in cex:
        return None
    h0, u0 = h_diagonal(cex), np.asarray(cex["u"], dtype=float)

    def one(rng, radius):
        h, u = jitter_h(h0, rng, radius), jitter(u0, rng, radius)
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
    return classify(neighbourhood(one, seed=probe_seed(ctx)), "where ||u|| = 1",
                    f"for every u with ||u|| != 1 (here ||u|| = {nu:g}; the Hessian is "
                    "diag(1, H*/s^2) at w* = s u), an open set")

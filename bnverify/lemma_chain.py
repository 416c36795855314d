"""Deciding BNGD runs through the paper's lemma chain (Lemmas A.10-A.13, Thm. A.17), certified.

Theorem 3.3 / A.17 (claim T3.3) is proved in the paper by showing that once the iterate
``(a_K, w_K)`` satisfies the hypotheses of Lemma A.12 (or A.13) the rest of the iteration
converges (Lemma A.11).  This module turns those hypotheses into explicit inequalities in the
state at one step ``K``, finds the first ``K`` where they hold (float64 scan), and then *proves*
them for the true state at ``K``: the certified engine (:func:`bnverify.dynamics.certified.
run_certified`, Arb balls) encloses the exact iterate ``(a_K, w_K)`` of the configuration (inputs
read as the exact doubles given), and the inequalities are evaluated on those balls in Arb (a
comparison of balls is ``True`` only when it holds for every point of the balls).

Notation (``u`` the optimum, ``H`` SPD, ``g = H u``; all exact functions of the state)
--------------------------------------------------------------------------------------
``C = sqrt(u^T H u)`` (``= ||u||_H``), ``y = w^T g``, ``sigma^2 = w^T H w``,
``q = C^2 - y^2/sigma^2`` (Eq. 36, ``= ||e||_H^2`` with ``e = u - (y/sigma^2) w``, Eq. 35),
``eps^ = eps (a/sigma)(y/sigma^2)`` (Eq. 37), ``lambda_min``, ``lambda_max`` the extreme
eigenvalues of ``H`` (exact for a diagonal problem; Arb enclosures of ``acb_mat.eig`` otherwise),
``kappa = lambda_max / lambda_min``.

Constants and hypotheses at step ``K``
--------------------------------------
* ``C_a := max(1, |a_K| / C)``.  The paper (before Lemma A.12) takes any ``C_a >= 1`` with
  ``|a_k| <= C_a C`` for all ``k``.  From ``K`` on this one holds: the proof of Lemma A.10 writes
  ``a_(k+1) = (1 - eps_a) a_k + eps_a alpha_k`` with ``|alpha_k| = |y_k|/sigma_k <= C``
  (Cauchy-Schwarz in the ``H`` inner product), a convex combination when ``eps_a in (0, 1]``, so
  ``|a_k| <= max(|a_K|, C)`` for ``k >= K`` (sharper than the printed
  ``|a_0| + 2C/(1 - |1 - eps_a|)``, which is also valid).
* **Lemma A.12 as printed** (garbled ``eps0`` read as ``1/(2 C_a kappa lambda_max)`` with the
  paper's normalisation ``||u|| = 1``; for general ``u`` the chain (50) gives
  ``eps0 = 1/(2 C_a kappa lambda_max ||u||^2)``):
  (H0) ``eps_a in (0, 1]``;  (H1) ``a_K y_K > 0``;  (H2) ``r_A12 := 2 C_a kappa lambda_max
  ||u||^2 eps / ||w_K||^2 < 1``.  Conclusion: converges to a global minimiser.
* **Lemma A.13 as printed**: (H0) and (H2) without (H1).  Conclusion: converges (to a global
  minimiser if some later ``a_k y_k > 0``, by A.12; to a saddle otherwise).
* **Lemma A.12 with state constants** ("A.12s", the chain A.12(1)-(2) -> A.11 with the
  constants of the state at K instead of the worst case): (H0), (H1) and
  (H2s) ``r_A12s := eps A C lambda_max / (2 m_K ||w_K||^2) < 1`` with ``A := max(|a_K|, C)``
  (for ``eps_a in (1, 2)``: ``A := U`` and the extra hypothesis (H3) of the bullet below),
  ``m_K := (C^2 - q_K) / (||u|| + sqrt(q_K / lambda_min))^2``.
  Proof (induction over ``k >= K`` of: ``a_k y_k > 0`` with the signs of step K,
  ``|a_k| <= A``, ``||w_k|| >= ||w_K||``, ``q_k <= q_K``):
  ``eps^_k = eps a_k y_k / sigma_k^3 <= eps A C / sigma_k^2`` (as in Eq. 50); with
  ``t = y/sigma^2``, ``t w = u - e`` and ``e`` H-orthogonal to ``w``:
  ``sigma^2 / ||w||^2 = (C^2 - q) / ||u - e||^2 >= (C^2 - q)/(||u|| + sqrt(q/lambda_min))^2``
  (``||e||^2 <= q / lambda_min``), which decreases in ``q``, so ``sigma_k^2 >= m_K ||w_K||^2``
  (``||w_k||`` is non-decreasing, Eq. 40) and ``0 < eps^_k <= E+ := eps A C/(m_K ||w_K||^2) <
  2/lambda_max`` by (H2s).  Then Eq. (38) gives ``q_(k+1) <= rho(I - eps^_k H)^2 q_k <= q_k``;
  Eq. (34) gives ``||u - t_k w_(k+1)||_H = ||(I - eps^_k H) e_k||_H <= sqrt(q_k) < C`` hence
  ``t_k y_(k+1) = C^2 - (u - t_k w_(k+1))^T H u >= C^2 - C sqrt(q_k) > 0`` (``y`` keeps its
  sign), and ``a_(k+1)`` is a convex combination of ``a_k`` and ``y_k/sigma_k`` (same sign, and
  ``|a_(k+1)| >= min(|a_K|, sqrt(C^2 - q_K))``, Eq. 49).  So for all ``k >= K``:
  ``eps- / ||w_k||^2 <= eps^_k <= E+ < 2/lambda_max`` with
  ``eps- = eps min(|a_K|, sqrt(C^2 - q_K)) sqrt(C^2 - q_K) / lambda_max > 0``, which is the
  hypothesis (39) of Lemma A.11: the iteration converges to a global minimiser.  (Near a
  minimiser ``E+`` tends to the limit's effective step, so this decides every run whose limit
  has ``eps^ < 2/lambda_max``; the printed ``eps0`` is smaller by about ``4 C_a kappa``.)

* **eps_a in (1, 2)** (the case of the paper's Remark 2 to Lemma A.12) in A.12s.  With
  ``alpha_k := |y_k|/sigma_k = sqrt(C^2 - q_k)`` (non-decreasing in ``[alpha, C]``,
  ``alpha := alpha_K``, while ``q_k`` is non-increasing) and ``c := eps_a - 1``,
  ``a_(k+1) - alpha_k = -c (a_k - alpha_k)`` so ``D_k := ||a_k| - alpha_k|`` satisfies
  ``D_(k+1) <= |c| D_k + (alpha_(k+1) - alpha_k)``; hence for ``k >= K`` both
  ``D_k <= max(D_K, (C - alpha)/(1 - |c|))`` and (summing the non-negative increments of
  ``alpha_k``, total ``<= C - alpha``) ``D_k <= D_K + (C - alpha)``.  With ``D`` the smaller of
  the two, ``|a_k| in [L, U] := [alpha - D, C + D]``; hypothesis (H3) ``L > 0`` keeps the signs
  (and the lower bound of ``eps^_k``), and A.12s uses ``A := U``.  For ``eps_a <= 1``:
  ``L := min(|a_K|, alpha)`` (Eq. 49), ``U := max(|a_K|, C)``, (H3) is ``L > 0``.  (H0) of
  A.12s is ``eps_a in (0, 2)``.
* **A.12c** (A.12s with Lemma A.11's contraction taken on the compression ``H*`` of Eq. 14,
  ``H* = H - g g^T / C^2``, instead of on ``H``; decides runs whose limit has an effective step
  in ``[2/lambda_max, 2/lambda_max(H*))``, where A.11's (39) fails).  In ``H^(1/2)``
  coordinates ``x = H^(1/2) e_k``, ``z = t_k H^(1/2) w_k`` (``x`` orthogonal to ``z``,
  ``|z| = alpha_k``, ``|x|^2 = q_k``), Eq. (34) gives ``H^(1/2) t_k w_(k+1) = z + eps^_k H x``;
  taking ``beta = |z| / (|z| + eps^_k h)``, ``h = v^T H x`` (``v = z/|z|``), in
  ``q_(k+1) = min_beta |x + z - beta (z + eps^_k H x)|^2`` kills the ``v`` component and gives
  ``q_(k+1) <= |(I - eps' P H P) x|^2`` with ``P = I - v v^T`` and
  ``eps' = eps^_k |z| / (|z| + eps^_k h)``.  With ``|h| <= delta sqrt(q_k)``,
  ``delta = (lambda_max - lambda_min)/2`` (``x`` orthogonal to ``v``), ``eps^_k <= E+``,
  ``alpha_k >= alpha``, ``q_k <= q_K``: ``0 < eps' <= E'+ := E+ alpha / (alpha - E+ delta
  sqrt(q_K))`` when (H5) ``alpha - E+ delta sqrt(q_K) > 0``.  The nonzero spectrum of ``P H P``
  lies in ``[lambda_min, lambda_max(P H P)]``; for ``v0 = H^(1/2) u / C`` it is that of ``H*``
  (``P0 H^(1/2) = H^(1/2)(I - u g^T/C^2)``, and ``(I - g u^T/C^2) H (I - u g^T/C^2) = H*``), and
  ``||P H P - P0 H P0|| <= 2 lambda_max sin(angle(v, v0)) = 2 lambda_max sqrt(q_k)/C`` (Weyl).
  So (H4) ``r_A12c := E'+ (lambda_max(H*) + 2 lambda_max sqrt(q_K)/C) / 2 < 1`` gives
  ``q_(k+1) <= q_k`` (with a factor < 1 as in Eq. 45); ``t_k y_(k+1) = alpha_k^2 + eps^_k x^T H x
  + eps^_k alpha_k h >= alpha_k (alpha_k - E+ delta sqrt(q_k)) > 0`` keeps the sign of ``y``;
  the interval of ``|a_k|`` and the bounds of ``eps^_k`` are those of A.12s; Lemma A.11's proof
  then runs unchanged with ``rho(I - eps^_k H)`` replaced by this contraction.  Hypotheses:
  (H0) ``eps_a in (0, 2)``, (H1), (H3), (H5), (H4).  ``lambda_max(H*)`` is bounded above by
  Arb's eigenvalue enclosures of the ball matrix ``H*`` (``lambda_max`` if they fail).
* **Lemma B.2** (MBNGD, Eq. 81, ``a_k := y_k/sigma_k``): as printed (``eps0 := 2/(kappa
  lambda_max)`` with ``||u|| = 1``; general ``u``: Eq. 82 ``eps^_k <= eps kappa ||u||^2/||w_k||^2``
  gives ``eps0 = 2/(kappa lambda_max ||u||^2)``): ``y_K != 0`` and
  ``r_B2 := kappa lambda_max ||u||^2 eps / (2 ||w_K||^2) < 1``.  B.2s: ``y_K != 0`` and
  ``r_B2s := eps C^2 lambda_max / (2 m_K ||w_K||^2) < 1`` (the A.12s argument with ``A = C``,
  ``|a_k| = |y_k|/sigma_k <= C``).  Conclusion: a global minimiser.

Margins reported are ``a_K y_K / (sigma_K C^2)`` for (H1), ``1 - r`` for (H2)/(H2s) and
``min(L, ...)/C`` for (H3), each as
the lower end of its ball (certified) or its float64 value (scan).  :func:`hypotheses` is written
once for any number type with ``+ - * /`` (Arb balls, mpmath, floats); the tests compare the Arb
evaluation with a 100-digit mpmath evaluation of the same formulas.

What is certified: the ball of the exact state at ``K`` (certified engine, from the exact
initial doubles) satisfies the hypotheses; the implications above are the paper's lemmas (with
the state-constant derivation stated here), not machine-checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dynamics.batched import step
from .model import OLSProblem

#: lemma names in the order they are tried at a step
A12, A12S, A13 = "A.12", "A.12s", "A.13"
#: Lemma A.12s with the contraction measured on the compression H* (Eq. 14) instead of H
A12C = "A.12c"
#: MBNGD (Eq. 81): Lemma B.2 as printed and with the state's constants
B2, B2S = "B.2", "B.2s"
LEMMA_TEXT = {
    A12: "Lemma A.12 as printed (a_K y_K > 0, eps/||w_K||^2 < eps0 = 1/(2 C_a kappa lambda_max "
         "||u||^2)) -> Lemma A.11 -> global minimiser",
    A12S: "Lemma A.12 with the constants of the state at K (a_K y_K > 0, eps A C lambda_max < "
          "2 m_K ||w_K||^2) -> Lemma A.11 -> global minimiser",
    A12C: "Lemma A.12 with state constants and Lemma A.11's contraction on H* = H - g g^T/C^2 "
          "(Eq. 14) instead of H (a_K y_K > 0, |a_k| in [L, U], E'+ (lambda_max(H*) + "
          "2 lambda_max sqrt(q_K)/C) < 2) -> global minimiser",
    A13: "Lemma A.13 as printed (eps/||w_K||^2 < eps0) -> converges (saddle or minimiser)",
    B2: "Lemma B.2 as printed (MBNGD; w_K^T g != 0, eps/||w_K||^2 < eps0 = 2/(kappa lambda_max "
        "||u||^2)) -> Lemma A.11 -> global minimiser",
    B2S: "Lemma B.2 with the constants of the state at K (MBNGD; w_K^T g != 0, eps C^2 "
         "lambda_max < 2 m_K ||w_K||^2) -> Lemma A.11 -> global minimiser",
}
CONCLUSION = {A12: "minimiser", A12S: "minimiser", A12C: "minimiser", A13: "stationary",
              B2: "minimiser", B2S: "minimiser"}
LEMMAS = {"bngd": (A12, A12S, A12C), "mbngd": (B2, B2S)}
#: working precision of the certified run to K (bits); doubled once if a check is not certified
CERT_BITS = 128


def hypotheses(a, w, *, eps, eps_a, H, u, lam_min, lam_max, sqrt, doctor: float = 1.0,
               method: str = "bngd", lam_star=None) -> dict[str, Any]:
    """The quantities of the module docstring at one state, for any number type (Arb balls,
    mpmath numbers, floats): ``w``, ``u`` sequences, ``H`` a nested sequence (or a callable
    ``x -> H x``).  ``doctor`` multiplies the bound of (H2s) (tests: a lemma whose constant is
    ``doctor`` times too large).  Returns ``sign`` (``a y / (sigma C^2)``), ``r_A12``,
    ``r_A12s``, and the pieces."""
    d = len(u)
    Hx = H if callable(H) else (lambda x: [sum((H[i][j] * x[j] for j in range(1, d)),
                                                H[i][0] * x[0]) for i in range(d)])
    g = Hx(u)
    Hw = Hx(w)

    def dot(x, z):
        s = x[0] * z[0]
        for i in range(1, d):
            s = s + x[i] * z[i]
        return s

    C2 = dot(u, g)
    C = sqrt(C2)
    y = dot(w, g)
    s2 = dot(w, Hw)
    sig = sqrt(s2)
    w2 = dot(w, w)
    u2 = dot(u, u)
    q = C2 - y * y / s2
    if method == "mbngd":  # a_k := y_k / sigma_k (Eq. 81); eps_a plays no role
        a = y / sig
        eps_a = eps_a * 0 + 1
    absa = abs(a)
    Ca = _max(absa / C, 1)  # max(1, |a_K|/C)
    kappa = lam_max / lam_min
    r12 = 2 * Ca * kappa * lam_max * u2 * eps / w2
    qq = _max(q, 0)  # q >= 0 exactly; its ball may reach below 0
    # the interval [L, U] that |a_k| stays in for k >= K (module docstring, "eps_a in (1, 2)")
    alpha = abs(y) / sig  # = sqrt(C^2 - q_K), the least |y_k|/sigma_k from K on
    c = eps_a - 1
    if c <= 0:
        L = _min(absa, alpha)
        U = _max(absa, C)
        a_int = L / C
    else:
        D0 = abs(absa - alpha)
        D = _min(_max(D0, (C - alpha) / (1 - c)), D0 + (C - alpha))
        L = alpha - D
        U = C + D
        a_int = L / C
    m = (C2 - qq) / (sqrt(u2) + sqrt(qq / lam_min)) ** 2
    r12s = eps * U * C * lam_max / (2 * m * w2) / doctor
    # Lemma B.2 (MBNGD): eps^_k = eps y^2/sigma^4 <= eps kappa ||u||^2 / ||w_k||^2 (Eq. 82)
    rb2 = kappa * lam_max * u2 * eps / (2 * w2)
    # A.12c: the contraction on the compression (module docstring); lam_star >= lambda_max(H*)
    ls = lam_max if lam_star is None else lam_star
    Ep = eps * U * C / (m * w2) / doctor  # E+ >= eps^_k for k >= K
    dlt = (lam_max - lam_min) / 2
    sq = sqrt(qq)
    den = alpha - Ep * dlt * sq
    h5 = den / C
    rc = Ep * alpha / den * (ls + 2 * lam_max * sq / C) / 2 if den > 0 else h5 * 0 + 2
    return {"sign": a * y / (sig * C2), "r_A12": r12, "r_A12s": r12s, "r_B2": rb2,
            "r_B2s": r12s, "a_interval": a_int, "eps_a": eps_a, "h5": h5, "r_A12c": rc,
            "q": q, "C": C, "w_norm2": w2, "y": y, "sigma2": s2, "m": m, "C_a": Ca,
            "a_lower": L, "a_upper": U}


def _min(x, c):
    """``min(x, c)`` for floats, mpmath numbers and Arb balls."""
    if hasattr(x, "union") and hasattr(x, "min"):
        from flint import arb
        return x.min(arb(c))
    if hasattr(c, "union") and hasattr(c, "min"):
        return c.min(x)
    return min(x, c)


def _max(x, c):
    """``max(x, c)`` for floats, mpmath numbers and Arb balls (a ball containing the max over
    the points of the ball)."""
    if hasattr(x, "union") and hasattr(x, "max"):
        from flint import arb
        return x.max(arb(c))
    if hasattr(c, "union") and hasattr(c, "max"):
        return c.max(x)
    return max(x, c)


def holds(h: dict[str, Any], lemma: str) -> bool:
    """Do the hypotheses of ``lemma`` hold (certainly, for balls) in the evaluation ``h``?"""
    ea = h["eps_a"]
    h0 = bool(ea > 0) and bool(ea <= 1)
    if lemma == A12:
        return h0 and bool(h["sign"] > 0) and bool(h["r_A12"] < 1)
    if lemma == A12S:
        h0s = bool(ea > 0) and bool(ea < 2)
        return (h0s and bool(h["sign"] > 0) and bool(h["a_interval"] > 0)
                and bool(h["r_A12s"] < 1))
    if lemma == A12C:
        h0s = bool(ea > 0) and bool(ea < 2)
        return (h0s and bool(h["sign"] > 0) and bool(h["a_interval"] > 0)
                and bool(h["h5"] > 0) and bool(h["r_A12c"] < 1))
    if lemma == A13:
        return h0 and bool(h["r_A12"] < 1)
    if lemma in (B2, B2S):
        return bool(h["sign"] > 0) and bool(h["r_B2" if lemma == B2 else "r_B2s"] < 1)
    raise ValueError(lemma)


def margins(h: dict[str, Any], lemma: str) -> dict[str, float]:
    """Margins (lower ends for balls): ``sign`` and ``1 - r`` of the lemma's bound."""
    def lo(x):
        return float(x.lower()) if hasattr(x, "lower") else float(x)
    r = h[{A12: "r_A12", A13: "r_A12", A12S: "r_A12s", A12C: "r_A12c", B2: "r_B2",
           B2S: "r_B2s"}[lemma]]
    out = {"bound": lo(1 - r)}
    if lemma != A13:
        out["sign"] = lo(h["sign"])
    if lemma in (A12S, A12C):
        out["a_interval"] = lo(h["a_interval"])
    if lemma == A12C:
        out["h5"] = lo(h["h5"])
    return out


# ----------------------------------------------------------------------------------------------
# float64 scan: the first K where a lemma's hypotheses hold
# ----------------------------------------------------------------------------------------------


def _float_eval(p: OLSProblem, A: np.ndarray, W: np.ndarray, eps, eps_a, doctor=1.0,
                method: str = "bngd"):
    """Vectorised float64 version of :func:`hypotheses` (batch ``A`` (B,), ``W`` (B, d)):
    ``(sign, r of the printed lemma, r of the state-constant lemma)``."""
    H, u = p.H, p.u
    g = p.g
    C2 = float(u @ g)
    C = math.sqrt(C2)
    lmin, lmax = p.lambda_min, p.lambda_max
    with np.errstate(all="ignore"):
        y = W @ g
        s2 = np.einsum("bi,bi->b", W @ H, W)
        w2 = np.einsum("bi,bi->b", W, W)
        u2 = float(u @ u)
        q = np.maximum(C2 - y * y / s2, 0.0)
        if method == "mbngd":
            A = y / np.sqrt(s2)
        Ca = np.maximum(1.0, np.abs(A) / C)
        r12 = 2 * Ca * (lmax / lmin) * lmax * u2 * eps / w2
        m = (C2 - q) / (math.sqrt(u2) + np.sqrt(q / lmin)) ** 2
        absa = np.abs(A)
        alpha = np.abs(y) / np.sqrt(s2)
        ea = np.ones_like(absa) if method == "mbngd" else np.broadcast_to(eps_a, absa.shape)
        c = ea - 1
        D0 = np.abs(absa - alpha)
        D = np.minimum(np.maximum(D0, (C - alpha) / (1 - np.abs(c))), D0 + (C - alpha))
        L = np.where(c <= 0, np.minimum(absa, alpha), alpha - D)
        U = np.where(c <= 0, np.maximum(absa, C), C + D)
        a_int = L / C
        r12s = eps * U * C * lmax / (2 * m * w2) / doctor
        sign = A * y / (np.sqrt(s2) * C2)
        if method == "mbngd":
            r12 = (lmax / lmin) * lmax * u2 * eps / (2 * w2)
        Ep = 2 * r12s / lmax
        sq = np.sqrt(q)
        den = alpha - Ep * (lmax - lmin) / 2 * sq
        ls = lam_star_float(p)
        rc = np.where(den > 0, Ep * alpha / den * (ls + 2 * lmax * sq / C) / 2, np.inf)
    return sign, r12, r12s, a_int, rc, den / C


def scan(p: OLSProblem, *, a0, w0, eps, eps_a, max_steps: int = 20000, doctor: float = 1.0,
         safety: float = 1e-6, method: str = "bngd") -> dict[str, np.ndarray]:
    """First step ``K`` (float64 iterates) at which each configuration satisfies a lemma's
    hypotheses with float64 margins above ``safety`` (A.12 first, then A.12s; A.13 recorded
    separately; for ``method="mbngd"`` B.2 then B.2s).  ``-1``: never within ``max_steps``."""
    printed, state = LEMMAS[method][:2]
    A = np.asarray(a0, float).copy()
    W = np.asarray(w0, float).copy()
    eps = np.asarray(eps, float)
    eps_a = np.asarray(eps_a, float)
    B = A.shape[0]
    K = np.full(B, -1)
    lem = np.full(B, "", dtype=object)
    K13 = np.full(B, -1)
    last = np.full(B, np.nan)  # r of the state-constant lemma at the last step scanned
    last_c = np.full(B, np.nan)  # r of A.12c at the last step scanned
    AK, WK = A.copy(), W.copy()  # float64 states at K
    h0 = (eps_a > 0) & (eps_a <= 1) if method == "bngd" else np.ones(B, bool)
    h0s = (eps_a > 0) & (eps_a < 2) if method == "bngd" else np.ones(B, bool)
    act = np.arange(B)
    for k in range(max_steps + 1):
        sign, r12, r12s, a_int, rc, h5 = _float_eval(p, A[act], W[act], eps[act], eps_a[act],
                                                 doctor, method)
        m12 = h0[act] & (sign > safety) & (r12 < 1 - safety)
        m12s = (h0s[act] & ~m12 & (sign > safety) & (a_int > safety)
                & (r12s < 1 - safety))
        m12c = (h0s[act] & ~m12 & ~m12s & (sign > safety) & (a_int > safety)
                & (h5 > safety) & (rc < 1 - safety) & (method == "bngd"))
        m13 = h0[act] & (r12 < 1 - safety) & (K13[act] < 0) & (method == "bngd")
        K13[act[m13]] = k
        hit = m12 | m12s | m12c
        K[act[hit]] = k
        lem[act[m12]] = printed
        lem[act[m12s]] = state
        lem[act[m12c]] = A12C
        AK[act[hit]], WK[act[hit]] = A[act[hit]], W[act[hit]]
        last[act] = r12s
        last_c[act] = rc
        keep = ~hit & np.isfinite(r12s)
        act = act[keep]
        if act.size == 0 or k == max_steps:
            break
        A[act], W[act] = step(p, method, A[act], W[act], eps[act], eps_a[act])
    return {"K": K, "lemma": lem, "K_A13": K13, "r_state_last": last, "r_c_last": last_c, "A_K": AK, "W_K": WK}


# ----------------------------------------------------------------------------------------------
# certification at K
# ----------------------------------------------------------------------------------------------


def eigen_bounds_arb(p: OLSProblem):
    """Arb balls containing ``lambda_min`` and ``lambda_max`` of ``H`` as given."""
    from flint import acb_mat, arb
    if p.diagonal is not None:
        lam = [arb(float(x)) for x in p.diagonal]
    else:
        ev = acb_mat([[float(x) for x in r] for r in p.H]).eig()
        lam = [e.real for e in ev]
    lo_b = min((arb(x.lower()) for x in lam), key=float)
    hi_b = max((arb(x.upper()) for x in lam), key=float)
    return lo_b, hi_b


def lam_star_float(p: OLSProblem) -> float:
    """``lambda_max(H*)``, ``H* = H - g g^T / (u^T H u)`` (Eq. 14), in float64 (scan only)."""
    g = p.g
    Hs = p.H - np.outer(g, g) / float(p.u @ g)
    return float(np.linalg.eigvalsh(0.5 * (Hs + Hs.T))[-1])


def lam_star_arb(p: OLSProblem, lam_max):
    """An Arb upper bound of ``lambda_max(H*)`` (eigenvalue enclosures of the ball matrix
    ``H - g g^T / C^2``); ``lam_max`` (an upper bound of ``lambda_max(H) >= lambda_max(H*)``,
    Lemma A.1) when the enclosure fails."""
    from flint import acb_mat, arb
    d = p.d
    H = [[arb(float(x)) for x in row] for row in p.H]
    u = [arb(float(x)) for x in p.u]
    g = [sum((H[i][j] * u[j] for j in range(1, d)), H[i][0] * u[0]) for i in range(d)]
    C2 = sum((u[i] * g[i] for i in range(1, d)), u[0] * g[0])
    Hs = [[H[i][j] - g[i] * g[j] / C2 for j in range(d)] for i in range(d)]
    try:
        ev = acb_mat(Hs).eig()
    except Exception:
        return lam_max
    hi = max((arb(e.real.upper()) for e in ev), key=float)
    return hi if hi < lam_max else lam_max


@dataclass
class Certificate:
    K: int
    lemma: str | None
    certified: bool
    margins: dict[str, float] = field(default_factory=dict)
    bits: int = 0
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"K": self.K, "lemma": self.lemma, "certified": self.certified,
                "margins": self.margins, "bits": self.bits, "note": self.note}


def _problem_arb(p: OLSProblem):
    from flint import arb
    lmin, lmax = eigen_bounds_arb(p)
    lstar = lam_star_arb(p, lmax)
    uu = [arb(float(x)) for x in p.u]
    if p.diagonal is not None:
        h = [arb(float(x)) for x in p.diagonal]

        def Hm(x):
            return [hi * xi for hi, xi in zip(h, x, strict=True)]
    else:
        Hm = [[arb(float(x)) for x in row] for row in p.H]
    return lmin, lmax, uu, Hm, lstar


def certified_state(p: OLSProblem, *, a0, w0, eps, eps_a, K: int, bits: int = CERT_BITS,
                    method: str = "bngd"):
    """Arb balls ``(a_K, w_K)`` containing the exact BNGD iterate at step ``K`` of the
    configuration (inputs read as the exact doubles given); None if the balls are not finite."""
    from .dynamics.certified import run_certified
    kw = ({"H_diag": [float(x) for x in p.diagonal]} if p.diagonal is not None
          else {"H": [[float(x) for x in r] for r in p.H]})
    r = run_certified(u=[float(x) for x in p.u], w0=[float(x) for x in w0], eps=float(eps),
                      eps_a=float(eps_a), a0=float(a0), method=method, steps=int(K),
                      precision=bits, **kw)
    if not all(x.is_finite() for x in r.w) or r.a is None or not r.a.is_finite():
        return None
    return r.a, list(r.w)


def certified_hypotheses(p: OLSProblem, *, a0, w0, eps, eps_a, K: int, bits: int = CERT_BITS,
                         doctor: float = 1.0, method: str = "bngd") -> dict[str, Any] | None:
    """:func:`hypotheses` evaluated in Arb (``bits``) on the balls of the exact state at ``K``
    (None if the certified run's balls are not finite)."""
    from flint import arb, ctx
    st = certified_state(p, a0=a0, w0=w0, eps=eps, eps_a=eps_a, K=K, bits=bits, method=method)
    if st is None:
        return None
    old = ctx.prec
    ctx.prec = bits
    try:
        lmin, lmax, uu, Hm, lstar = _problem_arb(p)
        return hypotheses(st[0], st[1], eps=arb(float(eps)), eps_a=arb(float(eps_a)), H=Hm,
                          u=uu, lam_min=lmin, lam_max=lmax, sqrt=lambda x: x.sqrt(),
                          doctor=doctor, method=method, lam_star=lstar)
    finally:
        ctx.prec = old


def certify_at(p: OLSProblem, *, a0, w0, eps, eps_a, K: int, lemmas=(A12, A12S),
               bits: int = CERT_BITS, doctor: float = 1.0, method: str = "bngd") -> Certificate:
    """Enclose the exact state at step ``K`` (certified engine from the exact initial doubles)
    and prove the hypotheses of the first lemma of ``lemmas`` that holds on the balls (at
    ``bits``, then ``2 bits + 4 K`` and ``4 bits + 16 K``: a run near the edge of stability loses
    a few bits per step)."""
    from .dynamics.certified import MAX_BITS
    for b in sorted({min(x, MAX_BITS) for x in (bits, 2 * bits + 4 * int(K),
                                                 4 * bits + 16 * int(K))}):
        h = certified_hypotheses(p, a0=a0, w0=w0, eps=eps, eps_a=eps_a, K=K, bits=b,
                                 doctor=doctor, method=method)
        if h is None:
            continue
        for lem in lemmas:
            if holds(h, lem):
                return Certificate(int(K), lem, True, margins(h, lem), b)
    return Certificate(int(K), None, False, {}, b, "hypotheses not certain on the balls")


def conclusion_violated(p: OLSProblem, *, a, w, eps, eps_a, steps: int = 200,
                        method: str = "bngd") -> np.ndarray:
    """Float64 check of the lemmas' common conclusion from a state on: for ``steps`` steps
    ``a_k y_k > 0`` and ``q_(k+1) <= q_k`` (Eq. 51; tolerance relative 1e-9 plus the float64
    floor ``64 d 2^-52 kappa C^2``).  Returns a boolean per configuration (True: violated), for
    batches ``a`` (B,), ``w`` (B, d)."""
    A = np.asarray(a, float).copy()
    W = np.asarray(w, float).copy()
    C2 = float(p.u @ p.g)
    floor = 64 * p.d * np.finfo(float).eps * p.kappa * C2
    bad = np.zeros(A.shape[0], bool)
    if method == "mbngd":
        A = np.ones(A.shape[0])  # only the sign of y matters
    with np.errstate(all="ignore"):
        s0 = np.sign(A * (W @ p.g))
        q_prev = C2 - (W @ p.g) ** 2 / np.einsum("bi,bi->b", W @ p.H, W)
        for _ in range(steps):
            A, W = step(p, method, A, W, eps, eps_a)
            y = W @ p.g
            q = C2 - y * y / np.einsum("bi,bi->b", W @ p.H, W)
            bad |= (np.sign(A * y) != s0) | (q > q_prev * (1 + 1e-9) + floor) | ~np.isfinite(q)
            q_prev = q
    return bad


def decide_batch(p: OLSProblem, *, a0, w0, eps, eps_a, max_steps: int = 20000,
                 certify: bool = True, doctor: float = 1.0, method: str = "bngd",
                 conclusion_steps: int = 200) -> list[dict[str, Any]]:
    """Decide a batch through the lemma chain: per configuration ``K``, the lemma, the
    conclusion, margins, whether certified, or the reason it stays undecided."""
    a0 = np.asarray(a0, float)
    w0 = np.asarray(w0, float)
    eps = np.asarray(eps, float)
    eps_a = np.asarray(eps_a, float)
    s = scan(p, a0=a0, w0=w0, eps=eps, eps_a=eps_a, max_steps=max_steps, doctor=doctor,
             method=method)
    names = "/".join(LEMMAS[method] + ((A13,) if method == "bngd" else ()))
    out = []
    for j in range(len(a0)):
        K, lem = int(s["K"][j]), s["lemma"][j]
        rec: dict[str, Any] = {"K": K, "lemma": None, "decided": False}
        if K < 0:
            k13 = int(s["K_A13"][j])
            if k13 >= 0:
                K, lem = k13, A13
            else:
                rl = float(s["r_state_last"][j])
                rcl = float(s["r_c_last"][j])
                rec["reason"] = (f"hypotheses of Lemmas {names} not met in float64 within "
                                 f"{max_steps} steps (last r of A.12s/B.2s: {rl:.3g}"
                                 + (f", of A.12c: {rcl:.3g}" if method == "bngd" else "")
                                 + ("; > 1 near the limit: the effective step stays above "
                                    "2/lambda_max, outside Lemma A.11's (39))" if rl > 1
                                    else ")"))
                rec["r_state_last"] = rl
                out.append(rec)
                continue
        rec["K"] = K
        if not certify:
            rec.update(lemma=lem, decided=True, certified=False,
                       conclusion=CONCLUSION[lem])
            out.append(rec)
            continue
        lemmas = (A13,) if lem == A13 else LEMMAS[method]
        # the hypotheses, once true, stay true (the induction of the module docstring); a
        # float64 margin too thin for the balls is retried at later steps
        tried = []
        for Kc in (K, K + max(10, K // 2), 2 * K + 50):
            if Kc > max_steps + 100:
                break
            c = certify_at(p, a0=a0[j], w0=w0[j], eps=eps[j], eps_a=eps_a[j], K=Kc,
                           lemmas=lemmas, doctor=doctor, method=method)
            tried.append(Kc)
            if c.certified:
                break
        if not c.certified:
            rec["reason"] = (f"float64 hypotheses at K = {K} not certified on the balls at "
                             f"K in {tried} ({c.note})")
            out.append(rec)
            continue
        rec["K"] = c.K
        rec.update(lemma=c.lemma, decided=True, certified=True, margins=c.margins,
                   bits=c.bits, conclusion=CONCLUSION[c.lemma])
        out.append(rec)
    # a sampled cross-check of the lemmas' common conclusion (q_k non-increasing, signs kept)
    # for conclusion_steps float64 steps from the float64 state at the scan's K
    chk = np.array([j for j, r in enumerate(out) if r["decided"] and r["lemma"] != A13
                    and int(s["K"][j]) >= 0], dtype=int)
    if chk.size and conclusion_steps:
        v = conclusion_violated(p, a=s["A_K"][chk], w=s["W_K"][chk], eps=eps[chk],
                                eps_a=eps_a[chk], steps=conclusion_steps, method=method)
        for j, bad in zip(chk.tolist(), v.tolist(), strict=True):
            out[j]["conclusion_violated"] = bool(bad)
    return out

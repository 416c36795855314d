"""High-precision engine: BNGD (Eq. 9-10), GD (Eq. 3), MBNGD (Eq. 81) for one configuration.

Inputs may be exact: integers, ``fractions.Fraction``, decimal strings (``"0.1"`` is read as the
decimal, rounded once at the working precision), rational strings (``"1/3"``) or floats (taken
exactly).  Two back ends run the same loop, written once over a number type:

* ``"mpmath"`` -- the reference (mpmath's ``mpf`` under ``mpmath.workprec``);
* ``"gmpy2"`` (default) -- MPFR numbers used directly (mpmath's own fast back end), several times
  faster; ``tests/test_dynamics_mp.py`` checks that both agree to the working precision.

Precision is explicit and scoped (a context manager; the global mpmath/gmpy2 state is never left
changed).  ``precision="auto"`` reruns at increasing precision until the requested number of
significant digits of every output is stable, and reports the precision it used.

Dense ``H`` is used as given (no eigen-decomposition at high precision); diagonal ``H`` runs in
O(d) per step.  Residuals come from vectors (Eq. 35, 70), as in the float64 engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from operator import mul
from typing import Any

import mpmath
import numpy as np

from ..errors import BNVerifyError
from .batched import CONVERGED_RTOL, DIVERGENCE_CRITERION, HISTORY_FIELDS, METHODS  # noqa: F401

try:
    import gmpy2

    HAVE_GMPY2 = True
except Exception:  # pragma: no cover
    gmpy2 = None
    HAVE_GMPY2 = False

#: auto precision: digits tried, in order
AUTO_DPS = (30, 60, 120, 240, 480, 960, 1920)


@dataclass
class MPResult:
    """Results of one high-precision run; numbers are ``mpmath.mpf`` (``a`` is None for GD)."""

    method: str
    steps: int
    status: str
    diverged_step: int | None
    a: Any
    w: list
    loss: Any
    w_norm: Any
    eff_step: Any
    e_norm_H: Any
    e_tilde_norm_H: Any
    dps: int
    backend: str
    stable_digits: int | None = None
    history: dict[str, list] = field(default_factory=dict)
    history_steps: list[int] = field(default_factory=list)

    def scalars(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("a", "loss", "w_norm", "eff_step", "e_norm_H")}


# ----------------------------------------------------------------------------------------------
# number systems
# ----------------------------------------------------------------------------------------------


class _Num:
    """A number system: conversion, sqrt, finiteness and a precision context."""

    name = ""

    def __init__(self, dps: int):
        self.dps = int(dps)
        self.bits = int(math.ceil(self.dps * math.log2(10))) + 8

    def parse(self, x: Any, name: str):
        if isinstance(x, bool):
            raise BNVerifyError(f"{name}: expected a number, got a boolean")
        if isinstance(x, str):
            s = x.strip()
            try:
                if "/" in s:
                    return self.from_fraction(Fraction(s))
                float(s)  # validates the syntax (inf/nan rejected below)
            except (ValueError, ZeroDivisionError):
                raise BNVerifyError(f"{name}: cannot read {x!r} as a number") from None
            v = self.from_str(s)
        elif isinstance(x, Fraction):
            v = self.from_fraction(x)
        elif isinstance(x, (int, np.integer)):
            v = self.from_fraction(Fraction(int(x)))
        elif isinstance(x, (float, np.floating)):
            if not math.isfinite(float(x)):
                raise BNVerifyError(f"{name}: contains NaN or infinite values")
            v = self.from_fraction(Fraction(float(x)))
        elif hasattr(x, "_mpf_") or type(x).__name__ == "mpfr":
            v = self.from_str(mpmath.nstr(mpmath.mpf(x), self.dps + 10, strip_zeros=False))
        else:
            raise BNVerifyError(f"{name}: expected a number, got {type(x).__name__}")
        if not self.isfinite(v):
            raise BNVerifyError(f"{name}: contains NaN or infinite values")
        return v


class _MpmathNum(_Num):
    name = "mpmath"

    def context(self):
        return mpmath.workprec(self.bits)

    def from_str(self, s):
        return mpmath.mpf(s)

    def from_fraction(self, f):
        return mpmath.mpf(f.numerator) / f.denominator

    sqrt = staticmethod(mpmath.sqrt)

    @staticmethod
    def isfinite(x):
        return bool(mpmath.isfinite(x))

    @staticmethod
    def to_mpf(x):
        return mpmath.mpf(x)

    @staticmethod
    def nan():
        return mpmath.mpf("nan")


class _Gmpy2Num(_Num):
    name = "gmpy2"

    def context(self):
        return gmpy2.context(gmpy2.get_context(), precision=self.bits)

    @staticmethod
    def from_str(s):
        return gmpy2.mpfr(s)

    @staticmethod
    def from_fraction(f):
        return gmpy2.mpfr(gmpy2.mpq(f.numerator, f.denominator))

    sqrt = staticmethod(gmpy2.sqrt) if HAVE_GMPY2 else None

    @staticmethod
    def isfinite(x):
        return bool(gmpy2.is_finite(x))

    @staticmethod
    def to_mpf(x):
        if not gmpy2.is_finite(x):
            return (
                mpmath.mpf("nan") if gmpy2.is_nan(x) else mpmath.mpf("inf") * (1 if x > 0 else -1)
            )
        m, e = x.as_mantissa_exp()
        return mpmath.mpf((int(m), int(e)))

    @staticmethod
    def nan():
        return gmpy2.nan()


def _numsys(backend: str, dps: int) -> _Num:
    if backend == "gmpy2":
        if not HAVE_GMPY2:
            raise BNVerifyError("backend: gmpy2 is not installed (use backend='mpmath')")
        return _Gmpy2Num(dps)
    if backend == "mpmath":
        return _MpmathNum(dps)
    raise BNVerifyError(f"backend: unknown high-precision back end {backend!r} (gmpy2 or mpmath)")


# ----------------------------------------------------------------------------------------------
# the loop, written once
# ----------------------------------------------------------------------------------------------


def _dot(x, y, zero):
    return sum(map(mul, x, y), zero)


def error_scalars(method, Hx, dot, g, u, w, a, eps, noise, *, half, sqrt, sqrt_nonneg):
    """The reported quantities at ``(a, w)`` -- ``a`` (for MBNGD its effective ``w^T g /
    sigma``), the loss, ``||w||``, the effective step (Eq. 11), ``||e||_H``, ``||e~||_H`` and
    ``et2 = ||e~||_H^2`` -- in whatever arithmetic the arguments carry: mpmath numbers or
    fractions (this engine) or Arb balls (``certified``).  ``Hx`` multiplies by ``H``, ``dot`` is
    the inner product, ``sqrt_nonneg`` the square root of a quantity >= 0 (for balls: of its
    nonnegative part)."""
    Hw = Hx(w)
    wg = dot(w, g)
    s2 = dot(w, Hw)
    sig = sqrt(s2)
    t = wg / s2
    e = [ui - t * wi for ui, wi in zip(u, w, strict=False)]
    if method == "gd":
        et = [ui - wi for ui, wi in zip(u, w, strict=False)]
        a_rep, eff = None, eps
    else:
        a_rep = a if method == "bngd" else wg / sig
        c = a_rep / sig
        et = [ui - c * wi for ui, wi in zip(u, w, strict=False)]
        eff = eps * c * t
    et2 = dot(et, Hx(et))
    e2 = et2 if method == "gd" else dot(e, Hx(e))
    return {
        "a": a_rep,
        "loss": half * et2 + half * noise,
        "w_norm": sqrt(dot(w, w)),
        "eff_step": eff,
        "e_norm_H": sqrt_nonneg(e2),
        "e_tilde_norm_H": sqrt_nonneg(et2),
        "et2": et2,
    }


def _iterate(N: _Num, method, H, diag, u, w, a, eps, eps_a, noise, steps, stride):
    zero = N.from_fraction(Fraction(0))
    half = N.from_fraction(Fraction(1, 2))

    def Hx(x):
        if diag:
            return list(map(mul, H, x))
        return [_dot(row, x, zero) for row in H]

    g = Hx(u)
    hist: dict[str, list] = {k: [] for k in HISTORY_FIELDS}
    hsteps: list[int] = []
    div_step = None

    def scalars(a, w):
        return error_scalars(method, Hx, lambda x, y: _dot(x, y, zero), g, u, w, a, eps, noise,
                             half=half, sqrt=N.sqrt, sqrt_nonneg=N.sqrt)

    two = N.from_fraction(Fraction(2))
    big = two ** 1024  # the float64 overflow threshold (DIVERGENCE_CRITERION)
    big_a = two ** 512  # a^2 >= 2^1024

    def state_sums(w):
        Hw = Hx(w)
        return Hw, _dot(w, g, zero), _dot(w, Hw, zero)

    Hw, wg, s2 = state_sums(w)
    for k in range(steps + 1):
        if stride and k % stride == 0:
            sc = scalars(a, w)
            for name in HISTORY_FIELDS:
                hist[name].append(sc[name])
            hsteps.append(k)
        if k == steps:
            break
        if method == "gd":
            wn = [wi + eps * (gi - hwi) for wi, gi, hwi in zip(w, g, Hw, strict=False)]
            an = a
        else:
            sig = N.sqrt(s2)
            t = wg / s2
            if method == "bngd":
                coef = eps * (a / sig)
                an = a + eps_a * (wg / sig - a)
            else:
                coef = eps * t
                an = a
            wn = [wi + coef * (gi - t * hwi) for wi, gi, hwi in zip(w, g, Hw, strict=False)]
        Hwn, wgn, s2n = state_sums(wn)
        if not (
            N.isfinite(wgn) and N.isfinite(s2n) and abs(wgn) < big and s2n < big
            and (method != "bngd" or (N.isfinite(an) and abs(an) < big_a))
        ):
            div_step = k + 1
            break
        a, w, Hw, wg, s2 = an, wn, Hwn, wgn, s2n
    return a, w, div_step, scalars(a, w), hist, hsteps


# ----------------------------------------------------------------------------------------------
# public entry points
# ----------------------------------------------------------------------------------------------


def _matrix_input(H, H_diag):
    if (H is None) == (H_diag is None):
        raise BNVerifyError("H: give exactly one of H (matrix) or H_diag (its diagonal)")
    if H_diag is not None:
        if not isinstance(H_diag, (list, tuple, np.ndarray)) or np.ndim(H_diag) != 1:
            raise BNVerifyError("H_diag: expected a list of numbers")
        return list(H_diag), True
    if not isinstance(H, (list, tuple, np.ndarray)) or any(
        not isinstance(r, (list, tuple, np.ndarray)) for r in H
    ):
        raise BNVerifyError("H: expected a square nested list")
    d = len(H)
    if any(len(r) != d for r in H):
        raise BNVerifyError(
            f"H: must be square, got {d} rows of lengths {sorted({len(r) for r in H})}"
        )
    return [list(r) for r in H], False


def run_mp(
    *,
    u: Any,
    w0: Any,
    eps: Any,
    H: Any = None,
    H_diag: Any = None,
    eps_a: Any = 1,
    a0: Any = 1,
    noise: Any = 0,
    method: str = "bngd",
    steps: int = 1000,
    precision: int | str = 50,
    digits: int = 15,
    history_stride: int | None = None,
    backend: str = "gmpy2",
) -> MPResult:
    """Run one configuration at high precision.

    ``precision``: decimal digits (int) or ``"auto"`` (rerun at 30, 60, 120, ... digits until
    ``digits`` significant digits of every output agree between successive precisions).

    Example
    -------
    >>> r = run_mp(H_diag=[1, 10], u=[1, 1], w0=[1, 0], eps="0.1", eps_a="1/2", a0=1, steps=5)
    >>> r.status, r.dps, r.backend
    ('max-steps', 50, 'gmpy2')
    """
    if method not in METHODS:
        raise BNVerifyError(f"method: unknown method {method!r} (use bngd, gd or mbngd)")
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise BNVerifyError(f"steps: must be a non-negative integer, got {steps!r}")
    if precision == "auto":
        return _run_auto(
            dict(
                u=u,
                w0=w0,
                eps=eps,
                H=H,
                H_diag=H_diag,
                eps_a=eps_a,
                a0=a0,
                noise=noise,
                method=method,
                steps=steps,
                history_stride=history_stride,
                backend=backend,
            ),
            digits,
        )
    if not isinstance(precision, (int, np.integer)) or not 5 <= precision <= 100000:
        raise BNVerifyError(
            f"precision: digits must be an integer in [5, 100000], got {precision!r}"
        )
    N = _numsys(backend, int(precision))
    Hraw, diag = _matrix_input(H, H_diag)
    d = len(Hraw)
    for name, vec in (("u", u), ("w0", w0)):
        if not isinstance(vec, (list, tuple, np.ndarray)) or len(vec) != d or np.ndim(vec) != 1:
            raise BNVerifyError(f"{name}: expected a list of {d} numbers")
    with N.context():
        Hm = (
            [N.parse(x, "H_diag") for x in Hraw]
            if diag
            else [[N.parse(x, "H") for x in row] for row in Hraw]
        )
        uu = [N.parse(x, "u") for x in u]
        ww = [N.parse(x, "w0") for x in w0]
        e_ = N.parse(eps, "eps")
        ea = N.parse(eps_a, "eps_a")
        a_ = N.parse(a0, "a0")
        nz = N.parse(noise, "noise")
        if not e_ > 0:
            raise BNVerifyError("eps: step size must be > 0")
        if ea < 0:
            raise BNVerifyError("eps_a: step size must be >= 0")
        if nz < 0:
            raise BNVerifyError("noise: variance must be >= 0")
        if method != "gd" and all(x == 0 for x in ww):
            raise BNVerifyError("w0: must be nonzero (sigma = sqrt(w0^T H w0) would vanish)")
        _check_spd_mp(N, Hm, diag)
        a, w, div_step, sc, hist, hsteps = _iterate(
            N, method, Hm, diag, uu, ww, a_, e_, ea, nz, int(steps), int(history_stride or 0)
        )
        zero = N.from_fraction(Fraction(0))
        Hu = list(map(mul, Hm, uu)) if diag else [_dot(r, uu, zero) for r in Hm]
        unorm = N.sqrt(_dot(uu, Hu, zero))
        conv = sc["e_tilde_norm_H"] <= CONVERGED_RTOL * unorm
        status = "diverged" if div_step is not None else ("converged" if conv else "max-steps")

        def cv(x):
            if x is None:
                return None
            with mpmath.workprec(N.bits):  # mpf construction rounds at mpmath's precision
                return N.to_mpf(x)

        return MPResult(
            method=method,
            steps=int(steps),
            status=status,
            diverged_step=div_step,
            a=cv(sc["a"]),
            w=[cv(x) for x in w],
            loss=cv(sc["loss"]),
            w_norm=cv(sc["w_norm"]),
            eff_step=cv(sc["eff_step"]),
            e_norm_H=cv(sc["e_norm_H"]),
            e_tilde_norm_H=cv(sc["e_tilde_norm_H"]),
            dps=N.dps,
            backend=N.name,
            history={k: [cv(x) for x in v] for k, v in hist.items()} if history_stride else {},
            history_steps=hsteps,
        )


def _check_spd_mp(N: _Num, Hm, diag):
    """Exact-ish SPD check at working precision: diagonal > 0, or symmetric with a Cholesky
    factorisation that succeeds (pivots > 0)."""
    if diag:
        if any(not x > 0 for x in Hm):
            raise BNVerifyError("H_diag: not positive definite (a diagonal entry is <= 0)")
        return
    d = len(Hm)
    for i in range(d):
        for j in range(i):
            if Hm[i][j] != Hm[j][i]:
                raise BNVerifyError(f"H: not symmetric (H[{i}][{j}] != H[{j}][{i}])")
    L = [[0] * d for _ in range(d)]
    for j in range(d):
        s = Hm[j][j] - sum((L[j][k] * L[j][k] for k in range(j)), 0)
        if not s > 0:
            raise BNVerifyError("H: not positive definite (Cholesky pivot <= 0)")
        L[j][j] = N.sqrt(s)
        for i in range(j + 1, d):
            L[i][j] = (Hm[i][j] - sum((L[i][k] * L[j][k] for k in range(j)), 0)) / L[j][j]


def _agree(x, y, digits: int, floor=0) -> bool:
    """``x`` and ``y`` agree to ``digits`` significant digits relative to ``max(|x|, |y|, floor)``;
    ``floor`` is the problem's natural scale for the quantity, so that values which are zero up
    to rounding (a loss of 1e-62 vs 1e-122 after exact convergence) count as agreeing."""
    if x is None or y is None:
        return x is None and y is None
    if not (mpmath.isfinite(x) and mpmath.isfinite(y)):
        return bool(x == y) or bool(mpmath.isnan(x) and mpmath.isnan(y))
    scale = max(abs(x), abs(y), floor)
    return scale == 0 or abs(x - y) <= mpmath.mpf(10) ** (-digits) * scale


def _run_auto(kwargs: dict, digits: int) -> MPResult:
    if not isinstance(digits, int) or not 1 <= digits <= 1000:
        raise BNVerifyError(f"digits: must be an integer in [1, 1000], got {digits!r}")
    prev = None
    for dps in AUTO_DPS:
        if dps < digits + 10:
            continue
        res = run_mp(precision=dps, **kwargs)
        if prev is not None and prev.status == res.status:
            # natural scales: ||u||_H for a and the residual norms, ||u||_H^2 for the loss,
            # ||w|| for the components of w; eff_step is compared relatively
            u_h = _u_norm_H(kwargs)
            floors = {"a": u_h, "loss": u_h**2, "w_norm": 0, "eff_step": 0, "e_norm_H": u_h}
            ok = all(
                _agree(getattr(prev, k), getattr(res, k), digits, floors[k]) for k in floors
            ) and all(_agree(x, y, digits, res.w_norm) for x, y in zip(prev.w, res.w, strict=False))
            if ok:
                res.stable_digits = digits
                return res
        prev = res
    prev.stable_digits = None  # not stable up to the largest precision tried
    return prev


def _u_norm_H(kwargs: dict):
    N = _MpmathNum(30)
    with N.context():
        Hraw, diag = _matrix_input(kwargs.get("H"), kwargs.get("H_diag"))
        u = [N.parse(x, "u") for x in kwargs["u"]]
        if diag:
            Hu = [N.parse(h, "H_diag") * x for h, x in zip(Hraw, u, strict=False)]
        else:
            Hu = [
                sum((N.parse(h, "H") * x for h, x in zip(row, u, strict=False)), 0) for row in Hraw
            ]
        return mpmath.sqrt(sum((a * b for a, b in zip(u, Hu, strict=False)), 0))


def compare_float_mp(
    config: dict[str, Any],
    method: str = "bngd",
    steps: int = 100,
    dps: int | str = 50,
    rtol: float = 1e-10,
    digits: int = 17,
) -> dict[str, Any]:
    """Run ``config`` in float64 and at ``dps`` digits with history every step; report the first
    step at which any history scalar disagrees by more than ``rtol`` (relative), and the largest
    relative disagreement overall.  ``dps="auto"`` escalates the precision until ``digits``
    significant digits of the high-precision run are stable (some configurations need far more
    than 50 digits: a huge first step can wipe out most of them).  ``config`` holds ``H``/``H_diag``, ``u``, ``w0``, ``a0``,
    ``eps_a``, ``eps`` (and optional ``noise``) as for ``bnverify run``."""
    from ..config import problem_from_config
    from .batched import run

    problem, params = problem_from_config(config)
    fr = run(problem, method, steps=steps, history_stride=1, **params)
    mr = run_mp(
        method=method,
        steps=steps,
        precision=dps,
        digits=digits,
        history_stride=1,
        **{
            k: config[k]
            for k in config
            if k in ("H", "H_diag", "u", "w0", "a0", "eps_a", "eps", "noise")
        },
    )
    first, worst = None, 0.0
    worst_field = None
    n = min(len(mr.history_steps), fr.history["loss"].shape[0])
    for k in range(n):
        for name in HISTORY_FIELDS:
            m = mr.history[name][k]
            f = float(fr.history[name][k])
            if m is None:
                continue
            mf = float(m)
            if not (math.isfinite(mf) and math.isfinite(f)):
                rel = 0.0 if (math.isnan(f) and math.isnan(mf)) or f == mf else math.inf
            else:
                scale = max(abs(mf), 1e-300)
                rel = abs(f - mf) / scale
            if rel > worst:
                worst, worst_field = rel, name
            if rel > rtol and first is None:
                first = {
                    "step": k,
                    "field": name,
                    "float64": f,
                    "mp": mpmath.nstr(m, 20),
                    "relative_difference": rel,
                }
    return {
        "steps": steps,
        "dps": mr.dps,
        "rtol": rtol,
        "first_disagreement": first,
        "max_relative_difference": worst,
        "max_field": worst_field,
        "float64_status": fr.status_name(()),
        "mp_status": mr.status,
    }

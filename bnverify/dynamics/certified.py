"""Certified engine: ball-arithmetic (Arb, via python-flint) enclosures of BNGD (Eq. 9-10),
GD (Eq. 3) and MBNGD (Eq. 81) for one configuration.

Every number is an ``arb`` ball ``[mid +/- rad]``; every operation returns a ball that contains
the exact result of that operation on every point of its argument balls (Arb's guarantee, outward
rounding included).  Run to the end, the balls of ``a``, ``w`` and ``J`` therefore *contain the
exact result* of the iteration on the inputs as read -- not an estimate of it.

Inputs are read exactly where possible: a JSON float is the binary double it denotes, an integer
is itself (both exact balls of radius 0); a decimal string (``"0.1"``) or a rational string
(``"1/3"``) becomes the smallest ball Arb builds around that number at the working precision
(radius > 0 unless the number is dyadic).  :attr:`CertResult.inexact_inputs` lists the inputs read
as balls.

The wrapping effect
-------------------
Evaluated naively, ball iteration loses bits every step even when the dynamics contract: the
radius propagates through the *absolute values* of the Jacobian, and an expression that uses a
variable twice counts its radius twice.  Two things are done about it:

* the update is written so that each iterate enters once per coordinate:
  ``a' = (1 - eps_a) a + eps_a (w^T g / sigma)`` instead of ``a + eps_a (w^T g / sigma - a)``
  (the latter doubles the radius of ``a`` every step when ``eps_a = 1``: one bit per step), and,
  for diagonal ``H``, ``w_i' = w_i (1 - p h_i) + coef g_i`` with ``p = coef t`` instead of
  ``w_i + coef (g_i - t h_i w_i)``;
* the working precision is raised adaptively (``precision="auto"``): a run at ``p`` bits watches
  the relative accuracy of ``w^T H w`` and ``a`` every :data:`CHECK_EVERY` steps; when it falls
  below the target it stops, measures the bits lost per step so far, and restarts at
  ``target + margin + 1.25 * rate * steps`` bits (at least 1.5x the previous precision).  The
  final enclosure of the loss must give ``min_digits`` significant digits, or the run restarts
  with the missing bits added (a converged run's loss is a cancellation ``u - (a/sigma) w``).

A mean-value (Lohner-type) enclosure would lose only what the dynamics amplify, but propagates a
``(d+1) x (d+1)`` Jacobian: ``O(d^3)`` per step in Python-level balls, far slower for ``d = 100``
than the ``O(d)`` diagonal loop at a few thousand bits.  ``benchmarks/bench_certified.py``
measures the bits lost per step (stable: well under one; edge of stability: about 2-3).

Status (the vocabulary of :mod:`bnverify.dynamics.batched`): ``diverged`` when the ball of
``a^2``, ``w^T g`` or ``w^T H w`` certainly reaches 2^1024 at a step, ``converged`` when the ball
of ``||e~||_H`` is certainly ``<= CONVERGED_RTOL ||u||_H``, ``max-steps`` when it is certainly
above.  When a ball straddles a threshold (or the balls grew too wide to decide anything), the
status is ``"undecided"``, never a guess: :attr:`CertResult.status_note` says why and what the
midpoint alone would say.  ``precision="auto"`` first raises the precision to decide it.

A test hook: with :data:`DROP_RADIUS` set, every iterate is replaced by its midpoint after each
step (the rounding radius dropped) -- a deliberately broken enclosure that ``tests/test_certified.py``
shows fails the containment test.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from ..errors import BNVerifyError
from .batched import CONVERGED_RTOL, HISTORY_FIELDS, METHODS
from .mp import error_scalars

try:  # python-flint: a core dependency, imported lazily by the rest of the package
    from flint import arb, arb_mat, ctx, fmpq, fmpz
except Exception:  # pragma: no cover
    arb = None

#: default certified digits of the loss for ``precision="auto"``
CERTIFIED_MIN_DIGITS = 15
#: smallest working precision (bits): a double input is read exactly from 53 bits on
MIN_BITS = 64
#: largest working precision ``precision="auto"`` tries (and ``ball:BITS`` accepts)
MAX_BITS = 1 << 15
#: accuracy check period (steps) of the adaptive precision
CHECK_EVERY = 16
#: extra bits above the target when restarting
MARGIN_BITS = 48
#: the first adaptive run: bits above the target (room to measure the loss rate over ~100 steps)
PROBE_EXTRA_BITS = 256
#: the broken-enclosure test hook (see the module docstring)
DROP_RADIUS = False

UNDECIDED = "undecided"

READING_CERTIFIED = (
    "JSON numbers read exactly as the binary doubles (or integers) they denote; decimal and "
    "rational strings enclosed in balls at the working precision that contain them"
)


@dataclass
class CertResult:
    """An enclosure of one run.  Numbers are ``flint.arb`` balls (``a`` is None for GD)."""

    method: str
    steps: int
    status: str  # converged | diverged | max-steps | undecided
    status_certified: bool
    status_note: str | None
    diverged_step: int | None
    a: Any
    w: list
    loss: Any
    w_norm: Any
    eff_step: Any
    e_norm_H: Any
    e_tilde_norm_H: Any
    bits: int
    loss_digits: float | None  # certified significant digits of the loss (None if diverged)
    digits_detail: dict[str, float | None]
    bits_lost_per_step: float | None
    inexact_inputs: list[str]
    attempts: list[dict] = field(default_factory=list)
    history: dict[str, list] = field(default_factory=dict)
    history_steps: list[int] = field(default_factory=list)

    @property
    def input_reading(self) -> str:
        if not self.inexact_inputs:
            return READING_CERTIFIED + "; every input here was read exactly"
        names = ", ".join(self.inexact_inputs[:8]) + (" ..." if len(self.inexact_inputs) > 8 else "")
        return READING_CERTIFIED + f"; read as balls: {names}"


def _need_flint() -> None:
    if arb is None:
        raise BNVerifyError("certified engine: python-flint is not installed (pip install python-flint)")


@contextlib.contextmanager
def _prec(bits: int):
    old = ctx.prec
    ctx.prec = int(bits)
    try:
        yield
    finally:
        ctx.prec = old


# ----------------------------------------------------------------------------------------------
# reading inputs
# ----------------------------------------------------------------------------------------------


def _read(x: Any, name: str, inexact: list[str]):
    """One input as a ball containing it (exact when the number is a double/integer/dyadic)."""
    if isinstance(x, bool):
        raise BNVerifyError(f"{name}: expected a number, got a boolean")
    if isinstance(x, str):
        s = x.strip()
        try:
            if "/" in s:
                f = Fraction(s)
            else:
                float(s)  # syntax, and inf/nan spelled as text
                f = Fraction(s)
        except (ValueError, ZeroDivisionError, OverflowError):
            raise BNVerifyError(f"{name}: cannot read {x!r} as a number") from None
        v = arb(fmpq(f.numerator, f.denominator))
    elif isinstance(x, Fraction):
        v = arb(fmpq(x.numerator, x.denominator))
    elif isinstance(x, (int, np.integer)):
        v = arb(fmpz(int(x)))
    elif isinstance(x, (float, np.floating)):
        if not math.isfinite(float(x)):
            raise BNVerifyError(f"{name}: contains NaN or infinite values")
        v = arb(float(x))  # exact: the working precision is >= 53 bits
    elif hasattr(x, "_mpf_"):
        sign, man, exp, _ = x._mpf_  # exactly (mpmath.mpf(x) would round to mpmath's precision)
        if not man and exp:
            raise BNVerifyError(f"{name}: contains NaN or infinite values")
        v = arb(fmpz(int(man))) * arb(2) ** int(exp)  # a ball around it if man is too long
        v = -v if sign else v
    elif isinstance(x, arb):
        v = x
    else:
        raise BNVerifyError(f"{name}: expected a number, got {type(x).__name__}")
    if not v.is_finite():
        raise BNVerifyError(f"{name}: contains NaN or infinite values")
    if not v.is_exact():
        inexact.append(name)
    return v


def _read_vec(xs, name, inexact):
    return [_read(x, f"{name}[{i}]", inexact) for i, x in enumerate(xs)]


# ----------------------------------------------------------------------------------------------
# the loop
# ----------------------------------------------------------------------------------------------


def _dot(x, y, zero):
    s = zero
    for xi, yi in zip(x, y, strict=False):
        s += xi * yi
    return s


def _acc_bits(x) -> float:
    """Relative accuracy of a ball in bits (huge for exact balls, <= 0 when it contains 0)."""
    if not x.is_finite():
        return -math.inf
    b = x.rel_accuracy_bits()
    return float(min(b, 1 << 30))


class _Outcome:
    __slots__ = ("a", "w", "div_step", "stop_step", "stop_reason", "stop_acc", "hist", "hsteps",
                 "acc_end")

    def __init__(self):
        self.div_step = None
        self.stop_step = None
        self.stop_reason = None
        self.stop_acc = None
        self.hist = {k: [] for k in HISTORY_FIELDS}
        self.hsteps = []
        self.acc_end = None


def _iterate(method, H, diag, u, w, a, eps, eps_a, noise, steps, stride, abort_bits):
    """Iterate in balls at the current context precision.  ``abort_bits``: stop (adaptive
    precision) when the relative accuracy of the state falls below it; None: never."""
    zero = arb(0)
    one = arb(1)
    if diag:
        h = H

        def Hx(x):
            return [hi * xi for hi, xi in zip(h, x, strict=False)]
    else:
        Hm = arb_mat([list(r) for r in H])

        def Hx(x):
            return (Hm * arb_mat([[xi] for xi in x])).entries()

    g = Hx(u)
    big = arb(2) ** 1024
    big_a = arb(2) ** 512
    out = _Outcome()
    drop = DROP_RADIUS

    def sums(w):
        Hw = Hx(w)
        return Hw, _dot(w, g, zero), _dot(w, Hw, zero)

    def state_acc(s2, a):
        acc = _acc_bits(s2)
        if method == "bngd":
            acc = min(acc, _acc_bits(a))
        return acc

    if method == "gd":
        if diag:
            cg = [one - eps * hi for hi in h]
            bg = [eps * gi for gi in g]
    oma = one - eps_a
    Hw, wg, s2 = sums(w)
    if method != "gd" and not s2 > 0:
        raise BNVerifyError("w0: must be nonzero (sigma = sqrt(w0^T H w0) would vanish)")
    for k in range(steps + 1):
        if stride and k % stride == 0:
            sc = _scalars(method, Hx, g, u, w, a, eps, noise, zero)
            for name in HISTORY_FIELDS:
                out.hist[name].append(sc[name])
            out.hsteps.append(k)
        if k == steps:
            break
        if abort_bits is not None and k % CHECK_EVERY == 0 and k:
            acc = state_acc(s2, a)
            if acc < abort_bits:
                out.stop_step, out.stop_reason, out.stop_acc = k, "precision", acc
                break
        if method == "gd":
            if diag:
                wn = [wi * ci + bi for wi, ci, bi in zip(w, cg, bg, strict=False)]
            else:
                wn = [wi + eps * (gi - hwi) for wi, gi, hwi in zip(w, g, Hw, strict=False)]
            an = a
        else:
            sig = s2.sqrt()
            t = wg / s2
            if method == "bngd":
                coef = eps * (a / sig)
                an = oma * a + eps_a * (wg / sig)
            else:
                coef = eps * t
                an = a
            p = coef * t
            if diag:
                wn = [wi * (one - p * hi) + coef * gi for wi, hi, gi in zip(w, h, g, strict=False)]
            else:
                wn = [wi + coef * (gi - t * hwi) for wi, gi, hwi in zip(w, g, Hw, strict=False)]
        if drop:
            wn = [arb(x.mid()) for x in wn]
            an = arb(an.mid()) if an is not None else an
        Hwn, wgn, s2n = sums(wn)
        below = s2n < big and abs(wgn) < big and (method != "bngd" or abs(an) < big_a)
        if not below:
            above = s2n >= big or abs(wgn) >= big or (method == "bngd" and abs(an) >= big_a)
            if above:
                out.div_step = k + 1
                break
            out.stop_step, out.stop_reason = k + 1, "divergence"
            out.stop_acc = state_acc(s2n, an)
            break
        if method != "gd" and not s2n > 0:
            out.stop_step, out.stop_reason, out.stop_acc = k + 1, "precision", -math.inf
            break
        a, w, Hw, wg, s2 = an, wn, Hwn, wgn, s2n
    out.a, out.w = a, w
    out.acc_end = state_acc(s2, a)
    return out


def _scalars(method, Hx, g, u, w, a, eps, noise, zero):
    """:func:`bnverify.dynamics.mp.error_scalars` in ball arithmetic."""
    return error_scalars(method, Hx, lambda x, y: _dot(x, y, zero), g, u, w, a, eps, noise,
                         half=arb(1) / 2, sqrt=lambda x: x.sqrt(), sqrt_nonneg=_sqrt0)


def _sqrt0(x):
    """sqrt of a ball of a nonnegative quantity (the part below 0 is not in its range)."""
    return x.nonnegative_part().sqrt()


# ----------------------------------------------------------------------------------------------
# digits
# ----------------------------------------------------------------------------------------------


def ball_digits(x, cap: float | None = None) -> float | None:
    """Certified correct significant digits of a ball: ``-log10(rad / |mid|)`` (0 when the ball
    contains 0 and is not exactly 0; ``cap`` for exact balls)."""
    if x is None:
        return None
    if not x.is_finite():
        return 0.0
    if x.is_exact():
        return cap
    if x.contains(0):
        return 0.0
    mid = abs(x.mid())
    rad = x.rad()
    v = float((mid / rad).log() / arb(10).log()) if rad > 0 else math.inf
    v = max(0.0, v)
    return round(min(v, cap), 1) if cap is not None else round(v, 1)


# ----------------------------------------------------------------------------------------------
# public entry point
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
        raise BNVerifyError("H: must be square")
    return [list(r) for r in H], False


def _exact_value(x):
    if isinstance(x, str):
        return Fraction(x.strip())
    if isinstance(x, (float, np.floating)):
        return Fraction(float(x))
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return Fraction(int(x))
    return x


def _check_symmetric(Hraw) -> None:
    """Symmetry of the matrix *as given* (exact comparison of the inputs' values)."""
    d = len(Hraw)
    for i in range(d):
        for j in range(i):
            try:
                same = _exact_value(Hraw[i][j]) == _exact_value(Hraw[j][i])
            except (ValueError, ZeroDivisionError):
                same = True  # unreadable entries are reported when read
            if not same:
                raise BNVerifyError(f"H: not symmetric (H[{i}][{j}] != H[{j}][{i}])")


def _check_spd(Hm, diag) -> None:
    if diag:
        for i, x in enumerate(Hm):
            if not x > 0:
                raise BNVerifyError(
                    f"H_diag: not positive definite (entry {i} is not certainly > 0)")
        return
    d = len(Hm)
    L = [[arb(0)] * d for _ in range(d)]
    for j in range(d):
        s = Hm[j][j] - sum((L[j][k] * L[j][k] for k in range(j)), arb(0))
        if not s > 0:
            raise BNVerifyError("H: not positive definite (a Cholesky pivot is not certainly > 0)")
        L[j][j] = s.sqrt()
        for i in range(j + 1, d):
            L[i][j] = (Hm[i][j] - sum((L[i][k] * L[j][k] for k in range(j)), arb(0))) / L[j][j]


def _run_at(bits, method, Hraw, diag, u, w0, a0, eps, eps_a, noise, steps, stride, abort_bits):
    with _prec(bits):
        inexact: list[str] = []
        Hm = (_read_vec(Hraw, "H_diag", inexact) if diag
              else [[_read(x, f"H[{i}][{j}]", inexact) for j, x in enumerate(r)]
                    for i, r in enumerate(Hraw)])
        uu = _read_vec(u, "u", inexact)
        ww = _read_vec(w0, "w0", inexact)
        e_ = _read(eps, "eps", inexact)
        ea = _read(eps_a, "eps_a", inexact)
        a_ = _read(a0, "a0", inexact)
        nz = _read(noise, "noise", inexact)
        if not e_ > 0:
            raise BNVerifyError("eps: step size must be > 0")
        if ea < 0:
            raise BNVerifyError("eps_a: step size must be >= 0")
        if nz < 0:
            raise BNVerifyError("noise: variance must be >= 0")
        if method != "gd" and all(x.is_zero() for x in ww):
            raise BNVerifyError("w0: must be nonzero (sigma = sqrt(w0^T H w0) would vanish)")
        if not diag:
            _check_symmetric(Hraw)
        _check_spd(Hm, diag)
        out = _iterate(method, Hm, diag, uu, ww, a_, e_, ea, nz, steps, stride, abort_bits)
        zero = arb(0)
        Hx = ((lambda x: [hi * xi for hi, xi in zip(Hm, x, strict=False)]) if diag
              else (lambda x: (arb_mat([list(r) for r in Hm]) * arb_mat([[xi] for xi in x])).entries()))
        g = Hx(uu)
        sc = _scalars(method, Hx, g, uu, out.w, out.a, e_, nz, zero)
        u2 = _dot(uu, g, zero)
        thr = arb(CONVERGED_RTOL) ** 2 * u2
        return out, sc, thr, inexact


def run_certified(
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
    precision: int | str = "auto",
    min_digits: float = CERTIFIED_MIN_DIGITS,
    max_bits: int = MAX_BITS,
    history_stride: int | None = None,
) -> CertResult:
    """Enclose one run in ball arithmetic.

    ``precision``: ``"auto"`` (restart with more bits until the loss's ball gives ``min_digits``
    significant digits and the status is decided, up to ``max_bits``) or a fixed number of bits.

    Example
    -------
    >>> r = run_certified(H_diag=[1, 10], u=[1, 1], w0=[1, 0], eps="0.1", eps_a="1/2", a0=1,
    ...                   steps=5)
    >>> r.status, r.loss_digits >= 15, r.inexact_inputs
    ('max-steps', True, ['eps'])
    """
    _need_flint()
    if method not in METHODS:
        raise BNVerifyError(f"method: unknown method {method!r} (use bngd, gd or mbngd)")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise BNVerifyError(f"steps: must be a non-negative integer, got {steps!r}")
    steps = int(steps)
    if not (isinstance(min_digits, (int, float)) and 1 <= min_digits <= 1000):
        raise BNVerifyError(f"min-digits: must be in [1, 1000], got {min_digits!r}")
    Hraw, diag = _matrix_input(H, H_diag)
    d = len(Hraw)
    for name, vec in (("u", u), ("w0", w0)):
        if not isinstance(vec, (list, tuple, np.ndarray)) or len(vec) != d or np.ndim(vec) != 1:
            raise BNVerifyError(f"{name}: expected a list of {d} numbers")
    stride = int(history_stride or 0)
    args = (method, Hraw, diag, u, w0, a0, eps, eps_a, noise, steps, stride)
    target = math.ceil(min_digits * math.log2(10)) + 4
    attempts: list[dict] = []
    if precision == "auto":
        bits = max(MIN_BITS, target + PROBE_EXTRA_BITS)
        while True:
            out, sc, thr, inexact = _run_at(bits, *args, abort_bits=target + 8)
            status, cert, note = _status(out, sc, thr, steps)
            dig = None if status == "diverged" else ball_digits(sc["loss"], bits * math.log10(2))
            att = {"bits": bits, "stopped_at": out.stop_step, "reason": out.stop_reason,
                   "status": status, "loss_digits": dig}
            attempts.append(att)
            new = None
            if out.stop_reason == "precision":
                k = max(out.stop_step, 1)
                acc = max(out.stop_acc, 0.0) if math.isfinite(out.stop_acc) else 0.0
                rate = max((bits - acc) / k, 0.0)
                new = target + MARGIN_BITS + math.ceil(1.25 * rate * steps)
            elif not cert:
                new = 2 * bits
            elif status != "diverged" and (dig is None or dig < min_digits):
                deficit = (min_digits - (dig or 0.0)) * math.log2(10)
                new = bits + math.ceil(1.25 * deficit) + MARGIN_BITS
            if new is None:
                break
            new = max(new, (3 * bits) // 2)
            if bits >= max_bits:
                break
            bits = min(new, max_bits)
        if out.stop_reason == "precision":
            # out of bits before the end: finish the run without aborting, so every number
            # reported is still an enclosure (possibly a wide one)
            out, sc, thr, inexact = _run_at(bits, *args, abort_bits=None)
            status, cert, note = _status(out, sc, thr, steps)
    else:
        if isinstance(precision, bool) or not isinstance(precision, (int, np.integer)):
            raise BNVerifyError(f"precision: expected 'auto' or bits, got {precision!r}")
        bits = int(precision)
        if not MIN_BITS <= bits <= max(max_bits, MAX_BITS):
            raise BNVerifyError(f"precision: bits must be in [{MIN_BITS}, {MAX_BITS}], got {bits}")
        out, sc, thr, inexact = _run_at(bits, *args, abort_bits=None)
        status, cert, note = _status(out, sc, thr, steps)
        attempts.append({"bits": bits, "stopped_at": out.stop_step, "reason": out.stop_reason,
                         "status": status})
    if out.stop_step is not None:
        # the run stopped before its last step: nothing is known of the final state but that
        # it is a real number; report whole-line balls (never the stopped state as the result)
        whole = arb(0, math.inf)
        sc = {k: (None if v is None else whole) for k, v in sc.items()}
        out.w = [whole] * len(out.w)
    cap = bits * math.log10(2)
    diverged = status == "diverged"
    ran = out.div_step - 1 if out.div_step else (out.stop_step or steps)
    lost = None
    if ran > 0 and out.acc_end is not None and math.isfinite(out.acc_end) and out.acc_end < bits:
        lost = round(max(bits - out.acc_end, 0.0) / ran, 3)
    elif ran > 0 and out.acc_end is not None and not math.isfinite(out.acc_end):
        lost = None
    elif ran > 0:
        lost = 0.0
    return CertResult(
        method=method,
        steps=steps,
        status=status,
        status_certified=cert,
        status_note=note,
        diverged_step=out.div_step,
        a=sc["a"],
        w=list(out.w),
        loss=sc["loss"],
        w_norm=sc["w_norm"],
        eff_step=sc["eff_step"],
        e_norm_H=sc["e_norm_H"],
        e_tilde_norm_H=sc["e_tilde_norm_H"],
        bits=bits,
        loss_digits=None if diverged else ball_digits(sc["loss"], cap),
        digits_detail={
            "loss": None if diverged else ball_digits(sc["loss"], cap),
            "a": None if diverged or sc["a"] is None else ball_digits(sc["a"], cap),
            "eff_step": None if diverged else ball_digits(sc["eff_step"], cap),
        },
        bits_lost_per_step=lost,
        inexact_inputs=inexact,
        attempts=attempts,
        history=out.hist if stride else {},
        history_steps=out.hsteps,
    )


def _status(out: _Outcome, sc: dict, thr, steps: int) -> tuple[str, bool, str | None]:
    """(status, certified, note)."""
    if out.div_step is not None:
        return "diverged", True, None
    if out.stop_step is not None:
        if out.stop_reason == "divergence":
            return UNDECIDED, False, (
                f"at step {out.stop_step} the ball of a^2, w^T g or w^T H w straddles the "
                "divergence threshold 2^1024")
        return UNDECIDED, False, (
            f"the balls lost every digit by step {out.stop_step}: nothing certain after it")
    et2 = sc["et2"]
    if et2 <= thr:
        return "converged", True, None
    if et2 > thr:
        return "max-steps", True, None
    mid = "converged" if et2.mid() <= thr.mid() else "max-steps"
    return UNDECIDED, False, (
        "the ball of ||e~||_H straddles the convergence threshold CONVERGED_RTOL ||u||_H "
        f"(the midpoint alone would say {mid})")


# ----------------------------------------------------------------------------------------------
# conversions for reporting
# ----------------------------------------------------------------------------------------------


def to_mpf(x, bits: int):
    """The midpoint of a ball as an ``mpmath.mpf`` (exact at ``bits`` + a few bits)."""
    if x is None:
        return None
    if not x.is_finite() or x.mid().is_nan():
        return mpmath.mpf("nan")
    m, e = x.mid().man_exp()
    with mpmath.workprec(max(int(bits), 53) + 16):
        return mpmath.mpf((int(m), int(e)))


def mid_str(x, digits: float | None = None) -> str | None:
    """The midpoint as a decimal string: its certified digits + 3 guard digits (17 to 60)."""
    if x is None:
        return None
    if not x.is_finite():
        return "nan"
    n = 60 if digits is None else int(min(max(17, math.ceil(digits) + 3), 60))
    return x.mid().str(n, radius=False, more=True)


def rad_str(x) -> str | None:
    """The radius as a decimal string rounded up (3 digits); ``"inf"`` for an infinite ball."""
    if x is None:
        return None
    if not x.is_finite():
        return "inf"
    r = x.rad()
    if r == 0:
        return "0"
    return (arb(r) * (1 + arb(2) ** -7)).upper().str(3, radius=False)


def mid_float(x) -> float:
    return float(x.mid()) if x is not None and x.is_finite() else math.nan

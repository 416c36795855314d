"""One entry point for running a configuration: the choice of precision and the escalation.

``solve(cfg, ...)`` is what ``bnverify run``, the figures and the claim checks call for a single
configuration.  Precision policy:

* ``"auto"`` (default): float64 with its trust estimate (``batched.run(..., trust=True)``); when
  the loss keeps fewer than ``min_digits`` estimated digits, or the copies disagree on the
  status, the run *escalates* to the high-precision engine (``run_mp(precision="auto")``:
  30, 60, 120, ... digits until 15 significant digits of every output are stable) and says why.
* ``"float64"``: float64 only, with its trust estimate; an untrusted result is returned as such
  (``trusted=False``, ``digits`` its estimate), never silently.
* an integer: that many decimal digits in the high-precision engine; ``digits`` is the agreement
  with a run at 1.5x the digits.
* ``"certified"``: the ball-arithmetic engine (:mod:`bnverify.dynamics.certified`), restarted with
  more bits until the loss's enclosure gives ``min_digits`` (default 15) certified significant
  digits and the status is decided; ``"ball:BITS"``: that engine at a fixed working precision.
  ``digits`` is then a *guarantee* (the ball's relative radius), ``precision`` the bits used, and
  ``a_rad`` / ``loss_rad`` / ``radii`` the radii; a status the balls cannot decide is
  ``"undecided"`` (``status_certified`` False, ``status_note`` says why).

Two different things are reported apart: the *arithmetic's* error (``digits``, ``trusted``: more
precision fixes it) and the *problem's* sensitivity to its inputs (``input_sensitivity``: the
largest relative change of the loss when every input moves by one unit in its last binary place,
measured with the engine that produced the result).  ``input_reading`` says how the inputs were
read: float64 rounds every input to the nearest double; the high-precision engine takes JSON
numbers as the doubles they denote and reads decimal / rational strings exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np

from ..errors import BNVerifyError
from .batched import (
    CONVERGED_RTOL,
    DEFAULT_MIN_DIGITS,
    DIVERGENCE_CRITERION,
    FLOAT64_DIGITS,
    STATUS_NAMES,
    run,
)
from .mp import run_mp

#: certified digits of the loss required by ``precision="certified"`` unless told otherwise
CERTIFIED_MIN_DIGITS = 15

#: escalation is refused beyond this many coordinate-steps (steps x d, x d for dense H): the
#: high-precision engine would take minutes; the user can still force ``--precision mp:DIGITS``
MAX_ESCALATION_WORK = 4 * 10**7
#: perturbed input sets for the input sensitivity
SENSITIVITY_SAMPLES = 3

READING_DOUBLE = "every input rounded to the nearest binary double"
READING_EXACT = (
    "JSON numbers taken as the binary doubles they denote; decimal and rational strings read "
    "exactly (rounded once at the working precision)"
)

_NUMERIC = ("H", "H_diag", "u", "w0", "a0", "eps_a", "eps", "noise")


@dataclass
class Solution:
    """The result of one configuration, whatever engine produced it.  Numbers are floats
    (float64 engine) or ``mpmath.mpf`` (high precision)."""

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
    engine: str  # "float64" or "mp"
    precision: Any  # "float64" or decimal digits
    backend: str
    digits: float | None  # correct significant digits of the loss (estimated / stable)
    digits_detail: dict[str, float | None]
    trusted: bool
    min_digits: float
    input_reading: str
    escalated: bool = False
    escalation_note: str | None = None
    float64_digits: float | None = None
    input_sensitivity: float | None = None
    input_sensitivity_note: str | None = None
    divergence_criterion: str | None = None
    loss_floor: float | None = None
    history: dict[str, list] = field(default_factory=dict)
    history_steps: list[int] = field(default_factory=list)

    def _repr_html_(self) -> str:  # Jupyter
        from html import escape

        rows = [("method", f"{self.method} ({self.steps} steps)"),
                ("status", self.status + (f" at step {self.diverged_step}"
                                          if self.diverged_step else "")),
                ("engine", f"{self.engine} ({self.precision})"),
                ("loss", str(self.loss)), ("a", str(self.a)), ("eff_step", str(self.eff_step)),
                ("digits", f"{self.digits} ({'trusted' if self.trusted else 'untrusted'})")]
        if self.escalation_note:
            rows.append(("precision", self.escalation_note))
        body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
        return f"<table>{body}</table>"
    # certified engine only: radii of the balls (mpmath numbers), whether the status is certain
    a_rad: Any = None
    loss_rad: Any = None
    radii: dict[str, Any] = field(default_factory=dict)
    status_certified: bool | None = None
    status_note: str | None = None
    bits_lost_per_step: float | None = None
    balls: dict[str, Any] = field(default_factory=dict, repr=False)  # the flint.arb enclosures


def _has_strings(cfg: dict[str, Any]) -> bool:
    def walk(x: Any) -> bool:
        if isinstance(x, str):
            return True
        if isinstance(x, (list, tuple)):
            return any(walk(y) for y in x)
        return False

    return any(walk(cfg.get(k)) for k in _NUMERIC)


def _work(cfg: dict[str, Any], steps: int) -> int:
    if "H_diag" in cfg:
        d = len(cfg["H_diag"])
        return steps * d
    d = len(cfg["H"])
    return steps * d * d


def solve(cfg: dict[str, Any], **kw: Any) -> Solution:
    """Run one configuration (a validated config dict, see :mod:`bnverify.config`); keyword
    arguments as :func:`_solve`.  Overflow and invalid operations are results here (statuses,
    digits), never numpy warnings on stderr."""
    with np.errstate(all="ignore"):
        return _solve(cfg, **kw)


def _solve(
    cfg: dict[str, Any],
    *,
    method: str | None = None,
    steps: int | None = None,
    precision: Any = "auto",
    min_digits: float | None = None,
    history_stride: int | None = None,
    sensitivity: bool = True,
    seed: int = 0,
) -> Solution:
    """Run one configuration (a validated config dict, see :mod:`bnverify.config`).
    ``min_digits`` defaults to ``DEFAULT_MIN_DIGITS`` (15 for the certified engine)."""
    from ..config import problem_from_config

    method = method or cfg.get("method", "bngd")
    steps = int(cfg.get("steps", 1000) if steps is None else steps)
    certified_bits = _certified_precision(precision)
    if min_digits is None:
        min_digits = CERTIFIED_MIN_DIGITS if certified_bits is not None else DEFAULT_MIN_DIGITS
    top = 1000 if certified_bits is not None else FLOAT64_DIGITS  # balls can certify more
    if not (isinstance(min_digits, (int, float)) and 1 <= min_digits <= top):
        raise BNVerifyError(f"min-digits: must be in [1, {top:g}], got {min_digits!r}")
    if certified_bits is not None:
        return _solve_certified(cfg, method, steps, certified_bits, min_digits, history_stride)
    if precision in ("auto", "float64"):
        problem, params = problem_from_config(cfg)
        r = run(problem, method, steps=steps, history_stride=history_stride, trust=True,
                min_digits=min_digits, trust_seed=seed, **params)
        sol = _from_batch(r, method, steps, min_digits)
        if sensitivity and sol.trusted:
            _float64_sensitivity(sol, problem, params, method, steps, seed)
        if precision == "float64" or sol.trusted:
            return sol
        work = _work(cfg, steps)
        why = (
            f"float64 kept about {sol.digits:.1f} of the {min_digits:g} digits required"
            if sol.status != "diverged" and sol.digits is not None
            else "the float64 copies disagree on the status"
        )
        if sol.status != "diverged" and r.status_agree is not None and not bool(r.status_agree):
            why = "the float64 copies disagree on the status"
        if work > MAX_ESCALATION_WORK:
            sol.escalation_note = (
                f"{why}; not escalated: {work:.3g} coordinate-steps would take minutes at high "
                "precision (force it with --precision mp:DIGITS)"
            )
            return sol
        esc = _solve_mp(cfg, method, steps, "auto", min_digits, history_stride, sensitivity, seed)
        esc.escalated = True
        esc.float64_digits = sol.digits
        esc.escalation_note = f"{why}; escalated to {esc.precision} digits"
        return esc
    if isinstance(precision, (int, np.integer)) and not isinstance(precision, bool):
        return _solve_mp(cfg, method, steps, int(precision), min_digits, history_stride,
                         sensitivity, seed)
    raise BNVerifyError(
        f"precision: expected 'auto', 'float64', digits, 'certified' or 'ball:BITS', got {precision!r}"
    )


def _certified_precision(precision: Any) -> Any:
    """``"auto"`` for ``"certified"``, the bits of ``"ball:BITS"``, None for other engines."""
    if not isinstance(precision, str):
        return None
    if precision == "certified":
        return "auto"
    if precision.startswith("ball:"):
        from .certified import MAX_BITS, MIN_BITS

        text = precision[5:]
        bits = int(text) if text.isdigit() and len(text) < 8 else -1
        if not MIN_BITS <= bits <= MAX_BITS:
            raise BNVerifyError(
                f"precision: ball:BITS needs an integer number of bits in [{MIN_BITS}, {MAX_BITS}], "
                f"got {precision[:40]!r}"
            )
        return bits
    return None


def _solve_certified(cfg, method, steps, bits, min_digits, history_stride) -> Solution:
    """The certified engine (ball arithmetic): enclosures, not estimates."""
    from .certified import run_certified, to_mpf

    kw = {k: cfg[k] for k in ("H", "H_diag", "u", "w0", "a0", "eps_a", "eps", "noise") if k in cfg}
    r = run_certified(method=method, steps=steps, precision=bits, min_digits=min_digits,
                      history_stride=history_stride, **kw)
    b = r.bits

    def m(x):
        return to_mpf(x, b)

    def rad(x):
        return None if x is None else to_mpf(x.rad(), 30) if x.is_finite() else mpmath.mpf("inf")

    names = ("a", "loss", "w_norm", "eff_step", "e_norm_H")
    balls = {k: getattr(r, k) for k in names}
    balls["w"] = list(r.w)
    diverged = r.status == "diverged"
    trusted = r.status_certified and (diverged or (r.loss_digits or 0) >= min_digits)
    sol = Solution(
        method=method, steps=steps, status=r.status, diverged_step=r.diverged_step,
        a=m(r.a), w=[m(x) for x in r.w], loss=m(r.loss), w_norm=m(r.w_norm),
        eff_step=m(r.eff_step), e_norm_H=m(r.e_norm_H), engine="certified", precision=b,
        backend="arb (python-flint)", digits=r.loss_digits, digits_detail=r.digits_detail,
        trusted=bool(trusted), min_digits=float(min_digits), input_reading=r.input_reading,
        divergence_criterion=DIVERGENCE_CRITERION if diverged else None,
        history={k: [m(x) for x in v] for k, v in r.history.items() if k != "a" or method != "gd"},
        history_steps=r.history_steps,
        a_rad=rad(r.a), loss_rad=rad(r.loss), radii={k: rad(v) for k, v in balls.items() if k != "w"},
        status_certified=r.status_certified, status_note=r.status_note,
        bits_lost_per_step=r.bits_lost_per_step, balls=balls,
    )
    sol.loss_floor = 0.5 * (CONVERGED_RTOL * _u_norm(cfg)) ** 2
    sol.input_sensitivity_note = (
        "not measured by the certified engine (its balls enclose the run on the inputs as read)"
    )
    attempts = ", ".join(str(a["bits"]) for a in r.attempts)
    if len(r.attempts) > 1:
        sol.escalation_note = f"working precision raised adaptively: {attempts} bits"
    if not trusted and not diverged and r.status_certified:
        sol.escalation_note = (
            (sol.escalation_note + "; " if sol.escalation_note else "")
            + f"the loss's ball certifies {r.loss_digits or 0:g} digits at {b} bits, "
            f"fewer than {min_digits:g}"
        )
    return sol


def _num(x: Any) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def _from_batch(r, method: str, steps: int, min_digits: float) -> Solution:
    status = STATUS_NAMES[int(r.status)]
    dl = float(r.digits)
    return Solution(
        method=method,
        steps=steps,
        status=status,
        diverged_step=int(r.diverged_step) if int(r.diverged_step) >= 0 else None,
        a=None if method == "gd" else float(r.a),
        w=r.w.tolist(),
        loss=float(r.loss),
        w_norm=float(r.w_norm),
        eff_step=float(r.eff_step),
        e_norm_H=float(r.e_norm_H),
        engine="float64",
        precision="float64",
        backend=r.backend,
        digits=None if math.isnan(dl) else round(dl, 1),
        digits_detail={
            "loss": None if math.isnan(dl) else round(dl, 1),
            "a": None if method == "gd" or math.isnan(float(r.digits_a)) else round(float(r.digits_a), 1),
            "eff_step": None if math.isnan(float(r.digits_eff)) else round(float(r.digits_eff), 1),
        },
        trusted=bool(r.trusted),
        min_digits=float(min_digits),
        input_reading=READING_DOUBLE,
        divergence_criterion=DIVERGENCE_CRITERION if status == "diverged" else None,
        loss_floor=float(np.ravel(r.loss_floor)[0]),
        history={k: v.ravel().tolist() for k, v in r.history.items() if k != "a" or method != "gd"},
        history_steps=[] if r.history_steps is None else r.history_steps.tolist(),
    )


def _perturbed_inputs(cfg: dict[str, Any], rng: np.random.Generator, as_float: bool) -> dict:
    """``cfg`` with every numeric input moved by one unit in its last binary place (random
    direction); strings are first read as doubles (``as_float``) or exactly (``mpmath``)."""
    out = dict(cfg)

    def bump(x: Any) -> Any:
        if as_float:
            v = _as_float(x)
            if v == 0:
                return v
            return float(np.nextafter(v, np.inf if rng.random() < 0.5 else -np.inf))
        e = _exact(x)
        v = mpmath.mpf(e) if isinstance(e, float) else mpmath.mpf(e.numerator) / e.denominator
        if v == 0:
            return v
        ulp = mpmath.mpf(2) ** (mpmath.floor(mpmath.log(abs(v), 2)) - 52)
        return v + (ulp if rng.random() < 0.5 else -ulp)

    for k in _NUMERIC:
        if k not in cfg:
            continue
        v = cfg[k]
        if k == "H":
            d = len(v)
            M = [[None] * d for _ in range(d)]
            for i in range(d):
                for j in range(i, d):
                    M[i][j] = M[j][i] = bump(v[i][j]) if _as_float(v[i][j]) != 0 else v[i][j]
            out[k] = M
        elif isinstance(v, (list, tuple)):
            out[k] = [bump(x) for x in v]
        elif k == "noise" and _as_float(v) == 0:
            out[k] = v
        else:
            out[k] = bump(v)
    return out


def _float64_sensitivity(sol: Solution, problem, params, method, steps, seed) -> None:
    from ..config import problem_from_config

    if sol.status == "diverged":
        return

    rng = np.random.default_rng([seed, 0x1AB])
    cfg0 = {"u": problem.u.tolist(), "w0": params["w0"].tolist(), "a0": params["a0"],
            "eps_a": params["eps_a"], "eps": params["eps"], "noise": problem.noise}
    if problem.is_diagonal:
        cfg0["H_diag"] = problem.diagonal.tolist()
    else:
        cfg0["H"] = problem.H.tolist()
    floor = 0.5 * (CONVERGED_RTOL * problem.u_norm_H) ** 2
    if sol.status == "diverged":
        return
    worst = 0.0
    for _ in range(SENSITIVITY_SAMPLES):
        try:
            p2, q2 = problem_from_config(_perturbed_inputs(cfg0, rng, True))
        except BNVerifyError:
            continue
        r2 = run(p2, method, steps=steps, **q2)
        scale = max(abs(sol.loss), floor)
        if scale > 0:
            worst = max(worst, abs(float(r2.loss) - sol.loss) / scale)
    sol.input_sensitivity = worst
    noise = 10.0 ** -(sol.digits or 0)
    sol.input_sensitivity_note = (
        "measured in float64 with one-ulp perturbations of every input"
        + (f"; at or below float64's own noise ({noise:.0e})" if worst <= noise else "")
    )


def _solve_mp(cfg, method, steps, precision, min_digits, history_stride, sensitivity, seed):
    keys = ("H", "H_diag", "u", "w0", "a0", "eps_a", "eps", "noise")
    kw = {k: cfg[k] for k in keys if k in cfg}
    if precision == "auto":
        r = run_mp(method=method, steps=steps, precision="auto",
                   digits=int(max(15, math.ceil(min_digits))), history_stride=history_stride, **kw)
        digits = float(r.stable_digits) if r.stable_digits is not None else None
    else:
        r = run_mp(method=method, steps=steps, precision=precision, history_stride=history_stride, **kw)
        r2 = run_mp(method=method, steps=steps, precision=precision + max(10, precision // 2), **kw)
        digits = _agreement(r, r2, precision)
    status = r.status
    trusted = digits is not None and (status == "diverged" or digits >= min_digits)
    sol = Solution(
        method=method, steps=steps, status=status, diverged_step=r.diverged_step,
        a=r.a, w=list(r.w), loss=r.loss, w_norm=r.w_norm, eff_step=r.eff_step,
        e_norm_H=r.e_norm_H, engine="mp", precision=r.dps, backend=r.backend,
        digits=None if status == "diverged" else digits,
        digits_detail={"loss": None if status == "diverged" else digits, "a": None if method == "gd" or status == "diverged" else digits,
                       "eff_step": None if status == "diverged" else digits},
        trusted=bool(trusted), min_digits=float(min_digits), input_reading=READING_EXACT,
        divergence_criterion=DIVERGENCE_CRITERION if status == "diverged" else None,
        history=r.history, history_steps=r.history_steps,
    )
    sol.loss_floor = 0.5 * (CONVERGED_RTOL * _u_norm(cfg)) ** 2  # mp's digits: _run_auto's scale
    if sensitivity and status != "diverged":
        rng = np.random.default_rng([seed, 0x1AC])
        u_h = _u_norm(cfg)
        floor = 0.5 * (CONVERGED_RTOL * u_h) ** 2
        worst = mpmath.mpf(0)
        for _ in range(2):
            kp = {k: v for k, v in _perturbed_inputs(kw, rng, False).items()}
            kp = {k: (_mp_list(v)) for k, v in kp.items()}
            try:
                rp = run_mp(method=method, steps=steps, precision=r.dps, **kp)
            except BNVerifyError:
                continue
            scale = max(abs(r.loss), floor)
            if scale > 0:
                worst = max(worst, abs(rp.loss - r.loss) / scale)
        sol.input_sensitivity = float(worst)
        sol.input_sensitivity_note = f"measured at {r.dps} digits with one-ulp perturbations of every input"
    return sol


def _mp_list(v: Any) -> Any:
    """mpf values to decimal strings the mp engine reads exactly (enough digits to round-trip)."""
    if isinstance(v, list):
        return [_mp_list(x) for x in v]
    if isinstance(v, mpmath.mpf):
        return mpmath.nstr(v, 40, strip_zeros=False)
    return v


def _u_norm(cfg: dict[str, Any]) -> float:
    """``||u||_H`` in float64 (a scale for floors; inputs as doubles)."""
    from ..config import problem_from_config

    return problem_from_config(cfg)[0].u_norm_H


def _exact(x: Any):
    """An input number exactly: a ``Fraction`` (integers, decimal and rational strings) or the
    float it is (:func:`bnverify.config.check_number`, the reading every engine shares)."""
    from ..config import check_number

    return check_number(x, "input")


def _as_float(x: Any) -> float:
    return float(_exact(x))


def _agreement(r1, r2, cap: int) -> float | None:
    """Agreeing significant digits of the loss between two precisions (None when statuses differ)."""
    if r1.status != r2.status:
        return None
    if r1.status == "diverged":
        return float(cap)
    err = abs(r1.loss - r2.loss)
    scale = max(abs(r2.loss), mpmath.mpf(1e-300))
    if err == 0:
        return float(cap)
    return round(float(min(cap, max(0, -mpmath.log10(err / scale)))), 1)

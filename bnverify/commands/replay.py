"""``bnverify replay FILE``: re-evaluate a claim's check on one counterexample file.

``bnverify check --counterexamples DIR`` (and ``bnverify report``, in ``DIR/counterexamples/``)
writes each refuted claim's counterexample as ``<ID>.json``.  ``replay`` reads such a file, takes
the claim ID from the file name (or ``--claim ID``, or a ``claim`` field), and evaluates the same
predicate the claim's check evaluated -- the functions of the ``proofs`` modules, never a re-typed
formula -- on exactly that counterexample: float64 inputs as the exact doubles written, 50-digit
strings at 50 digits (points of ``J``), rationals exactly (the symbolic scaling counterexamples).
It prints, for each printed statement (or reading of it) the claim's check tests, whether it holds
on the counterexample, fails, or does not apply (the counterexample misses its hypotheses), then
``refuted`` when at least one fails.

Formats (as written by ``check``): run configurations (``H``/``H_diag``, ``u``, ``a0``, ``w0``,
``eps_a``, ``eps``; with ``steps`` for S3.insensitive and a ``comment`` naming the scaling ``mu,
gamma, r, Q`` for P3.2-1/P3.2-2), points ``(a, w)`` of ``J`` (``a0``, ``w0`` as 50-digit strings,
``comment: point of J(a, w): saddle|minimizer``), and the exact scaling counterexample of the
symbolic check (``r``, ``a1``, ``a1_scaled``, ...; P3.2-2, L-A.9).

JSON contract (``--json``): ``{"bnverify", "claim", "file", "where", "statement", "refuted":
bool, "readings": [{"statement", "result": "holds"|"fails"|"not-applicable", "measured",
"note"}]}``.  Exit status 0 when the file was replayed (whatever the result), 2 for a file that is
not a counterexample of a claim replay knows (one ``error:`` line).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .. import __version__
from ..catalogue import BY_ID
from ..claims import proofs_module, to_jsonable
from ..errors import BNVerifyError

#: largest counterexample file read (bytes); check writes a few hundred bytes per file
MAX_FILE_BYTES = 10**7


@dataclass
class Reading:
    """One printed statement (or reading) re-evaluated on the counterexample."""

    statement: str
    result: str  # holds | fails | not-applicable
    measured: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "statement": self.statement,
            "result": self.result,
            "measured": to_jsonable(self.measured),
            "note": self.note,
        }


def _outcome(statement: str, outcome, note: str = "") -> Reading:
    return Reading(statement, "holds" if outcome.holds else "fails", dict(outcome.measured), note)


def _not_applicable(statement: str, why: str) -> Reading:
    return Reading(statement, "not-applicable", {}, f"hypothesis not met: {why}")


# ----------------------------------------------------------------------------------------------
# reading the file
# ----------------------------------------------------------------------------------------------


def read_counterexample(path: Path) -> dict[str, Any]:
    try:
        if not path.is_file():
            what = "is not a file" if path.exists() else "not found"
            raise BNVerifyError(f"replay: {path}: {what}")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise BNVerifyError(f"replay: {path} is too large to be a counterexample file")
        raw = path.read_bytes()
    except OSError as exc:
        raise BNVerifyError(f"replay: cannot read {path}: {exc.strerror or exc}") from None
    try:
        body = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BNVerifyError(f"replay: {path} is not a UTF-8 text file") from None
    except json.JSONDecodeError as exc:
        raise BNVerifyError(
            f"replay: {path} is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    except (RecursionError, ValueError):
        raise BNVerifyError(f"replay: {path} is not a counterexample file") from None
    if not isinstance(body, dict):
        raise BNVerifyError(f"replay: {path} is not a counterexample file (expected a JSON object)")
    return body


def _configuration(body: dict[str, Any], drop: tuple[str, ...] = ()):
    """The float64 configuration of a run-configuration file (validated as ``run --config``)."""
    from ..config import problem_from_config
    from ..strategies import Configuration

    cfg = {k: v for k, v in body.items() if k not in drop}
    problem, prm = problem_from_config(cfg)
    return Configuration(
        problem, float(prm["a0"]), prm["w0"], float(prm["eps_a"]), float(prm["eps"])
    )


def _lemma_a12_hypotheses(c) -> str:
    """Why ``c`` misses ``a0 w0^T g > 0``, ``eps_a in (0, 1]`` (Prop. 3.5, Lemma A.12), or ''."""
    y0 = float(c.w0 @ c.problem.g)
    if not 0 < c.eps_a <= 1:
        return f"eps_a = {c.eps_a:g} not in (0, 1]"
    if not c.a0 * y0 > 0:
        return f"a0 w0^T g = {c.a0 * y0:g} not > 0"
    return ""


# ----------------------------------------------------------------------------------------------
# one replayer per claim whose check writes a counterexample file
# ----------------------------------------------------------------------------------------------


def _norm_monotone(body: dict[str, Any]) -> list[Reading]:
    m = proofs_module("S3.norm-monotone")
    NORM_STEPS, norm_nondecreasing = m.NORM_STEPS, m.norm_nondecreasing
    norm_strictly_increasing = m.norm_strictly_increasing

    c = _configuration(body)
    return [
        _outcome(
            f"||w_(k+1)|| >= ||w_k|| over {NORM_STEPS} steps (non-decreasing reading)",
            norm_nondecreasing(c),
        ),
        _outcome(
            f"||w_(k+1)|| > ||w_k|| (strict) over {NORM_STEPS} steps", norm_strictly_increasing(c)
        ),
    ]


def _lemma_a10(body: dict[str, Any]) -> list[Reading]:
    import numpy as np

    m = proofs_module("L-A.10")
    A10_STEPS, a_bound_holds, a_diverges = m.A10_STEPS, m.a_bound_holds, m.a_diverges

    c = _configuration(body)
    bound = f"|a_k| <= |a0| + 2C/(1-|1-eps_a|) for k <= {A10_STEPS}"
    div = "eps_a > 2, a0 = 1, w0 = u: |a_k| -> infinity (|a_k| > 1e6 within 60 steps)"
    out = [
        _outcome(bound, a_bound_holds(c))
        if 0 < c.eps_a < 2
        else _not_applicable(bound, f"eps_a = {c.eps_a:g} not in (0, 2)")
    ]
    why = [
        t
        for t, bad in (
            ("eps_a <= 2", not c.eps_a > 2),
            ("a0 != 1", c.a0 != 1.0),
            ("w0 != u", not np.array_equal(c.w0, c.problem.u)),
        )
        if bad
    ]
    out.append(_outcome(div, a_diverges(c)) if not why else _not_applicable(div, ", ".join(why)))
    return out


def _lemma_a23(body: dict[str, Any]) -> list[Reading]:
    a23_holds = proofs_module("L-A.23").a23_holds

    c = _configuration(body)
    st = "Eq. (72) as printed: ||e~_k||_H^2 <= C^2 rho^(2k) + (C1 (1-eps_a)^k + C2 k gamma^k)^2"
    if not 0 < c.eps_a <= 1:
        return [_not_applicable(st, f"eps_a = {c.eps_a:g} not in (0, 1]")]
    o = a23_holds(c)
    if "skipped" in o.measured:
        return [_not_applicable(st, o.measured["skipped"])]
    return [_outcome(st, o, "C, rho, C0: the tightest admissible constants of this trajectory")]


def _eqs_74_80(body: dict[str, Any]) -> list[Reading]:
    m = proofs_module("E74-80")
    c3_holds, e74_bounds_hold = m.c3_holds, m.e74_bounds_hold

    from ..convergence import eps0_lemma_a12

    c = _configuration(body)
    st74 = "Eq. (74) bounds as printed (lower constant a0 w0^T g/sigma0)"
    why = _lemma_a12_hypotheses(c)
    e0 = float(eps0_lemma_a12(c.problem, c.a0, c.eps_a))
    if not why and not c.eps < e0 * float(c.w0 @ c.w0):
        why = f"eps/||w0||^2 = {c.eps / float(c.w0 @ c.w0):g} not < eps0 = {e0:g}"
    return [
        _outcome(st74, e74_bounds_hold(c)) if not why else _not_applicable(st74, why),
        _outcome(
            "Eq. (78): ||w1||^2 - ||w0||^2 = C3 eps^2 (C3 = a0^2 ||H e0||^2/sigma0^2)", c3_holds(c)
        ),
    ]


def _p35_hypotheses(c) -> str:
    why = _lemma_a12_hypotheses(c)
    if why:
        return why
    p, w0 = c.problem, c.w0
    y0, s2 = float(w0 @ p.g), float(w0 @ p.H @ w0)
    if float(p.g @ p.g) < y0 / s2 * float(p.g @ p.H @ w0):
        return "||g||^2 >= (w0^T g/sigma0^2) g^T H w0 fails"
    return ""


def _prop_3_5(body: dict[str, Any]) -> list[Reading]:
    p35_holds = proofs_module("P3.5").p35_holds

    c = _configuration(body)
    x = {"a0": c.a0, "w0": c.w0, "eps_a": c.eps_a}
    why = _p35_hypotheses(c)
    out = []
    for regime, power, st in (
        ("small", -1.0, "(1) eps << 1: C1 <= eps^_k/eps <= C2, k >= 0"),
        ("large", 1.0, "(2) eps >> 1: C1 <= eps^_k eps <= C2, k >= 0"),
    ):
        if why:
            out.append(_not_applicable(st, why))
            continue
        o = p35_holds(c.problem, x, regime=regime, power=power, k_from=0, steps=300)
        out.append(
            _outcome(
                st,
                o,
                "swept over the check's eps grid (the file's eps is its "
                "extreme point); 300 steps, constants independent of eps "
                "<=> |log-log slopes| < 0.1",
            )
        )
    return out


def _insensitive(body: dict[str, Any]) -> list[Reading]:
    m = proofs_module("S3.insensitive")
    eff_step_of_eps, interior_stationary_point = m.eff_step_of_eps, m.interior_stationary_point

    if not isinstance(body.get("steps"), int) or isinstance(body.get("steps"), bool):
        raise BNVerifyError("replay: S3.insensitive: the file must give the step k as 'steps'")
    c = _configuration(body)
    k = int(body["steps"])
    st = f"there is eps0 > 0 with d eps^_k/d eps = 0 at eps0 (k = {k}; eps in [1e-6, 1e8])"
    why = _p35_hypotheses(c)
    if why:
        return [_not_applicable(st, why)]
    x = {"a0": c.a0, "w0": c.w0, "eps_a": c.eps_a}
    return [
        _outcome(
            st,
            interior_stationary_point(eff_step_of_eps(c.problem, x, k), 1e-6, 1e8),
            "the file's eps is not used: eps is swept",
        )
    ]


def _point(body: dict[str, Any], kind: str):
    """The point ``(a, w)`` of ``J`` at 50 digits, or the reason it is not a ``kind`` point."""
    import mpmath

    from .. import linalg_mp as L
    from ..hessian_fd import Point
    from ..linalg_mp import DPS

    c = _configuration(body)  # validates the file as a configuration; a0, w0 re-read below
    p = c.problem
    with mpmath.workdps(DPS + 10):
        try:
            a = mpmath.mpf(str(body["a0"]))
            w = tuple(mpmath.mpf(str(x)) for x in body["w0"])
        except (ValueError, TypeError):
            raise BNVerifyError("replay: a0, w0: not numbers") from None
        g = L.mat_vec(L.to_mp_matrix(p.H), L.to_mp_vector(p.u))
        um = L.to_mp_vector(p.u)
        nw = mpmath.sqrt(L.dot(w, w))
        tiny = mpmath.mpf(10) ** (-(DPS - 10))  # the 50-digit strings are exact to ~1e-50
        if kind == "saddle":
            wg = L.dot(w, g) / (nw * mpmath.sqrt(L.dot(g, g)))
            if a != 0 or abs(wg) > tiny:
                return (
                    None,
                    f"not a saddle: a = {mpmath.nstr(a, 5)}, cos(w, g) = {mpmath.nstr(wg, 5)}",
                )
            return Point(p, a, w, "saddle"), ""
        s = L.dot(w, um) / L.dot(um, um)
        off = max(abs(x - s * y) for x, y in zip(w, um, strict=True)) / nw
        astar = mpmath.sign(s) * mpmath.sqrt(L.dot(um, L.mat_vec(L.to_mp_matrix(p.H), um)))
        if s == 0 or off > tiny or abs(a - astar) > tiny * abs(astar):
            return None, "not a minimiser (a*, s u) with a* = sign(s) sqrt(u^T H u)"
        return Point(p, a, w, "minimizer", float(s)), ""


def _saddle_eigs(body: dict[str, Any]) -> list[Reading]:
    saddle_eigs_holds = proofs_module("A1.saddle-eigs").saddle_eigs_holds

    st = (
        "saddle Hessian has d-2 zero eigenvalues, one positive, one negative (the printed "
        "pair; 50-digit FD Hessian)"
    )
    pt, why = _point(body, "saddle")
    return [_outcome(st, saddle_eigs_holds(pt)) if pt else _not_applicable(st, why)]


def _minimizer_hessian(body: dict[str, Any]) -> list[Reading]:
    from ..objective_points import minimizer_hessian_matches

    st = "Hessian of J at the minimiser (a*, s u) = diag(1, H*/||w*||^2) (50-digit FD Hessian)"
    pt, why = _point(body, "minimizer")
    return [_outcome(st, minimizer_hessian_matches(pt)) if pt else _not_applicable(st, why)]


_SCALING = re.compile(r"mu = (\S+), gamma = (\S+), r = (\S+), Q = (\[.*\])\s*$")


def _scaling_case(body: dict[str, Any]):
    """The configuration and the transformation ``mu, gamma, r, Q`` of a P3.2 counterexample
    (exact rationals, from the ``comment`` the property check writes)."""
    m = _SCALING.search(str(body.get("comment", "")))
    if not m:
        raise BNVerifyError(
            "replay: the file's comment does not give the scaling 'mu = ..., "
            "gamma = ..., r = ..., Q = [...]' its check wrote"
        )
    try:
        mu, gamma, r = (Fraction(m.group(i)) for i in (1, 2, 3))
        Q = [[Fraction(x) for x in row] for row in ast.literal_eval(m.group(4))]
    except (ValueError, SyntaxError, TypeError, ZeroDivisionError):
        raise BNVerifyError("replay: the scaling in the file's comment is not rational") from None
    c = _configuration(body)
    import math

    n, d = math.isqrt(max(mu.numerator, 0)), math.isqrt(mu.denominator)
    if mu <= 0 or n * n != mu.numerator or d * d != mu.denominator:
        raise BNVerifyError(f"replay: mu = {mu} must be the square of a positive rational")
    dim = c.problem.d
    if len(Q) != dim or any(len(row) != dim for row in Q):
        raise BNVerifyError(f"replay: Q must be {dim} x {dim}")
    return SimpleNamespace(cfg=c, m=Fraction(n, d), gamma=gamma, r=r, Q=Q)


def _orthogonal(Q) -> bool:
    d = len(Q)
    return all(
        sum(Q[k][i] * Q[k][j] for k in range(d)) == (i == j) for i in range(d) for j in range(d)
    )


def _exact_data(body: dict[str, Any], keys: tuple[str, ...]):
    """``H``, ``u``, ``w0`` and the scalars ``keys`` of an exact (symbolic) counterexample, as
    SymPy rationals."""
    import sympy as sp

    try:
        if "H" in body:
            H = body["H"]
        else:
            h = body["H_diag"]
            H = [[x if i == j else 0 for j in range(len(h))] for i, x in enumerate(h)]
        H = sp.Matrix([[sp.Rational(str(x)) for x in row] for row in H])
        u = sp.Matrix([sp.Rational(str(x)) for x in body["u"]])
        w0 = sp.Matrix([sp.Rational(str(x)) for x in body["w0"]])
        vals = {k: sp.Rational(str(body[k])) for k in keys}
    except (KeyError, TypeError, ValueError, sp.SympifyError) as exc:
        raise BNVerifyError(
            f"replay: not an exact counterexample ({type(exc).__name__}: {exc})"
        ) from None
    if not (H.shape == (len(u), len(u)) and len(w0) == len(u)) or vals.get("a0", 1) == 0:
        raise BNVerifyError("replay: need a square H, u and w0 of one dimension and a0 != 0")
    return H, u, w0, vals


def _one_exact_step(statement: str, base: tuple, other: tuple, stored=None) -> Reading:
    """Def. 3.1 on one exact BNGD step (``bnverify.symbolic.scaling.bngd_exact``): the
    configurations ``(H, u, a0, w0, eps_a, eps)`` are equivalent only if ``a'_1 = t a_1`` with
    ``t = a'_0/a_0`` (fixed at k = 0).  ``stored``: the file's ``(a1, a1')`` compared with the
    replay."""
    import sympy as sp

    from ..symbolic.scaling import bngd_exact

    def run(H, u, a0, w0, eps_a, eps):
        return bngd_exact(H.tolist(), list(u), a0, list(w0), eps_a, eps)[0]

    a1, a1p = run(*base), run(*other)
    t = other[2] / base[2]
    ok = sp.simplify(a1p - t * a1) == 0
    note = f"exact (SymPy); t = a'_0/a_0 = {t} forces a'_1 = t a_1" + (
        "; one step agrees (not a proof of equivalence)" if ok else ""
    )
    if stored and any(
        v is not None and sp.simplify(sp.sympify(str(v)) - x) != 0
        for v, x in zip(stored, (a1, a1p), strict=True)
    ):
        note += f"; the file's a1 values {list(stored)} differ from the replay"
    return Reading(
        statement,
        "holds" if ok else "fails",
        {"a1": str(a1), "a1_transformed": str(a1p), "t": str(t)},
        note,
    )


def _exact_r_scaling(body: dict[str, Any]) -> list[Reading]:
    """The symbolic counterexample of ``{w0, eps, a0} ~ {r w0, r^2 eps, a0}`` (P3.2-2, L-A.9)."""
    H, u, w0, v = _exact_data(body, ("a0", "eps_a", "eps", "r"))
    st = "{H, u, a0, r w0, eps_a, r^2 eps} ~ {H, u, a0, w0, eps_a, eps} (r != 0), one exact step"
    r = v["r"]
    if r == 0:
        return [_not_applicable(st, "r = 0")]
    base = (H, u, v["a0"], w0, v["eps_a"], v["eps"])
    other = (H, u, v["a0"], r * w0, v["eps_a"], r**2 * v["eps"])
    return [_one_exact_step(st, base, other, (body.get("a1"), body.get("a1_scaled")))]


def _exact_p321(body: dict[str, Any]) -> list[Reading]:
    """The symbolic counterexample of Prop. 3.2(1) / Lemma A.8(1): the printed scale of ``u``
    (``Q = I``) and, when given (``orientation_d2``), the printed pairing of ``mu Q^T H Q`` with
    ``Q w0, Q u`` (``mu = gamma = 1``)."""
    import sympy as sp

    H, u, w0, v = _exact_data(body, ("a0", "eps_a", "eps", "mu", "gamma"))
    mu, gam, ea, e = v["mu"], v["gamma"], v["eps_a"], v["eps"]
    base = (H, u, v["a0"], w0, ea, e)
    out = []
    for st, scale, why in (
        (
            "{mu H, sqrt(mu) u, gamma a0, gamma w0} ~ {H, u, a0, w0} (main text, Q = I), one "
            "exact step",
            sp.sqrt(mu),
            "mu <= 0 or gamma = 0" if mu <= 0 or gam == 0 else "",
        ),
        (
            "{mu H, sqrt(gamma mu) u, gamma a0, gamma w0} ~ {H, u, a0, w0} (Lemma A.8, Q = I), one "
            "exact step",
            sp.sqrt(gam * mu),
            "mu <= 0 or gamma <= 0" if mu <= 0 or gam <= 0 else "",
        ),
    ):
        out.append(
            _not_applicable(st, why)
            if why
            else _one_exact_step(st, base, (mu * H, scale * u, gam * v["a0"], gam * w0, ea, e))
        )
    orient = body.get("orientation_d2")
    if isinstance(orient, dict):
        Ho, uo, wo, vo = _exact_data(orient, ("a0",))
        try:
            Q = sp.Matrix([[sp.Rational(str(x)) for x in row] for row in orient["Q"]])
        except (KeyError, TypeError, ValueError) as exc:
            raise BNVerifyError(f"replay: orientation_d2: Q is not rational ({exc})") from None
        st = "{Q^T H Q, Q u, a0, Q w0} ~ {H, u, a0, w0} (printed pairing, mu = gamma = 1)"
        if Q.shape != Ho.shape or Q.T * Q != sp.eye(Q.shape[0]):
            out.append(_not_applicable(st, "Q^T Q != I"))
        else:
            out.append(
                _one_exact_step(
                    st,
                    (Ho, uo, vo["a0"], wo, ea, e),
                    (Q.T * Ho * Q, Q * uo, vo["a0"], Q * wo, ea, e),
                    (orient.get("a1"), orient.get("a1_with_Qw0_Qu")),
                )
            )
    return out


def _scaling_property(readings: tuple[str, ...]) -> Callable[[dict[str, Any]], list[Reading]]:
    statements = {
        "main": "{mu Q^T H Q, sqrt(mu) Q u, gamma a0, gamma Q w0} ~ {H, u, a0, w0} (main text)",
        "appendix": "{mu Q^T H Q, sqrt(gamma mu) Q u, gamma a0, gamma Q w0} ~ {H, u, a0, w0} "
        "(Lemma A.8, gamma > 0)",
        "rw": "{H, u, a0, r w0, eps_a, r^2 eps} ~ {H, u, a0, w0, eps_a, eps}",
    }

    def replay(body: dict[str, Any]) -> list[Reading]:
        if "a1_scaled" in body:  # the symbolic check's exact counterexamples
            return _exact_r_scaling(body)
        if "gamma" in body and "mu" in body:
            return _exact_p321(body)
        from ..scaling_support import equivalent

        case = _scaling_case(body)
        out = []
        for rd in readings:
            st = statements[rd]
            if rd == "rw":
                why = "r = 0" if case.r == 0 else ""
            else:
                why = (
                    "gamma = 0"
                    if case.gamma == 0
                    else "Q^T Q != I"
                    if not _orthogonal(case.Q)
                    else "gamma <= 0"
                    if rd == "appendix" and case.gamma <= 0
                    else ""
                )
            out.append(
                _not_applicable(st, why)
                if why
                else _outcome(
                    st, equivalent(case, rd), "Def. 3.1 on 2d + 6 engine steps (orbit residuals)"
                )
            )
        return out

    return replay


def _thm_a21_eps0(body: dict[str, Any]) -> list[Reading]:
    """Thm A.21 (T3.3-2) at its boundary eps = 0, exactly: w_k = w0 for every k, and for
    0 < eps_a < 2 the scale a_k -> y0/sigma0 (a linear recursion), so the limit's loss is
    J = (c - y0^2/sigma0^2)/2 + noise/2 -- rational in the inputs (doubles read exactly).  The
    printed statement (eps >= 0: converges to a global minimiser, J = noise/2) fails iff
    q(w0) = u^T H u - y0^2/sigma0^2 > 0."""
    from fractions import Fraction

    def q(x: Any) -> Fraction:
        if isinstance(x, bool) or not isinstance(x, (int, float, str)):
            raise BNVerifyError("replay: T3.3-2: expected numbers in the configuration")
        return Fraction(x) if not isinstance(x, float) else Fraction(x)

    statement = "Thm A.21 (eps >= 0, 0 < eps_a < 2): BNGD converges to a global minimiser"
    try:
        u = [q(x) for x in body["u"]]
        w0 = [q(x) for x in body["w0"]]
        eps, eps_a = q(body["eps"]), q(body["eps_a"])
        noise = q(body.get("noise", 0))
        if "H_diag" in body:
            H = [[q(h) if i == j else Fraction(0) for j in range(len(u))]
                 for i, h in enumerate(body["H_diag"])]
        else:
            H = [[q(x) for x in row] for row in body["H"]]
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        raise BNVerifyError("replay: T3.3-2: not a configuration (H_diag or H, u, w0, eps, "
                            "eps_a)") from None
    d = len(u)
    if len(w0) != d or len(H) != d or any(len(r) != d for r in H):
        raise BNVerifyError("replay: T3.3-2: shapes of H, u, w0 do not match")
    if eps != 0:
        return [_not_applicable(statement + " [boundary eps = 0]",
                                f"eps = {float(eps):g} is not the boundary 0")]
    if not 0 < eps_a < 2:
        return [_not_applicable(statement, f"eps_a = {float(eps_a):g} not in (0, 2)")]
    Hu = [sum(H[i][j] * u[j] for j in range(d)) for i in range(d)]
    Hw = [sum(H[i][j] * w0[j] for j in range(d)) for i in range(d)]
    c = sum(a * b for a, b in zip(u, Hu, strict=True))
    y0 = sum(a * b for a, b in zip(w0, Hu, strict=True))
    s2 = sum(a * b for a, b in zip(w0, Hw, strict=True))
    if s2 <= 0:
        raise BNVerifyError("replay: T3.3-2: w0^T H w0 must be > 0")
    qw = c - y0 * y0 / s2
    J = qw / 2 + noise / 2
    J_star = noise / 2
    measured = {"q(w0)": str(qw), "J_limit": str(J), "J_star": str(J_star),
                "arithmetic": "exact rationals (inputs as the doubles / decimals they denote)"}
    return [Reading(statement + " [boundary eps = 0]", "fails" if qw > 0 else "holds", measured,
                    "at eps = 0 the iterate w_k = w0 never moves; a_k -> w0^T g / sigma0")]


REPLAYERS: dict[str, Callable[[dict[str, Any]], list[Reading]]] = {
    "T3.3-2": _thm_a21_eps0,
    "P3.2-1": _scaling_property(("main", "appendix")),
    "P3.2-2": _scaling_property(("rw",)),
    "L-A.9": _exact_r_scaling,
    "S3.norm-monotone": _norm_monotone,
    "S3.Hstar": _minimizer_hessian,
    "E22-23": _minimizer_hessian,
    "A1.saddle-eigs": _saddle_eigs,
    "P3.5": _prop_3_5,
    "S3.insensitive": _insensitive,
    "L-A.10": _lemma_a10,
    "L-A.23": _lemma_a23,
    "E74-80": _eqs_74_80,
}


def replay(path: str | Path, claim: str | None = None) -> dict[str, Any]:
    """Replay one counterexample file; the JSON document of the contract (module docstring)."""
    path = Path(path)
    body = read_counterexample(path)
    cid = claim or body.get("claim") or path.name.removesuffix(".json")
    if not isinstance(cid, str) or cid not in BY_ID:
        raise BNVerifyError(
            f"replay: {path.name}: no claim {cid!r} (check names its files <ID>.json; pass "
            "--claim ID for a renamed file; see `bnverify check --list`)"
        )
    fn = REPLAYERS.get(cid)
    if fn is None:
        raise BNVerifyError(
            f"replay: claim {cid} has no counterexample file to replay (its check writes none; "
            f"replayable: {', '.join(REPLAYERS)})"
        )
    try:
        readings = fn(body)
    except BNVerifyError as exc:  # e.g. a file of another claim's format
        msg = str(exc).removeprefix("replay: ")
        raise BNVerifyError(f"replay: {path.name} as a counterexample of {cid}: {msg}") from None
    entry = BY_ID[cid]
    return {
        "bnverify": __version__,
        "claim": cid,
        "file": str(path),
        "where": entry.where,
        "statement": entry.statement,
        "refuted": any(r.result == "fails" for r in readings),
        "readings": [r.to_json() for r in readings],
    }


def register(sub) -> None:
    p = sub.add_parser(
        "replay",
        help="re-evaluate a claim's check on a counterexample file written by check",
        description="Replay a counterexample file written by `bnverify check --counterexamples "
        "DIR` (or `bnverify report`): evaluate the claim's check on exactly that counterexample "
        "and say whether it still refutes the claim as printed. Exit 0 when replayed.",
    )
    p.add_argument("file", metavar="FILE", help="a counterexample file, DIR/<ID>.json")
    p.add_argument("--claim", metavar="ID", help="the claim (default: the file name's <ID>)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_replay)


def cmd_replay(args) -> int:
    doc = replay(args.file, args.claim)
    if args.json:
        json.dump(doc, sys.stdout)
        sys.stdout.write("\n")
        return 0
    lines = [
        f"claim      {doc['claim']}  ({doc['where']})",
        f"statement  {doc['statement']}",
        f"file       {doc['file']}",
    ]
    for r in doc["readings"]:
        meas = ", ".join(f"{k} = {_fmt(v)}" for k, v in list(r["measured"].items())[:6])
        lines.append(f"  [{r['result']}] {r['statement']}" + (f"  ({meas})" if meas else ""))
        if r["note"]:
            lines.append(f"      {r['note']}")
    lines.append(
        f"result     refuted: the counterexample still refutes {doc['claim']} as printed"
        if doc["refuted"]
        else f"result     not refuted: no statement of {doc['claim']} fails on this file"
    )
    print("\n".join(lines))
    return 0


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return format(v, ".6g")
    if isinstance(v, list) and len(v) > 4:
        return "[" + ", ".join(_fmt(x) for x in v[:4]) + ", ...]"
    return str(v)

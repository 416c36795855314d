"""Exact and ball-arithmetic replays of the float refutations (issue 13, evidence classes).

Every refutation whose counterexample is numeric is replayed here on exactly that counterexample,
so that its evidence class is ``proof`` (exact rationals: ``fractions``/python-flint ``fmpq``,
``fmpq_mat``, or SymPy with exact radicals) or ``certified`` (python-flint ``arb`` balls at
:data:`BITS` bits, deciding strict inequalities only: balls prove ``<``, ``>``, ``!=``, never
``==``; every equality is decided exactly).  A JSON float is the binary double it denotes and is
read with ``Fraction(float)`` (exact), never from its decimal print; 50-digit strings (points of
``J``) are read as the exact decimals they print.

Each replay is registered with :func:`bnverify.claims.certify` for one ``(claim, method)`` and
returns a :class:`~bnverify.claims.Replay`: ``refuted=True`` when the violated statement is
decided false on the counterexample, ``False`` when it is decided to hold there (a doctored or
wrong counterexample: the float refutation is then not confirmed), ``None`` when the replay cannot
decide (hypotheses not met, a form it does not handle): the method keeps its ``sampled`` class.

Not replayed (allow-list in tests/test_evidence.py, with reasons): C-A.16 (its counterexample is
an infinite sequence and the refuted statement is about limits; no finite prefix witnesses it),
L-A.23 (the constants C, rho are the tightest on a computed prefix of the trajectory; making them
admissible for all k needs a tail bound, not a finite witness).  Figure and network refutations
are ``experiment``.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from bnverify.claims import MethodResult, Replay, certify

#: working precision of the ball replays (bits)
BITS = 320


def q(x: Any) -> Fraction:
    """The exact rational a JSON value denotes: a float is its binary double, an int itself, a
    string its decimal or ``p/q`` value."""
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(x, float):
        return Fraction(x)  # exact: the double, not its decimal print
    if isinstance(x, (int, str)):
        return Fraction(x)
    raise TypeError(f"not a number: {x!r}")


def problem(cex: dict[str, Any]) -> tuple[list[list[Fraction]], list[Fraction], bool]:
    """``(H, u, diagonal)`` of a counterexample, exactly."""
    if "H_diag" in cex:
        h = [q(x) for x in cex["H_diag"]]
        H = [[h[i] if i == j else Fraction(0) for j in range(len(h))] for i in range(len(h))]
        diag = True
    else:
        H = [[q(x) for x in row] for row in cex["H"]]
        diag = all(H[i][j] == 0 for i in range(len(H)) for j in range(len(H)) if i != j)
    u = [q(x) for x in cex["u"]]
    if len(H) != len(u) or any(len(r) != len(u) for r in H):
        raise ValueError("H and u of different dimensions")
    return H, u, diag


def mv(H, x):
    return [sum((hij * xj for hij, xj in zip(row, x, strict=True)), start=x[0] * 0) for row in H]


def dot(x, y):
    return sum((a * b for a, b in zip(x, y, strict=True)), start=x[0] * 0)


def _s(x: Fraction) -> str:
    return str(x) if x.denominator < 10**12 else f"{float(x):.17g} (exact rational)"


def _arb_str(x) -> str:
    return x.str(20, radius=True)


# ----------------------------------------------------------------------------------------------
# effective step at k = 0 (S3.insensitive, P3.5): eps^_0 = eps a0 (w0^T g)/sigma0^3, exactly
# ----------------------------------------------------------------------------------------------


def _c0(cex: dict[str, Any]) -> tuple[Fraction, Fraction]:
    """``(a0 w0^T g, sigma0^2)`` exactly: ``eps^_0 = eps a0 w0^T g / sigma0^3`` (Eq. 11 at
    k = 0: ``eps (a0/sigma0) (y0/sigma0^2)``) is linear in eps with slope ``a0 y0 / sigma0^3``."""
    H, u, _ = problem(cex)
    w0 = [q(x) for x in cex["w0"]]
    a0 = q(cex["a0"])
    g = mv(H, u)
    return a0 * dot(w0, g), dot(w0, mv(H, w0))


@certify("S3.insensitive", "sweep")
def replay_insensitive(cex: dict[str, Any], res: MethodResult) -> Replay:
    k = cex.get("steps")
    if k != 0:
        return Replay(None, "proof", "fmpq", f"only k = 0 is replayed exactly (file: k = {k})")
    num, s2 = _c0(cex)
    if s2 <= 0:
        return Replay(None, "proof", "fractions", "sigma0^2 = w0^T H w0 <= 0")
    ok = num != 0
    return Replay(
        ok,
        "proof",
        "exact rational (fractions)",
        f"eps^_0 = eps a0 w0^T g/sigma0^3 is linear in eps, so d eps^_0/d eps = a0 w0^T g/sigma0^3 "
        f"for every eps, with a0 w0^T g = {_s(num)} {'!= 0' if ok else '= 0'} and sigma0^2 = "
        f"{_s(s2)} > 0: {'no' if ok else 'every'} eps0 is stationary",
        {"a0_y0": str(num), "sigma0_sq": str(s2)},
    )


@certify("P3.5", "sweep")
def replay_p35(cex: dict[str, Any], res: MethodResult) -> Replay:
    comment = str(cex.get("comment", ""))
    if "large" not in comment:
        return Replay(None, "proof", "fractions", "only the eps >> 1 regime is replayed exactly")
    num, s2 = _c0(cex)
    if not (num > 0 and s2 > 0):
        return Replay(None, "proof", "fractions", "a0 w0^T g > 0 not met")
    return Replay(
        True,
        "proof",
        "exact rational (fractions)",
        f"at k = 0, eps^_0 eps = c eps^2 with c = a0 w0^T g/sigma0^3, a0 w0^T g = {_s(num)} > 0, "
        f"sigma0^2 = {_s(s2)} > 0: for every C2 and every eps > sqrt(C2/c), eps^_0 eps > C2, so "
        "no C2 independent of eps bounds it for all k >= 0 (a finite witness for each C2)",
        {"a0_y0": str(num), "sigma0_sq": str(s2)},
    )


# ----------------------------------------------------------------------------------------------
# exact BNGD steps (SymPy, exact radicals): L-A.10, S3.norm-monotone, P3.2-1, P3.2-2
# ----------------------------------------------------------------------------------------------


def _sympy_config(cex: dict[str, Any]):
    import sympy as sp

    H, u, _ = problem(cex)
    R = lambda x: sp.Rational(x.numerator, x.denominator)  # noqa: E731
    Hm = sp.Matrix([[R(x) for x in row] for row in H])
    um = sp.Matrix([R(x) for x in u])
    w0 = sp.Matrix([R(q(x)) for x in cex["w0"]])
    return Hm, um, R(q(cex["a0"])), w0, R(q(cex["eps_a"])), R(q(cex["eps"]))


def _steps(Hm, um, a, w, ea, e, n: int):
    """``n + 1`` exact iterates ``(a_k, w_k)`` of Eq. 9-10 (SymPy, radicals kept exact)."""
    import sympy as sp

    g = Hm * um
    out = [(a, w)]
    for _ in range(n):
        s = sp.sqrt((w.T * Hm * w)[0])
        y = (w.T * g)[0]
        a, w = (
            sp.simplify(a + ea * (y / s - a)),
            (w + e * (a / s) * (g - (y / s**2) * Hm * w)).applyfunc(sp.simplify),
        )
        out.append((a, w))
    return out


@certify("L-A.10", "property-divergence")
def replay_la10(cex: dict[str, Any], res: MethodResult) -> Replay:
    import sympy as sp

    Hm, um, a0, w0, ea, e = _sympy_config(cex)
    (_, _), (a1, w1) = _steps(Hm, um, a0, w0, ea, e, 1)
    fixed = sp.simplify(a1 - a0) == 0 and all(sp.simplify(x) == 0 for x in (w1 - w0))
    if not fixed:
        return Replay(None, "proof", "SymPy exact", f"(a1, w1) != (a0, w0): a1 = {a1}")
    return Replay(
        True,
        "proof",
        "SymPy exact",
        f"one exact step gives (a1, w1) = (a0, w0) = ({a0}, {list(w0)}): the iteration is at a fixed "
        "point, so |a_k| = |a0| for every k and does not tend to infinity",
        {"a0": str(a0), "a1": str(a1)},
    )


@certify("S3.norm-monotone", "property-strict")
def replay_norm_strict(cex: dict[str, Any], res: MethodResult) -> Replay:
    import sympy as sp

    Hm, um, a0, w0, ea, e = _sympy_config(cex)
    k0 = int((res.details.get("measured") or {}).get("step", 0))
    if k0 > 3:
        return Replay(None, "proof", "SymPy exact", f"violation at step {k0} > 3 not replayed")
    it = _steps(Hm, um, a0, w0, ea, e, k0 + 1)
    (_, wk), (_, wk1) = it[k0], it[k0 + 1]
    diff = sp.simplify((wk1.T * wk1)[0] - (wk.T * wk)[0])
    if diff.is_zero or (diff.is_number and diff.is_negative):
        return Replay(
            True,
            "proof",
            "SymPy exact",
            f"||w_{k0 + 1}||^2 - ||w_{k0}||^2 = {diff} exactly (not > 0): the strict increase fails",
            {"step": k0, "norm_sq_increment": str(diff)},
        )
    return Replay(
        False if (diff.is_number and diff.is_positive) else None,
        "proof",
        "SymPy exact",
        f"||w_{k0 + 1}||^2 - ||w_{k0}||^2 = {diff}",
        {"step": k0, "norm_sq_increment": str(diff)},
    )


_SCALING = re.compile(r"mu = (\S+), gamma = (\S+), r = (\S+), Q = (\[.*\])\s*$")


def _scaling(cex: dict[str, Any]):
    import ast

    import sympy as sp

    m = _SCALING.search(str(cex.get("comment", "")))
    if not m:
        raise ValueError("no scaling 'mu = ..., gamma = ..., r = ..., Q = [...]' in the comment")
    mu, gamma, r = (sp.Rational(str(Fraction(m.group(i)))) for i in (1, 2, 3))
    Q = sp.Matrix([[sp.Rational(str(Fraction(x))) for x in row]
                   for row in ast.literal_eval(m.group(4))])
    return mu, gamma, r, Q


def _one_step(statement: str, base: tuple, other: tuple) -> Replay:
    from bnverify.commands.replay import _one_exact_step

    rd = _one_exact_step(statement, base, other)
    return Replay(
        rd.result == "fails",
        "proof",
        "SymPy exact",
        f"one exact BNGD step: a1 = {rd.measured['a1']}, a'1 = {rd.measured['a1_transformed']}, "
        f"t = a'0/a0 = {rd.measured['t']}: "
        + ("a'1 != t a1, so the configurations are not equivalent (Def. 3.1)"
           if rd.result == "fails" else "a'1 = t a1 (no violation at this step)"),
        rd.measured,
    )


@certify("P3.2-1", "property")
def replay_p321(cex: dict[str, Any], res: MethodResult) -> Replay:
    import sympy as sp

    Hm, um, a0, w0, ea, e = _sympy_config(cex)
    mu, gamma, _, Q = _scaling(cex)
    if Q.T * Q != sp.eye(Q.shape[0]) or mu <= 0 or gamma == 0:
        return Replay(None, "proof", "SymPy exact", "Q^T Q != I, mu <= 0 or gamma = 0")
    appendix = "Lemma A.8" in str(res.details.get("statement", ""))
    if appendix and gamma <= 0:
        return Replay(None, "proof", "SymPy exact", "gamma <= 0 (Lemma A.8 needs gamma > 0)")
    scale = sp.sqrt(gamma * mu) if appendix else sp.sqrt(mu)
    other = (mu * Q.T * Hm * Q, scale * Q * um, gamma * a0, gamma * Q * w0, ea, e)
    return _one_step("P3.2-1", (Hm, um, a0, w0, ea, e), other)


@certify("P3.2-2", "property")
def replay_p322(cex: dict[str, Any], res: MethodResult) -> Replay:
    Hm, um, a0, w0, ea, e = _sympy_config(cex)
    _, _, r, _ = _scaling(cex)
    if r == 0:
        return Replay(None, "proof", "SymPy exact", "r = 0")
    return _one_step("P3.2-2", (Hm, um, a0, w0, ea, e), (Hm, um, a0, r * w0, ea, r**2 * e))


# ----------------------------------------------------------------------------------------------
# H* = H - g g^T/(u^T H u) exactly (fmpq_mat): C-A.5, C-A.7, S3.Hstar-psd, S3.acceleration
# ----------------------------------------------------------------------------------------------


def _rational_spectrum(M: list[list[Fraction]]) -> list[Fraction] | None:
    """The eigenvalues (with multiplicity, ascending) of a symmetric rational matrix, exactly,
    when they are all rational (roots of the exact characteristic polynomial); else None."""
    from flint import fmpq, fmpq_mat

    d = len(M)
    A = fmpq_mat(d, d, [fmpq(x.numerator, x.denominator) for row in M for x in row])
    roots = A.charpoly().roots()
    if sum(m for _, m in roots) != d:
        return None
    lam = []
    for r, m in roots:
        lam += [Fraction(int(r.p), int(r.q))] * m
    return sorted(lam)


def _hstar(H, u):
    g = mv(H, u)
    c = dot(u, g)
    return [[H[i][j] - g[i] * g[j] / c for j in range(len(u))] for i in range(len(u))]


def _spectra(cex: dict[str, Any]):
    H, u, diag = problem(cex)
    if not diag:
        return None
    lam = sorted(H[i][i] for i in range(len(u)))
    ls = _rational_spectrum(_hstar(H, u))
    if ls is None or ls[0] != 0:
        return None
    # eigen-coefficients of u in the problem's basis (diagonal H: e_i, ordered by eigenvalue)
    order = sorted(range(len(u)), key=lambda i: H[i][i])
    ue = [u[i] for i in order]
    return H, u, lam, ls, ue


def _spec_text(lam, ls) -> str:
    return (f"eigenvalues of H {[str(x) for x in lam]}, of H* {[str(x) for x in ls]} (exact "
            f"charpoly roots, fmpq_mat)")


@certify("C-A.5", "property")
def replay_ca5(cex: dict[str, Any], res: MethodResult) -> Replay:
    sp_ = _spectra(cex)
    if sp_ is None:
        return Replay(None, "proof", "fmpq", "non-diagonal H or irrational spectrum of H*")
    H, u, lam, ls, ue = sp_
    kstar, kap = ls[-1] / ls[1], lam[-1] / lam[0]
    cond = ue[0] == 0 and ue[-1] == 0
    holds = kstar <= kap and (kstar == kap) == cond
    return Replay(
        not holds,
        "proof",
        "exact rational (fmpq_mat)",
        f"{_spec_text(lam, ls)}: kappa* = {kstar}, kappa = {kap} ({'equal' if kstar == kap else 'differ'}) "
        f"while u^T v1 = {_s(ue[0])}, u^T vd = {_s(ue[-1])} (u ⟂ span{{v1, vd}}: {cond})",
        {"kappa_star": str(kstar), "kappa": str(kap), "u_perp": cond},
    )


@certify("C-A.7", "property")
def replay_ca7(cex: dict[str, Any], res: MethodResult) -> Replay:
    sp_ = _spectra(cex)
    if sp_ is None:
        return Replay(None, "proof", "fmpq", "non-diagonal H or irrational spectrum of H*")
    H, u, lam, ls, ue = sp_
    eps = q(cex["eps"])
    if not eps > 0:
        return Replay(None, "proof", "fmpq", "eps <= 0")
    r = max(abs(1 - eps * x) for x in lam)
    rs = max(abs(1 - eps * ls[1]), abs(1 - eps * ls[-1]))
    hyp = ue[0] != 0 and ue[-1] != 0
    holds = rs <= r and (rs < r or not hyp)
    return Replay(
        not holds,
        "proof",
        "exact rational (fmpq_mat)",
        f"{_spec_text(lam, ls)}, eps = {_s(eps)}: rho* = {rs}, rho = {r} "
        f"({'not strict' if rs == r else 'strict' if rs < r else 'rho* > rho'}) while u^T v1 = "
        f"{_s(ue[0])} != 0 and u^T vd = {_s(ue[-1])} != 0: {hyp}",
        {"rho_star": str(rs), "rho": str(r), "hypothesis": hyp},
    )


def _almost_all(cex: dict[str, Any], what: str) -> Replay:
    """'... strict for almost all u' fails for this H when the extreme eigenvalues of H* are
    those of H for EVERY u != 0: the characteristic polynomial of H* with a symbolic u (SymPy)
    does not depend on u, and its roots (exact) give lambda_2(H*) = lambda_1(H), lambda_d(H*) =
    lambda_d(H); then kappa* = kappa and rho*(eps) = rho(eps) for all u, all eps."""
    import sympy as sp

    H, u, diag = problem(cex)
    d = len(u)
    if not diag or d > 4:
        return Replay(None, "proof", "SymPy exact", "non-diagonal H or d > 4")
    us = sp.symbols(f"u1:{d + 1}", real=True)
    x = sp.Symbol("x")
    Hm = sp.diag(*[sp.Rational(str(H[i][i])) for i in range(d)])
    uv = sp.Matrix(us)
    g = Hm * uv
    c = (uv.T * Hm * uv)[0]
    Hs = Hm - g * g.T / c
    cp = sp.factor(sp.cancel((x * sp.eye(d) - Hs).det()))
    if cp.free_symbols - {x}:
        return Replay(None, "proof", "SymPy exact", "the spectrum of H* depends on u")
    roots = sp.roots(sp.Poly(cp, x))
    ls = sorted(r for r, m in roots.items() for _ in range(m))
    lam = sorted(Hm[i, i] for i in range(d))
    if len(ls) != d or ls[0] != 0:
        return Replay(None, "proof", "SymPy exact", f"unexpected spectrum {ls}")
    same = ls[1] == lam[0] and ls[-1] == lam[-1]
    return Replay(
        same,
        "proof",
        "SymPy exact (symbolic u)",
        f"for every u != 0, det(x I - H*) = {cp} (independent of u): eigenvalues of H* "
        f"{[str(v) for v in ls]}, of H {[str(v) for v in lam]}; "
        + (f"lambda_2(H*) = lambda_1(H) and lambda_d(H*) = lambda_d(H), so {what} fails for "
           "every u, not only on a null set" if same else "the extremes differ"),
        {"charpoly_H_star": str(cp)},
    )


@certify("S3.Hstar-psd", "monte-carlo")
def replay_hstar_aa(cex: dict[str, Any], res: MethodResult) -> Replay:
    return _almost_all(cex, "kappa* < kappa")


@certify("S3.acceleration", "monte-carlo")
def replay_accel_aa(cex: dict[str, Any], res: MethodResult) -> Replay:
    return _almost_all(cex, "rho*_opt < rho_opt")


@certify("C-A.7", "monte-carlo")
def replay_ca7_aa(cex: dict[str, Any], res: MethodResult) -> Replay:
    return _almost_all(cex, "rho*(I - eps H*) < rho(I - eps H) (every eps > 0)")


# ----------------------------------------------------------------------------------------------
# ball arithmetic (arb): E74-80
# ----------------------------------------------------------------------------------------------


def _arb_iterates(cex: dict[str, Any], n: int):
    """``n + 1`` iterates of Eq. 9-10 in arb balls at :data:`BITS` bits from the exact inputs."""
    from flint import arb, ctx

    H, u, _ = problem(cex)
    A = lambda x: arb(x.numerator) / x.denominator  # noqa: E731  exact when representable
    old = ctx.prec
    ctx.prec = BITS
    try:
        Hb = [[A(x) for x in row] for row in H]
        ub = [A(x) for x in u]
        g = mv(Hb, ub)
        a = A(q(cex["a0"]))
        w = [A(q(x)) for x in cex["w0"]]
        ea, e = A(q(cex["eps_a"])), A(q(cex["eps"]))
        out = []
        for k in range(n + 1):
            Hw = mv(Hb, w)
            s2 = dot(w, Hw)
            s = s2.sqrt()
            y = dot(w, g)
            out.append({"a": a, "w": w, "sigma": s, "y": y, "eff": e * a * y / (s * s2),
                        "n2": dot(w, w)})
            if k < n:
                a, w = a + ea * (y / s - a), [wi + e * (a / s) * (gi - (y / s2) * hi)
                                               for wi, gi, hi in zip(w, g, Hw, strict=True)]
        return out
    finally:
        ctx.prec = old


@certify("E74-80", "property-74")
def replay_e74(cex: dict[str, Any], res: MethodResult) -> Replay:
    from flint import arb, ctx

    H, u, diag = problem(cex)
    if not diag:
        return Replay(None, "certified", f"arb {BITS} bits", "non-diagonal H")
    k = int((res.details.get("measured") or {}).get("first_lower_violation_k", -1))
    if k < 0 or k > 200:
        return Replay(None, "certified", f"arb {BITS} bits", "no lower-bound violation to replay")
    it = _arb_iterates(cex, k)
    old = ctx.prec
    ctx.prec = BITS
    try:
        lmax = max(H[i][i] for i in range(len(u)))
        a0 = arb(q(cex["a0"]).numerator) / q(cex["a0"]).denominator
        e = arb(q(cex["eps"]).numerator) / q(cex["eps"]).denominator
        y0s0 = it[0]["y"] / it[0]["sigma"]
        lo = a0 * y0s0 * e / ((arb(lmax.numerator) / lmax.denominator) * it[k]["n2"])
        eff = it[k]["eff"]
        below = bool(eff < lo)  # True only when the balls are disjoint
        above = bool(eff >= lo)
    finally:
        ctx.prec = old
    return Replay(
        True if below else (False if above else None),
        "certified",
        f"arb {BITS} bits",
        f"at k = {k}: eps^_k in {_arb_str(eff)} < printed lower bound a0 (y0/sigma0) eps/"
        f"(lambda_max ||w_k||^2) in {_arb_str(lo)} (disjoint balls)" if below else
        f"at k = {k}: eps^_k in {_arb_str(eff)}, lower bound in {_arb_str(lo)}",
        {"k": k, "eff_step": _arb_str(eff), "lower_bound": _arb_str(lo)},
    )


# ----------------------------------------------------------------------------------------------
# exact Hessians of J at the points of J (SymPy): S3.Hstar, E22-23 (minimiser), A1.saddle-eigs
# ----------------------------------------------------------------------------------------------


def _exact_hessian(Hm, um, a, w):
    """The Hessian of ``J(a, w) = 1/2 (u - a w/sigma)^T H (u - a w/sigma)`` (Eq. 7 without its
    constant), ``sigma = sqrt(w^T H w)``, differentiated by SymPy and evaluated exactly at
    ``(a, w)``."""
    import sympy as sp

    d = len(um)
    A = sp.Symbol("a", real=True)
    W = sp.Matrix(sp.symbols(f"w1:{d + 1}", real=True))
    sig = sp.sqrt((W.T * Hm * W)[0])
    r = um - A * W / sig
    J = (r.T * Hm * r)[0] / 2
    X = [A, *W]
    Hs = sp.hessian(J, X)
    sub = {A: a, **{W[i]: w[i] for i in range(d)}}
    return Hs.subs(sub).applyfunc(sp.radsimp)


def _minimiser_point(cex: dict[str, Any]):
    """The exact minimiser ``(sign(s) sqrt(u^T H u), s u)`` nearest the file's 50-digit point
    (``s`` the simplest rational within 1e-40 of ``w0_i/u_i``), or None."""
    import sympy as sp

    Hm, um, *_ = _sympy_config({**cex, "a0": 0.0, "w0": [0.0] * len(cex["u"]), "eps_a": 1.0,
                                "eps": 1.0})
    w = [Fraction(str(x)) for x in cex["w0"]]
    u = [q(x) for x in cex["u"]]
    i = max(range(len(u)), key=lambda j: abs(u[j]))
    s = (w[i] / u[i]).limit_denominator(10**6)
    if s == 0 or any(abs(s * uj - wj) > Fraction(1, 10**40) for uj, wj in zip(u, w, strict=True)):
        return None
    S = sp.Rational(s.numerator, s.denominator)
    a = sp.sign(S) * sp.sqrt((um.T * Hm * um)[0])
    return Hm, um, a, S * um, S


def _replay_minimiser_hessian(cex: dict[str, Any], res: MethodResult) -> Replay:
    import sympy as sp

    pt = _minimiser_point(cex)
    if pt is None:
        return Replay(None, "proof", "SymPy exact", "the file's point is not a minimiser (a*, s u)")
    Hm, um, a, w, S = pt
    Hes = _exact_hessian(Hm, um, a, w)
    g = Hm * um
    Hstar = Hm - g * g.T / (um.T * Hm * um)[0]
    printed = sp.diag(sp.Integer(1), Hstar / (w.T * w)[0])
    diff = (Hes - printed).applyfunc(sp.simplify)
    bad = [(i, j, diff[i, j]) for i in range(diff.rows) for j in range(diff.cols)
           if not diff[i, j].is_zero]
    if not bad or any(z.is_zero is None for _, _, z in bad):
        return Replay(False if not bad else None, "proof", "SymPy exact",
                      "the exact Hessian equals the printed diag(1, H*/||w*||^2)" if not bad
                      else "zero test undecided")
    i, j, z = bad[0]
    return Replay(
        True,
        "proof",
        "SymPy exact",
        f"at the exact minimiser (a*, s u), s = {S}, ||w*||^2 = {_s(q_from_sympy((w.T * w)[0]))}: "
        f"exact Hessian - printed diag(1, H*/||w*||^2) has entry ({i}, {j}) = "
        f"{_s(q_from_sympy(z)) if z.is_Rational else z} != 0 ({len(bad)} nonzero entries)",
        {"nonzero_entries": len(bad)},
    )


def q_from_sympy(z) -> Fraction:
    return Fraction(int(z.p), int(z.q)) if z.is_Rational else Fraction(str(z))


@certify("S3.Hstar", "numeric")
def replay_hstar_hessian(cex: dict[str, Any], res: MethodResult) -> Replay:
    return _replay_minimiser_hessian(cex, res)


@certify("E22-23", "numeric")
def replay_e22_hessian(cex: dict[str, Any], res: MethodResult) -> Replay:
    return _replay_minimiser_hessian(cex, res)


@certify("A1.saddle-eigs", "numeric")
def replay_saddle_eigs(cex: dict[str, Any], res: MethodResult) -> Replay:
    import sympy as sp

    Hm, um, *_ = _sympy_config({**cex, "a0": 0.0, "w0": [0.0] * len(cex["u"]), "eps_a": 1.0,
                                "eps": 1.0})
    if q(cex["a0"]) != 0:
        return Replay(None, "proof", "SymPy exact", "a0 != 0: not a saddle (0, w*)")
    w = sp.Matrix([sp.Rational(str(Fraction(str(x)))) for x in cex["w0"]])
    g = Hm * um
    w = w - ((w.T * g)[0] / (g.T * g)[0]) * g  # exactly on w^T g = 0 (the file's w to 1e-50)
    Hes = _exact_hessian(Hm, um, sp.Integer(0), w)
    d = len(um)
    null = d + 1 - Hes.rank(simplify=True)
    return Replay(
        null != d - 2,
        "proof",
        "SymPy exact",
        f"at the exact saddle (0, w*), w*^T g = 0: the exact (d+1)x(d+1) Hessian has rank "
        f"{d + 1 - null}, so 0 has multiplicity {null}, not the printed d - 2 = {d - 2}",
        {"zero_multiplicity": null, "printed": d - 2},
    )

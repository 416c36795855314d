"""Exact (rational, SymPy) helpers of the certified replays (``@certify``) in ``proofs/``.

A JSON float is the binary double it denotes and is read with ``Fraction(float)`` (:func:`q`),
never from its decimal print; :func:`problem` builds an exact OLS problem from a counterexample;
:func:`mv`, :func:`dot` are exact matrix-vector products; ``sympy_config`` / ``exact_steps`` replay
BNGD iterates exactly; ``exact_hessian`` / ``replay_minimiser_hessian`` decide the Hessian at a
minimiser exactly.  The per-claim replays themselves live in the section modules of ``proofs/``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from bnverify.claims import MethodResult, Replay


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
    """The exact product ``H x`` (lists of rationals, or any numbers with ``*`` and ``+``)."""
    return [sum((hij * xj for hij, xj in zip(row, x, strict=True)), start=x[0] * 0) for row in H]


def dot(x, y):
    """The exact inner product ``x^T y``."""
    return sum((a * b for a, b in zip(x, y, strict=True)), start=x[0] * 0)


def exact_text(x: Fraction) -> str:
    """A rational as text: ``p/q`` when short, else its double with a note that it is exact."""
    return str(x) if x.denominator < 10**12 else f"{float(x):.17g} (exact rational)"


def sympy_config(cex: dict[str, Any]):
    """``(H, u, a0, w0, eps_a, eps)`` of a counterexample as SymPy rationals (exact)."""
    import sympy as sp

    H, u, _ = problem(cex)
    R = lambda x: sp.Rational(x.numerator, x.denominator)  # noqa: E731
    Hm = sp.Matrix([[R(x) for x in row] for row in H])
    um = sp.Matrix([R(x) for x in u])
    w0 = sp.Matrix([R(q(x)) for x in cex["w0"]])
    return Hm, um, R(q(cex["a0"])), w0, R(q(cex["eps_a"])), R(q(cex["eps"]))


def exact_steps(Hm, um, a, w, ea, e, n: int):
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


def replay_almost_all(cex: dict[str, Any], what: str) -> Replay:
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


def exact_hessian(Hm, um, a, w):
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

    Hm, um, *_ = sympy_config({**cex, "a0": 0.0, "w0": [0.0] * len(cex["u"]), "eps_a": 1.0,
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


def replay_minimiser_hessian(cex: dict[str, Any], res: MethodResult) -> Replay:
    """Replay of a minimiser-Hessian refutation (E22-23, S3.Hstar): the Hessian at the file's point
    ``(a*, s u)``, exactly in SymPy, against the printed ``diag(1, H*/||w*||^2)``."""
    import sympy as sp

    pt = _minimiser_point(cex)
    if pt is None:
        return Replay(None, "proof", "SymPy exact", "the file's point is not a minimiser (a*, s u)")
    Hm, um, a, w, S = pt
    Hes = exact_hessian(Hm, um, a, w)
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
        f"at the exact minimiser (a*, s u), s = {S}, ||w*||^2 = {exact_text(q_from_sympy((w.T * w)[0]))}: "
        f"exact Hessian - printed diag(1, H*/||w*||^2) has entry ({i}, {j}) = "
        f"{exact_text(q_from_sympy(z)) if z.is_Rational else z} != 0 ({len(bad)} nonzero entries)",
        {"nonzero_entries": len(bad)},
    )


def q_from_sympy(z) -> Fraction:
    """A SymPy number as a ``Fraction`` (exact for rationals)."""
    return Fraction(int(z.p), int(z.q)) if z.is_Rational else Fraction(str(z))

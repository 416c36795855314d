"""The BN least-squares objective and its derivatives, index-free (every d) and explicit (d = 1..4).

Index-free (``bnverify.symbolic.algebra``): scalars in the invariants ``a, sigma, y = w^T g,
nu = u^T H u, c = E[y^2]``; vectors and matrices in the basis ``H^k w, H^k u``.

* :func:`expectation` -- ``E[.]`` of a polynomial in the random scalars ``Y`` (the output ``y``) and
  ``Z = x^T w``, from the moments of Eq. (1): ``E[Y^2] = c``, ``E[Y Z] = w^T g``,
  ``E[Z^2] = w^T H w = sigma^2`` (linearity of expectation is the only rule);
* :func:`objective_definition` -- Eq. (6)-(7) ``J = E[(y - a x^T w / sigma)^2] / 2``;
* :func:`objective_quadratic` -- Eq. (16) left side ``(u - a w/sigma)^T H (u - a w/sigma) / 2``;
* :func:`gradient`, :func:`hessian` -- by the rules of ``algebra``;
* :func:`bngd_step` -- one gradient-descent step with step sizes ``(eps_a, eps)``.

Explicit: :func:`explicit_objective` builds the same quadratic form from explicit matrices in an
:class:`~bnverify.symbolic.explicit.Instance` (no invariants, no rules).
"""

from __future__ import annotations

import sympy as sp

from . import algebra as A
from .derivation import Block

Y, Z = sp.symbols("Y Z", real=True)  # the random output y and the random projection x^T w


def expectation(poly: sp.Expr) -> sp.Expr:
    """``E[poly]`` for a polynomial of degree <= 2 in ``Y, Z`` (moments of Eq. 1; Eq. 6: ``E[Z] = 0``
    because ``E[x] = 0``, and ``E[Y]`` does not occur in a centred quadratic)."""
    p = sp.Poly(sp.expand(poly), Y, Z)
    moments = {(0, 0): 1, (2, 0): A.c, (1, 1): A.y, (0, 2): A.sigma**2, (1, 0): 0, (0, 1): 0}
    out = sp.Integer(0)
    for (i, j), coeff in p.terms():
        if (i, j) not in moments:
            raise ValueError(f"moment E[Y^{i} Z^{j}] not available from Eq. (1)")
        out += coeff * moments[(i, j)]
    return sp.expand(out)


def objective_definition() -> tuple[sp.Expr, sp.Expr]:
    """(integrand, J): Eq. (6)-(7), ``J = E[(Y - a Z / sigma)^2] / 2``."""
    integrand = sp.Rational(1, 2) * (Y - A.a * Z / A.sigma) ** 2
    return integrand, expectation(integrand)


def objective_quadratic() -> sp.Expr:
    """Eq. (16) left side: ``(u - a w / sigma)^T H (u - a w / sigma) / 2`` expanded by the algebra."""
    r = A.u - A.w * (A.a / A.sigma)
    return sp.expand(r.hdot(r) / 2)


def gradient(J: sp.Expr) -> tuple[sp.Expr, A.Vec]:
    """``(dJ/da, grad_w J)``."""
    return sp.simplify(sp.diff(J, A.a)), A.grad_w(J).simplify()


def hessian(J: sp.Expr) -> Block:
    """``[[d2J/da2, (d/da grad_w J)^T], [d/da grad_w J, D_w grad_w J]]``."""
    Ja, Jw = gradient(J)
    return Block(
        sp.simplify(sp.diff(Ja, A.a)),
        A.grad_w(Ja).simplify(),
        A.jacobian_w(Jw).simplify(),
    )


def bngd_step(J: sp.Expr, eps_a: sp.Expr = A.eps_a, eps: sp.Expr = A.eps) -> tuple[sp.Expr, A.Vec]:
    """Gradient descent on ``J`` with step ``eps_a`` for ``a`` and ``eps`` for ``w``:
    ``(a - eps_a dJ/da, w - eps grad_w J)``."""
    Ja, Jw = gradient(J)
    return sp.simplify(A.a - eps_a * Ja), (A.w - Jw * eps).simplify()


# ----------------------------------------------------------------------------------------------
# explicit instances
# ----------------------------------------------------------------------------------------------


def explicit_objective(inst) -> object:
    """``(u - a t w)^T H (u - a t w) / 2`` in an explicit instance (``t = 1/sigma``)."""
    r = [inst.u[i] - inst.a * inst.t * inst.w[i] for i in range(inst.d)]
    return inst.dot(r, inst.mv(inst.H, r)) / 2


def explicit_objective_g(inst, c) -> object:
    """``c/2 - a t w^T g + a^2 t^2 (w^T H w) / 2`` for an instance with free ``g`` (``gvec=True``):
    the expanded definition (Eq. 7) before using ``t^2 P = 1``."""
    return c / 2 - inst.a * inst.t * inst.y + inst.a**2 * inst.t**2 * inst.P / 2


def explicit_definition(inst, c) -> object:
    """Eq. (7) from its definition in an explicit instance: ``E[(Y - a t x^T w)^2]/2`` expanded as a
    polynomial in the random ``Y, x_1..x_d`` and reduced with the moments ``E[Y^2] = c``,
    ``E[x_i Y] = g_i``, ``E[x_i x_j] = h_ij`` (Eq. 1)."""
    d = inst.d
    Ys = sp.Symbol("Y")
    xs = sp.symbols(f"x0:{d}")
    at, ws = sp.symbols("AT"), sp.symbols(f"W0:{d}")
    integrand = sp.expand((Ys - at * sum(xs[i] * ws[i] for i in range(d))) ** 2 / 2)
    poly = sp.Poly(integrand, Ys, *xs)
    out = inst.K(0)
    for monom, coeff in poly.terms():
        ey, ex = monom[0], monom[1:]
        idx = [i for i, e in enumerate(ex) for _ in range(e)]
        if ey == 2:
            m = c
        elif ey == 1 and len(idx) == 1:
            m = inst.g[idx[0]]
        elif ey == 0 and len(idx) == 2:
            m = inst.H[idx[0]][idx[1]]
        else:
            raise ValueError(f"moment {monom} not in Eq. (1)")
        cf = inst.K.from_expr(
            coeff.xreplace(
                {
                    at: sp.Symbol("a") * sp.Symbol("t"),
                    **{ws[i]: sp.Symbol(f"w{i}") for i in range(d)},
                }
            )
        )
        out = out + cf * m
    return out


def numeric_definition_gap(pt, formula: sp.Expr) -> object:
    """50-digit check of Eq. (7) on an *empirical* distribution of n samples (x_n, y_n): H, g, c are
    its exact moments, J_(7) its exact average, compared with ``formula`` evaluated with those
    moments (``formula`` in the invariants and ``c``)."""
    import mpmath
    import numpy as np

    d = pt.d
    rng = np.random.default_rng([11, d])
    n = 3 * d + 2
    X = [mpmath.matrix([mpmath.mpf(float(v)) for v in rng.standard_normal(d)]) for _ in range(n)]
    Yv = [mpmath.mpf(float(v)) for v in rng.standard_normal(n)]
    H = sum((xx * xx.T for xx in X), mpmath.matrix(d, d)) / n
    gv = sum((X[i] * Yv[i] for i in range(n)), mpmath.matrix(d, 1)) / n
    cv = mpmath.fsum(v * v for v in Yv) / n
    uv = mpmath.lu_solve(H, gv)
    wv, av = pt.vecs["w"], pt.a
    s = mpmath.sqrt(pt.dot(wv, H * wv))
    J7 = mpmath.fsum((Yv[i] - av * pt.dot(X[i], wv) / s) ** 2 for i in range(n)) / (2 * n)
    vals = {A.sigma: s, A.y: pt.dot(wv, gv), A.nu: pt.dot(uv, gv), A.a: av, A.c: cv}
    syms = sorted(formula.free_symbols, key=lambda z: z.name)
    fn = sp.lambdify(syms, formula, modules="mpmath")
    return J7 - fn(*[vals[z] for z in syms])

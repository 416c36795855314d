"""Appendix A, symbolically: the objective, its gradient and Hessian, critical points, H*, the
scaling law for general losses, and the norm identities (Eq. 16-26, 29-33, 40, 70).

Read top to bottom like Appendix A.1-A.5.  Every derivation holds for general dimension d (the
index-free calculus of ``bnverify.symbolic.algebra``), is cross-checked exactly on explicit
symbolic instances d = 1..4 (``bnverify.symbolic.explicit``) and numerically at 50 digits against
``mpmath`` finite differences (``bnverify.symbolic.numeric``).

Notation in the formulas below: ``y = w^T g``, ``sigma = sqrt(w^T H w)``, ``nu = u^T H u``,
``c = E[y^2]`` (the output's second moment; ``c - nu`` is the noise variance).
"""

from __future__ import annotations

import mpmath
import sympy as sp
from sympy import QQ
from sympy.polys.fields import field

from bnverify.symbolic import algebra as A
from bnverify.symbolic import objective as O
from bnverify.symbolic.derivation import Block, Derivation, derivation
from bnverify.symbolic.explicit import Instance

a, sigma, y, nu, c = A.a, A.sigma, A.y, A.nu, A.c
g, w, u, Hw = A.g, A.w, A.u, A.Hw
s_ = sp.Symbol("s", positive=True)  # w* = s u with s > 0 (the case s < 0 is handled by s -> -s)


# ----------------------------------------------------------------------------------------------
# A.1 eq. (16): the equivalent form of the objective                                    [E16]
# ----------------------------------------------------------------------------------------------


@derivation(
    "E16",
    "Equivalent form of the objective (eq. 16)",
    reading="Eq. (16) as printed: 'The objective function in problem (7) has an equivalent form: "
    "J(a,w) = 1/2 (u - a w/sigma)^T H (u - a w/sigma) = 1/2 ||u||_H^2 - (w^T g/sigma) a + a^2/2'. "
    "Read literally: the same function J as in Eq. (7), whose model (Sec. 2) allows noise.",
)
def e16(D: Derivation) -> None:
    Jq = O.objective_quadratic()
    D.step(
        "Expand the quadratic form with the inner products of the algebra "
        "(u^T H u = nu, w^T H u = y, w^T H w = sigma^2):",
        Jq,
        lhs="\\tfrac12 (u - \\tfrac{a}{\\sigma} w)^T H (u - \\tfrac{a}{\\sigma} w)",
    )
    rhs = D.printed("right side of (16)", nu / 2 - y / sigma * a + a**2 / 2)
    D.compare("right side of (16)", rhs, Jq)
    _, J7 = O.objective_definition()
    D.step("The objective of Eq. (7) from its definition (see S2.BN-objective):", J7, lhs="J_{(7)}")
    gap = sp.simplify(J7 - Jq)
    D.step("Their difference is a constant:", gap, lhs="J_{(7)} - J_{(16)}")
    noise = O.expectation((O.Y - O.Z) ** 2).xreplace({A.y: nu, A.sigma: sp.sqrt(nu)})
    D.step(
        "and 2 (J_(7) - J_(16)) = c - nu is the noise variance E[(y - x^T u)^2] "
        "(same moment rules with w replaced by u):",
        noise,
        lhs="E[(y - x^T u)^2]",
    )
    D.step(
        "Hence J_(7) = J_(16) + (c - nu)/2: equal iff the data are noise-free (c = u^T H u); "
        "the constant does not depend on (a, w), so gradients, Hessians, critical points and BNGD "
        "iterates of the two forms coincide:",
        sp.Tuple(sp.diff(gap, a), sp.Integer(0)),
        lhs="\\left(\\partial_a, \\nabla_w\\right)(J_{(7)} - J_{(16)})",
    )
    # the printed claim: J of (7) equals the left side of (16)
    D.compare("J of eq. (7) vs eq. (16)", D.printed("J (16) as J (7)", Jq), J7)
    # counterexample: d = 1, H = 1, u = 1, noise variance 1 (c = 2), a = 1, w = 1
    vals = {a: 1, sigma: 1, y: 1, nu: 1, c: 2}
    j7, j16 = J7.subs(vals), Jq.subs(vals)
    D.counterexample(
        {
            "d": 1,
            "H": [[1]],
            "u": [1],
            "c": 2,
            "noise_variance": 1,
            "a": 1,
            "w": [1],
            "J_eq7": str(j7),
            "J_eq16": str(j16),
        },
        f"d=1, H=1, u=1, E[y^2]=2 (noise variance 1), a=1, w=1: J(7) = {j7}, eq. (16) gives {j16}",
        confirmed=(j7 != j16),
    )
    ok = D.compare(
        "corrected: J_(7) = J_(16) + (c - nu)/2", Jq + (c - nu) / 2, J7, role="corrected"
    )

    def exact(d: int) -> bool:
        inst = Instance(d, extra=("c",))
        lhs = O.explicit_objective(inst)
        return inst.is_zero(lhs - inst.scalar(Jq)) and inst.is_zero(
            O.explicit_definition(inst, inst.gen["c"]) - inst.scalar(Jq + (c - nu) / 2)
        )

    ok &= D.exact("eq. (16) both sides and J_(7) - J_(16) = (c - nu)/2 on explicit matrices", exact)
    ok &= D.numeric(
        "empirical distribution: J_(7) as a 50-digit average vs J_(16) + (c - nu)/2",
        lambda pt: O.numeric_definition_gap(pt, Jq + (c - nu) / 2),
    )
    D.correct(
        "J_(7)(a,w) = 1/2 (u - a w/sigma)^T H (u - a w/sigma) + (c - u^T H u)/2 = "
        "c/2 - (w^T g/sigma) a + a^2/2, where c - u^T H u = E[(y - x^T u)^2] >= 0 is the noise "
        "variance; Eq. (16) equals J_(7) iff the data are noise-free, and differs from it by a "
        "constant otherwise (same gradients, Hessians, critical points and BNGD iterates).",
        ok,
        "general-d SymPy identity, exact d=1..4, 50-digit empirical-distribution check",
    )


# ----------------------------------------------------------------------------------------------
# A.1 eq. (17)-(18): gradients                                                       [E17-18]
# ----------------------------------------------------------------------------------------------


def _J() -> sp.Expr:
    return O.objective_quadratic()


@derivation(
    "E17-18",
    "Gradients of J (eq. 17-18)",
    reading="Eq. (17): dJ/da = -(1/sigma)(w^T H u - a w^T H w/sigma) = -(1/sigma) w^T g + a; "
    "Eq. (18): dJ/dw = -(a/sigma) g + (a/sigma^3)(w^T g) H w (fractions restored from the "
    "extraction '-a g + [a/sigma^3] (wT g)Hw').",
)
def e17_18(D: Derivation) -> None:
    J = _J()
    D.step("Objective (Eq. 16, derived in E16):", J, lhs="J")
    Ja, Jw = O.gradient(J)
    D.step("d/da (SymPy diff):", Ja, lhs="\\partial_a J")
    D.step(
        "grad_w by the chain rule on the invariants: grad_w y = g, grad_w sigma = H w / sigma:",
        Jw,
        lhs="\\nabla_w J",
    )
    D.compare(
        "dJ/da, middle form of (17)",
        D.printed("dJ/da middle", -(1 / sigma) * (y - a * sigma**2 / sigma)),
        Ja,
    )
    D.compare("dJ/da (17)", D.printed("dJ/da", -y / sigma + a), Ja)
    D.compare(
        "grad_w J (18)",
        D.printed("grad_w J", g * (-a / sigma) + Hw * (a * y / sigma**3)),
        Jw,
    )

    def exact(d: int) -> bool:
        inst = Instance(d)
        Jx = O.explicit_objective(inst)
        gw = inst.grad_w(Jx)
        return inst.zero_all(
            [Jx.diff(inst.a) - inst.scalar(Ja)] + [gw[i] - v for i, v in enumerate(inst.vector(Jw))]
        )

    D.exact("direct coordinate-wise differentiation of the explicit J", exact)

    def num(pt):
        fd = pt.fd_gradient(pt.J16, pt.a, pt.vecs["w"])
        gv = pt.vector(Jw)
        return [fd[0] - pt.scalar(Ja)] + [fd[i + 1] - gv[i] for i in range(pt.d)]

    D.numeric("mpmath finite differences of J(a, w) from its definition", num)


# ----------------------------------------------------------------------------------------------
# A.1 eq. (19)-(21): Hessian blocks                                                  [E19-21]
# ----------------------------------------------------------------------------------------------

A22_PRINTED = (
    A.Mat.H() * y
    + A.Mat.outer(Hw, g)
    + A.Mat.outer(g, Hw)
    - A.Mat.outer(Hw, Hw) * (3 * y / sigma**2)
) * (a / sigma**3)


@derivation(
    "E19-21",
    "Hessian blocks (eq. 19-21)",
    reading="Extraction: 'A22 = σ(WTg)hH + WTg ((HW)gT + g(Hw)T) - σ32(HW)(HW)Ti', 'h'/'i' being "
    "the big brackets.  Read (catalogue) as A22 = (a/sigma^3)[(w^T g) H + (Hw) g^T + g (Hw)^T "
    "- (3 w^T g/sigma^2)(Hw)(Hw)^T]; the factored reading (a/sigma^3)(w^T g)[H + ((Hw)g^T + "
    "g(Hw)^T)/(w^T g) - (3/sigma^2)(Hw)(Hw)^T] is also compared (the lost numerator and exponent "
    "are fixed by homogeneity: A22 must be homogeneous of degree -2 in w).  A21 = -(1/sigma)(g - "
    "(w^T g/sigma^2) H w), d2J/da2 = 1.",
)
def e19_21(D: Derivation) -> None:
    J = _J()
    Hs = O.hessian(J)
    D.step("Differentiate dJ/da once more in a:", Hs.aa, lhs="\\partial_a^2 J")
    D.step("grad_w of dJ/da = -y/sigma + a:", Hs.aw, lhs="A_{21} = \\nabla_w \\partial_a J")
    D.step(
        "Jacobian of grad_w J (product rule D_w(c(w) v) = v (grad c)^T + c D_w v, "
        "with D_w g = 0 and D_w (Hw) = H):",
        Hs.ww,
        lhs="A_{22} = D_w \\nabla_w J",
    )
    D.compare("d2J/da2 (19)", D.printed("d2J/da2", sp.Integer(1)), Hs.aa)
    D.compare(
        "A21 (21)",
        D.printed("A21", (g - Hw * (y / sigma**2)) * (-1 / sigma)),
        Hs.aw,
    )
    D.compare("A22 (20), catalogue reading", D.printed("A22", A22_PRINTED), Hs.ww)
    factored = (
        A.Mat.H()
        + (A.Mat.outer(Hw, g) + A.Mat.outer(g, Hw)) / y
        - A.Mat.outer(Hw, Hw) * (3 / sigma**2)
    ) * (a * y / sigma**3)
    D.compare("A22 (20), factored reading (for w^T g != 0)", factored, Hs.ww)
    D.remark(
        "The factored reading divides by w^T g: it is the same matrix wherever w^T g != 0 but "
        "cannot be evaluated at the saddle points (w^T g = 0) where Sec. A.1 uses the Hessian; "
        "the expanded form above is the one valid everywhere."
    )

    def exact(d: int) -> bool:
        inst = Instance(d)
        Jx = O.explicit_objective(inst)
        Jxa = Jx.diff(inst.a)
        hw = inst.hess_w(Jx)
        A21 = inst.vector(Hs.aw)
        A22 = inst.matrix(Hs.ww)
        return inst.zero_all(
            [Jxa.diff(inst.a) - inst.scalar(Hs.aa)]
            + [inst.d_w(Jxa, i) - A21[i] for i in range(d)]
            + [hw[i][j] - A22[i][j] for i in range(d) for j in range(d)]
        )

    D.exact("direct second derivatives of the explicit J", exact)

    def num(pt):
        fd = pt.fd_hessian(pt.J16, pt.a, pt.vecs["w"])
        A21 = pt.vector(Hs.aw)
        A22 = pt.matrix(Hs.ww)
        errs = [fd[0, 0] - pt.scalar(Hs.aa)]
        errs += [fd[i + 1, 0] - A21[i] for i in range(pt.d)]
        errs += [fd[i + 1, j + 1] - A22[i, j] for i in range(pt.d) for j in range(pt.d)]
        return errs

    D.numeric("mpmath second-order finite differences of J", num)


# ----------------------------------------------------------------------------------------------
# A.1: the Hessian at the trivial critical points (saddles)                        [A1.saddle-eigs]
# ----------------------------------------------------------------------------------------------

d_ = sp.Symbol("d", positive=True, integer=True)
beta = sp.Symbol("beta", positive=True)  # ||g||^2 / sigma^2 at the saddle


def saddle_hessian(D: Derivation | None = None) -> Block:
    """The Hessian of J at ``a = 0, w^T g = 0``, derived from the general Hessian."""
    Hs = O.hessian(_J())
    at = Block(
        Hs.aa.subs(a, 0), Hs.aw.subs({a: 0, y: 0}).simplify(), Hs.ww.subs({a: 0, y: 0}).simplify()
    )
    if D is not None:
        D.step(
            "Hessian (E19-21) at a = 0, w^T g = 0: the w-block vanishes (it carries a factor a):",
            at,
            lhs="\\nabla^2 J(0, w^*)",
        )
    return at


def saddle_charpoly(D: Derivation | None = None) -> tuple[sp.Expr, sp.Expr]:
    """Characteristic polynomial of ``[[1, b^T], [b, 0_d]]`` for general d (Schur complement)."""
    lam = A.lam
    schur = lam**d_ * (lam - 1 - beta / lam)
    cp = sp.factor(sp.expand(schur))
    if D is not None:
        D.step(
            "Characteristic polynomial for general d by the Schur complement of the d x d block "
            "lambda I_d: det(lambda I - M) = lambda^d (lambda - 1 - b^T b / lambda), with "
            "b^T b = ||g||^2/sigma^2 =: beta:",
            cp,
            lhs="\\det(\\lambda I_{d+1} - \\nabla^2 J)",
        )
    return cp, lam


def explicit_saddle_charpoly_ok(d: int) -> bool:
    """Exact: at a = 0 the directly differentiated Hessian of an explicit instance is
    [[1, b^T], [b, 0]] with b = -t (g - y t^2 H w) (so b = -g/sigma on the saddle set y = 0), and
    det(lambda I - [[1, b^T], [b, 0]]) = lambda^(d-1) (lambda^2 - lambda - b^T b) for free b."""
    inst = Instance(d, extra=("c",), gvec=True)
    K = inst.K
    Jx = O.explicit_objective_g(inst, inst.gen["c"])
    Ja = Jx.diff(inst.a)
    hw = inst.hess_w(Jx)
    at0 = {"a": K(0)}
    errs = [inst.subs(Ja.diff(inst.a), at0) - K(1)]
    errs += [
        inst.subs(inst.d_w(Ja, i), at0) + inst.t * (inst.g[i] - inst.y * inst.t**2 * inst.Hw[i])
        for i in range(d)
    ]
    errs += [inst.subs(hw[i][j], at0) for i in range(d) for j in range(d)]
    ok = inst.zero_all(errs)
    F, *gens = field(",".join(["lam"] + [f"b{i}" for i in range(d)]), QQ)
    lam, bs = gens[0], gens[1:]
    M = [[F(1)] + list(bs)] + [[bs[i]] + [F(0)] * d for i in range(d)]
    n = d + 1
    cp = _det([[(lam if i == j else F(0)) - M[i][j] for j in range(n)] for i in range(n)], F)
    bb = sum((b * b for b in bs), F(0))
    return ok and (cp - lam ** (d - 1) * (lam**2 - lam - bb)) == 0


def _det(M, K):
    """Determinant by Gaussian elimination over the field (exact)."""
    M = [row[:] for row in M]
    n = len(M)
    det = K(1)
    for col in range(n):
        piv = next((r for r in range(col, n) if M[r][col] != 0), None)
        if piv is None:
            return K(0)
        if piv != col:
            M[col], M[piv] = M[piv], M[col]
            det = -det
        det = det * M[col][col]
        for r in range(col + 1, n):
            f = M[r][col] / M[col][col]
            if f != 0:
                M[r] = [M[r][j] - f * M[col][j] for j in range(n)]
    return det


def numeric_saddle_spectrum(pt) -> tuple[list, mpmath.mpf]:
    """Eigenvalues of the finite-difference Hessian at a random saddle, and beta."""
    gv = pt.H * pt.vecs["u"]
    v = pt.vecs["v"]
    wsad = v - (pt.dot(v, gv) / pt.dot(gv, gv)) * gv  # w^T g = 0
    Hfd = pt.fd_hessian(pt.J16, mpmath.mpf(0), wsad)
    ev = sorted(mpmath.eigsy(Hfd)[0])
    b = pt.dot(gv, gv) / pt.dot(wsad, pt.H * wsad)
    return ev, b


@derivation(
    "A1.saddle-eigs",
    "Spectrum of the Hessian at the saddle points (Sec. A.1)",
    reading="Sec. A.1: eigenvalues {1/2 (1 +- sqrt(1 + 4||g||^2/(w*^T H w*))), 0, ..., 0}, 'which "
    "contains d-2 repeated zero, a positive and a negative eigenvalue'; w in R^d (Sec. 2), so the "
    "Hessian in (a, w) is (d+1) x (d+1).",
)
def a1_saddle_eigs(D: Derivation) -> None:
    saddle_hessian(D)
    cp, lam = saddle_charpoly(D)
    roots = sp.solve(sp.expand(lam**2 - lam - beta), lam)
    roots = sorted(roots, key=sp.default_sort_key)
    D.step("Nonzero roots (the quadratic factor):", sp.FiniteSet(*roots), lhs="\\lambda_\\pm")
    quad = sp.expand(lam**2 - lam - beta)
    D.step(
        "The quadratic factor does not vanish at 0 (beta > 0 when g != 0):",
        quad.subs(lam, 0),
        lhs="(\\lambda^2 - \\lambda - \\beta)|_{\\lambda=0}",
    )
    powers = sp.powsimp(cp).as_powers_dict()
    mult0 = sp.simplify(powers.get(lam, 0))
    D.step(
        "so 0 has multiplicity d - 1 (the exponent of lambda), and the matrix has rank 2:",
        mult0,
        lhs="m(0)",
    )
    printed_pm = sp.FiniteSet(
        *sorted(
            [(1 + sp.sqrt(1 + 4 * beta)) / 2, (1 - sp.sqrt(1 + 4 * beta)) / 2],
            key=sp.default_sort_key,
        )
    )
    D.compare("nonzero eigenvalues", D.printed("eigenvalues", printed_pm), sp.FiniteSet(*roots))
    D.compare("multiplicity of the eigenvalue 0", D.printed("zero multiplicity", d_ - 2), mult0)
    # minimal counterexample: d = 2, H = I, u = e1, w* = e2, a* = 0 (a direct SymPy Hessian)
    a_s, w1, w2 = sp.symbols("a w1 w2", real=True)
    wv = sp.Matrix([w1, w2])
    uv = sp.Matrix([1, 0])
    sig = sp.sqrt(w1**2 + w2**2)
    r = uv - a_s * wv / sig
    Jd = (r.T * r)[0] / 2
    Hd = sp.hessian(Jd, (a_s, w1, w2)).subs({a_s: 0, w1: 0, w2: 1})
    ev = Hd.eigenvals()
    zeros = ev.get(0, 0)
    D.counterexample(
        {
            "d": 2,
            "H": [[1, 0], [0, 1]],
            "u": [1, 0],
            "w_star": [0, 1],
            "a_star": 0,
            "hessian": [[str(e) for e in row] for row in Hd.tolist()],
            "eigenvalues": {str(k): v for k, v in ev.items()},
            "printed_zero_multiplicity": 0,
            "actual_zero_multiplicity": zeros,
        },
        f"d=2, H=I, u=(1,0), w*=(0,1), a*=0: the 3x3 Hessian {Hd.tolist()} has eigenvalues "
        f"(1 +- sqrt 5)/2 and 0 with multiplicity {zeros}; the printed count d-2 gives 0 zeros "
        "(and only d = 2 eigenvalues for a 3 x 3 matrix)",
        confirmed=(zeros == 1),
    )
    ok = D.compare("corrected: multiplicity of 0 is d - 1", d_ - 1, mult0, role="corrected")
    ok &= D.exact(
        "explicit Hessian at a = 0 is [[1, b^T], [b, 0]], b = -(g - y H w/sigma^2)/sigma, "
        "and its charpoly is lambda^(d-1)(lambda^2 - lambda - b^T b)",
        explicit_saddle_charpoly_ok,
    )

    def num(pt):
        ev, b = numeric_saddle_spectrum(pt)
        lm, lp = (1 - mpmath.sqrt(1 + 4 * b)) / 2, (1 + mpmath.sqrt(1 + 4 * b)) / 2
        # sorted: lambda_-, then d - 1 zeros, then lambda_+
        return [ev[0] - lm, ev[-1] - lp] + list(ev[1:-1])

    ok &= D.numeric(
        "eigenvalues (mpmath eigsy) of the finite-difference Hessian at random saddles: "
        "lambda_-, d-1 zeros, lambda_+",
        num,
    )
    D.correct(
        "At a saddle (0, w*) (w*^T g = 0) the Hessian of J in (a, w) in R^{d+1} is [[1, -g^T/sigma*], "
        "[-g/sigma*, 0]], of rank 2: eigenvalues 1/2 (1 +- sqrt(1 + 4||g||^2/(w*^T H w*))) (one "
        "positive, one negative) and 0 repeated d - 1 times.  (The printed 'd - 2' is right only if "
        "d counts the coordinates of (a, w), as x = (a, w) in R^d in Sec. A.4.)",
        ok,
        "Schur-complement characteristic polynomial for general d, exact d=2..4, 50-digit numeric",
    )
    D.note("For d = 1 the saddle set {a = 0, w^T g = 0, w != 0} is empty when g != 0.")


# ----------------------------------------------------------------------------------------------
# A.1 eq. (22)-(23): nontrivial critical points and the Hessian there                   [E22-23]
# ----------------------------------------------------------------------------------------------


def minimizer_derivation(D: Derivation) -> tuple[Block, A.Mat]:
    """Critical points with a != 0 and the Hessian there; returns (Hessian at w* = s u, s > 0, H*)."""
    J = _J()
    Ja, Jw = O.gradient(J)
    D.step("Critical points: dJ/da = 0 gives a = w^T g / sigma;", sp.solve(Ja, a)[0], lhs="a")
    D.step(
        "and grad_w J = (a/sigma) H (-u + (y/sigma^2) w), so for a != 0 (H invertible) "
        "w = (sigma^2/y) u: w is parallel to u, w* = s u (s != 0).  With w = s u:",
        A.substitute_vector(Jw, "w", u * s_).subs(a, sp.sqrt(nu)).simplify(),
        lhs="\\nabla_w J(\\sqrt{\\nu}, s u)",
    )
    astar = sp.simplify(A.substitute_vector(y / sigma, "w", u * s_))
    D.step("The a-equation at w = s u, s > 0 (s < 0 flips the sign):", astar, lhs="a^*")
    Jmin = sp.simplify(A.substitute_vector(J, "w", u * s_).subs(a, astar))
    D.step(
        "J at (a*, s u): the minimum of the nonnegative quadratic form (16):",
        Jmin,
        lhs="J(a^*, s u)",
    )
    Hs = O.hessian(J)
    at = Block(
        sp.simplify(A.substitute_vector(Hs.aa, "w", u * s_).subs(a, astar)),
        A.substitute_vector(Hs.aw, "w", u * s_).subs(a, astar).simplify(),
        A.substitute_vector(Hs.ww, "w", u * s_).subs(a, astar).simplify(),
    )
    D.step("Hessian (E19-21) at (a*, s u), s > 0:", at, lhs="\\nabla^2 J(a^*, s u)")
    Hstar = A.Mat.H() - A.Mat.outer(g, g) / nu
    D.step(
        "In terms of H* = H - H u u^T H/(u^T H u) = H - g g^T/nu the w-block is H*/s^2:",
        at.ww - Hstar / s_**2,
        lhs="A_{22} - H^*/s^2",
    )
    return at, Hstar


def minimizer_hessian_compare(D: Derivation, at: Block, Hstar: A.Mat) -> None:
    """Compare the printed Hessian diag(1, H*/||w*||^2) and record the counterexample/correction."""
    unorm2 = A.invariant("u", 0, "u")
    printed = D.printed(
        "Hessian at minimizer", Block(sp.Integer(1), A.Vec(), Hstar / (s_**2 * unorm2))
    )
    D.compare("Hessian diag(1, H*/||w*||^2) with ||w*||^2 = s^2 ||u||^2", printed, at)
    # counterexample: d = 2, H = I, u = (2, 0), s = 1 (w* = u, a* = 2): direct SymPy Hessian
    a_s, w1, w2 = sp.symbols("a w1 w2", real=True)
    wv, uv = sp.Matrix([w1, w2]), sp.Matrix([2, 0])
    r = uv - a_s * wv / sp.sqrt(w1**2 + w2**2)
    Hd = sp.hessian((r.T * r)[0] / 2, (a_s, w1, w2)).subs({a_s: 2, w1: 2, w2: 0})
    Hst = sp.eye(2) - uv * uv.T / 4
    pr = sp.diag(1, Hst / 4)
    D.counterexample(
        {
            "d": 2,
            "H": [[1, 0], [0, 1]],
            "u": [2, 0],
            "w_star": [2, 0],
            "a_star": 2,
            "hessian": [[str(e) for e in row] for row in Hd.tolist()],
            "printed": [[str(e) for e in row] for row in pr.tolist()],
        },
        f"d=2, H=I, u=(2,0), w*=u, a*=2: the Hessian is {Hd.tolist()}, the printed "
        f"diag(1, H*/||w*||^2) is {pr.tolist()}",
        confirmed=(Hd != pr),
    )
    ok = D.compare(
        "corrected: diag(1, H*/s^2) = diag(1, ||u||^2 H*/||w*||^2)",
        Block(sp.Integer(1), A.Vec(), Hstar / s_**2),
        at,
        role="corrected",
    )

    Hgen = O.hessian(_J())

    def exact(d: int) -> bool:
        # the general Hessian (checked against direct differentiation for d = 1..4 in E19-21),
        # instantiated with explicit matrices, at w = s u, a = sign(s) sqrt(nu) = s nu q,
        # 1/sigma = q, where q^2 s^2 nu = 1 (this covers both signs of s)
        inst = Instance(d, extra=("s", "q"))
        K = inst.K
        s, q = inst.gen["s"], inst.gen["q"]
        sub = {**{f"w{i}": s * inst.u[i] for i in range(d)}, "a": s * inst.nu * q, "t": q}
        rel = [("q", s**2 * inst.nu)]
        A21 = inst.vector(Hgen.aw)
        A22 = inst.matrix(Hgen.ww)
        nu_, g_ = inst.nu, inst.g
        ok = inst.equal_frac(inst.subs_frac(inst.scalar(Hgen.aa), sub), K(1), rel)
        ok &= all(inst.equal_frac(inst.subs_frac(A21[i], sub), K(0), rel) for i in range(d))
        for i in range(d):
            for j in range(i, d):
                hst = (inst.H[i][j] * nu_ - g_[i] * g_[j], nu_ * s**2)  # H*_ij / s^2 as a pair
                ok &= inst.equal_frac(inst.subs_frac(A22[i][j], sub), hst, rel)
        return ok

    ok &= D.exact(
        "Hessian of E19-21 on explicit matrices at w = s u, a = sign(s) sqrt(nu) "
        "(both signs of s) equals diag(1, H*/s^2)",
        exact,
    )

    def num(pt):
        sv = mpmath.mpf("0.7")
        uu = pt.vecs["u"]
        ws = sv * uu
        nuv = pt.dot(uu, pt.H * uu)
        Hfd = pt.fd_hessian(pt.J16, mpmath.sqrt(nuv), ws)
        gv = pt.H * uu
        Hst = (pt.H - (gv * gv.T) / nuv) / sv**2
        errs = [Hfd[0, 0] - 1] + [Hfd[0, i + 1] for i in range(pt.d)]
        errs += [Hfd[i + 1, j + 1] - Hst[i, j] for i in range(pt.d) for j in range(pt.d)]
        return errs

    ok &= D.numeric("finite-difference Hessian at random minimizers (s = 0.7)", num)
    D.correct(
        "The Hessian of J at a global minimizer (a*, w*) = (sign(s) sqrt(u^T H u), s u) is "
        "diag(1, H*/s^2) = diag(1, ||u||^2 H*/||w*||^2); it equals the printed diag(1, H*/||w*||^2) "
        "iff ||u|| = 1 (the normalisation Sec. A.3 adopts later).",
        ok,
        "general-d derivation, exact d=1..4 at w = s u, 50-digit finite differences",
    )


@derivation(
    "E22-23",
    "Nontrivial critical points and the Hessian there (eq. 22-23)",
    reading="Eq. (22): a* = +-sqrt(u^T H u), w* parallel to u, sign(a*) = sign(u^T w*); 'global "
    "minimizers'; 'The Hessian matrix at those minimizers is diag(1, H*/||w*||^2)' with H* of Eq. "
    "(23); no normalisation of u is in force at this point (||u|| = 1 is set only in Sec. A.3).",
)
def e22_23(D: Derivation) -> None:
    at, Hstar = minimizer_derivation(D)
    astar = sp.simplify(A.substitute_vector(y / sigma, "w", u * s_))
    D.compare("a* = sqrt(u^T H u) for s > 0", D.printed("a*", sp.sqrt(nu)), astar)
    unorm2 = A.invariant("u", 0, "u")
    D.compare(
        "sign(a*) = sign(u^T w*) (u^T w* = s ||u||^2, s > 0)",
        D.printed("sign rule", sp.sign(A.substitute_vector(A.invariant("w", 0, "u"), "w", u * s_))),
        sp.sign(astar),
    )
    del unorm2
    Jmin = sp.simplify(A.substitute_vector(_J(), "w", u * s_).subs(a, astar))
    D.compare(
        "J(a*, w*) = 0 = min of (16) (global minimum)", D.printed("J min", sp.Integer(0)), Jmin
    )
    minimizer_hessian_compare(D, at, Hstar)


# ----------------------------------------------------------------------------------------------
# A.1 eq. (25)-(26): quadratic-form identities of H*                                  [E25, E26]
# ----------------------------------------------------------------------------------------------


def _hstar() -> A.Mat:
    return A.Mat.H() - A.Mat.outer(g, g) / nu


@derivation(
    "E25",
    "Quadratic form of H* (eq. 25)",
    reading="Eq. (25): x^T H* x = x^T H x - (x^T H u)^2/(u^T H u) in [0, x^T H x].",
)
def e25(D: Derivation) -> None:
    xv = A.x
    Hst = _hstar()
    D.step("H* (Eq. 23) in the basis:", Hst, lhs="H^*")
    q = sp.simplify(Hst.quad(xv))
    D.step("x^T H* x by the algebra:", q, lhs="x^T H^* x")
    xHx, xHu = A.invariant("x", 1, "x"), A.invariant("u", 1, "x")
    D.compare("x^T H* x (25)", D.printed("quadratic form", xHx - xHu**2 / nu), q)
    ts = xHu / nu
    r = xv - u * ts
    cs = sp.simplify(nu * r.hdot(r) - nu * q)
    D.step(
        "Lower bound: nu x^T H* x = nu ||x - t* u||_H^2 with t* = x^T H u/nu (difference):",
        cs,
        lhs="\\nu \\|x - t^* u\\|_H^2 - \\nu\\, x^T H^* x",
    )
    D.step(
        "Upper bound: x^T H x - x^T H* x is a square over nu > 0:",
        sp.factor(xHx - q),
        lhs="x^T H x - x^T H^* x",
    )
    D.compare("lower bound certificate nu x^T H* x = nu ||x - t* u||_H^2", sp.Integer(0), cs)
    D.compare(
        "upper bound x^T H x - x^T H* x = (x^T H u)^2/nu >= 0",
        D.printed("upper gap", xHu**2 / nu),
        sp.simplify(xHx - q),
    )

    def exact(d: int) -> bool:
        inst = Instance(d)  # the vector w of the instance plays x; nu H* = nu H - g g^T
        xx = inst.w
        nuHst = [
            [inst.nu * inst.H[i][j] - inst.g[i] * inst.g[j] for j in range(d)] for i in range(d)
        ]
        lhs = inst.dot(xx, inst.mv(nuHst, xx))
        rhs = inst.nu * inst.dot(xx, inst.Hw) - inst.dot(xx, inst.g) ** 2
        return inst.is_zero(lhs - rhs)

    D.exact("explicit H* = H - H u u^T H/(u^T H u)", exact)

    def num(pt):
        xx, uu = pt.vecs["x"], pt.vecs["u"]
        gv = pt.H * uu
        nuv = pt.dot(uu, gv)
        Hst_m = pt.H - gv * gv.T / nuv
        lhs = pt.dot(xx, Hst_m * xx)
        rhs = pt.dot(xx, pt.H * xx) - pt.dot(xx, gv) ** 2 / nuv
        bounds_ok = 0 <= lhs <= pt.dot(xx, pt.H * xx)
        return [lhs - rhs, 0 if bounds_ok else 1]

    D.numeric("explicit 50-digit H* at random points", num)


@derivation(
    "E26",
    "Variational form of H* (eq. 26)",
    reading="Eq. (26): x^T H* x = min_t ||x - t u||_H^2.",
)
def e26(D: Derivation) -> None:
    t = sp.Symbol("t", real=True)
    xv = A.x
    f = sp.expand((xv - u * t).hdot(xv - u * t))
    D.step("f(t) = ||x - t u||_H^2 expanded:", f, lhs="f(t)")
    crit = sp.solve(sp.diff(f, t), t)
    D.step("f'(t) = 0 at", crit[0], lhs="t^*")
    D.step(
        "f''(t) = 2 nu > 0, so t* is the global minimiser of the convex quadratic:",
        sp.diff(f, t, 2),
        lhs="f''",
    )
    fmin = sp.simplify(f.subs(t, crit[0]))
    D.step("Minimum value:", fmin, lhs="f(t^*)")
    q = sp.simplify(_hstar().quad(xv))
    D.compare("min_t ||x - t u||_H^2 = x^T H* x", D.printed("x^T H* x", q), fmin)

    def exact(d: int) -> bool:
        # with t* = x^T g / nu, cleared of the denominator: nu (x - t* u) = nu x - (x^T g) u
        inst = Instance(d)  # the instance's w plays x
        xx = inst.w
        xg = inst.dot(xx, inst.g)
        r_nu = [inst.nu * xx[i] - xg * inst.u[i] for i in range(d)]
        fmin_nu2 = inst.dot(r_nu, inst.mv(inst.H, r_nu))  # nu^2 f(t*)
        dfdt_nu = -2 * inst.dot(inst.u, inst.mv(inst.H, r_nu))  # nu f'(t*)
        nuHst = [
            [inst.nu * inst.H[i][j] - inst.g[i] * inst.g[j] for j in range(d)] for i in range(d)
        ]
        return inst.is_zero(dfdt_nu) and inst.is_zero(
            fmin_nu2 - inst.nu * inst.dot(xx, inst.mv(nuHst, xx))
        )

    D.exact("explicit f(t*) = x^T H* x and f'(t*) = 0", exact)

    def num(pt):
        xx, uu = pt.vecs["x"], pt.vecs["u"]

        def fn(tv):
            r = xx - tv * uu
            return pt.dot(r, pt.H * r)

        tmin = mpmath.findroot(lambda tv: mpmath.diff(fn, tv), mpmath.mpf(0))
        gv = pt.H * uu
        nuv = pt.dot(uu, gv)
        Hst_m = pt.H - gv * gv.T / nuv
        return fn(tmin) - pt.dot(xx, Hst_m * xx)

    D.numeric("numerical minimisation over t (mpmath findroot on the derivative)", num)


# ----------------------------------------------------------------------------------------------
# A.2 eq. (29)-(33): the scaling law for a general loss                                  [L-A.9]
# ----------------------------------------------------------------------------------------------

r_ = sp.Symbol("r", positive=True)


@derivation(
    "L-A.9",
    "Scaling law for a general loss with BN (Lemma A.9, eq. 29-33)",
    reading="Lemma A.9: 'Suppose r = 0 [read r != 0], then the configurations {w0, eps, *} and "
    "{r w0, r^2 eps, *} are equivalent', '*' = all other parameters unchanged (a0 included), for "
    "J(a, w) = E f(y, a x^T w/sigma) and its gradient-descent iteration (31)-(32).",
)
def l_a9(D: Derivation) -> None:
    f = sp.Function("f")
    Zs = A.invariant("w", 0, "x")  # the random projection x^T w (x a sample of the input)
    F = f(O.Y, a * Zs / sigma)
    D.step("Integrand of J for one sample (x, y); J = E[F] and E is linear:", F, lhs="F(a, w)")
    Fw = A.grad_w(F)
    D.step(
        "Its w-gradient by the chain rule (grad_w x^T w = x, grad_w sigma = H w/sigma):",
        Fw,
        lhs="\\nabla_w F",
    )
    Fw_r = A.substitute_vector(Fw, "w", w * r_)
    F_r = A.substitute_vector(F, "w", w * r_)
    D.step(
        "For w -> r w, r > 0 (sigma -> r sigma, x^T w -> r x^T w) the integrand is unchanged:",
        sp.simplify(F_r - F),
        lhs="F(a, r w) - F(a, w)",
    )
    diff_w = (Fw_r * r_ - Fw).simplify()
    D.step(
        "and the gradient scales as 1/r:", diff_w, lhs="r \\nabla_w F(a, r w) - \\nabla_w F(a, w)"
    )
    D.step(
        "Hence, with J = E F: a-step unchanged, and the w-step maps r w_k - r^2 eps grad_w J(a_k, r w_k) "
        "= r (w_k - eps grad_w J(a_k, w_k)); by induction w'_k = r w_k, a'_k = a_k (T = r I, t = 1).",
        None,
    )
    D.compare("integrand invariance (r > 0)", F_r, F, role="corrected")
    D.compare("gradient scaling (r > 0)", Fw_r * r_, Fw, role="corrected")
    # r < 0: write r = -rho, rho > 0
    F_neg = sp.simplify(A.substitute_vector(F, "w", w * (-r_)))
    D.step(
        "For r < 0 (r = -rho) the BN output changes sign, so it is a -> -a that compensates:",
        F_neg,
        lhs="F(a, -\\rho w)",
    )
    D.compare(
        "{w0, eps, a0} ~ {r w0, r^2 eps, a0} also for r < 0 (integrand at r w, r < 0)",
        D.printed("negative r integrand", F),
        F_neg,
    )
    D.remark(
        "As extracted, Eq. (32) reads 'w_{k+1} = w_k + eps (a_k/sigma_k)(h - (w_k^T h/sigma_k^2) H w_k)' "
        "with h the gradient of the original problem (Eq. 33); gradient descent gives '-' in front "
        "of eps (for OLS, h = (a/sigma) H w - g turns this into Eq. (10)).  The sign does not affect "
        "the scaling law; the extraction may have lost it."
    )
    ce = _scaling_counterexample_r_negative()
    D.counterexample(ce[0], ce[1], confirmed=ce[2])

    def exact(d: int) -> bool:
        # the BN output z(a, w) = a x^T w / sigma and its gradient, explicit: z(a, r w) = z(a, w),
        # r grad z(a, r w) = grad z(a, w); F = f(y, z) then follows by the chain rule.
        inst = Instance(d, extra=("r", "zr", *[f"x{i}" for i in range(d)]))
        rr, zr = inst.gen["r"], inst.gen["zr"]  # zr = 1/r
        xs = [inst.gen[f"x{i}"] for i in range(d)]
        z = inst.a * inst.t * inst.dot(xs, inst.w)
        gz = inst.grad_w(z)
        sub = {**{f"w{i}": rr * inst.w[i] for i in range(d)}, "t": inst.t * zr}
        # sigma(r w) = r sigma(w) for r > 0: check (r w)^T H (r w) = r^2 w^T H w exactly first
        Pr = inst.subs(inst.P, sub)
        ok = inst.is_zero(Pr - rr**2 * inst.P)
        # gradient of z at r w: the derivative formula at the point r w (chain rule with t -> t/r)
        errs = [inst.subs(z, sub) - z] + [rr * inst.subs(gz[i], sub) - gz[i] for i in range(d)]
        rels = [("t", inst.P), ("zr", rr, 1)]
        return ok and all(inst.is_zero(e, rels) for e in errs)

    ok = D.exact(
        "z(a, r w) = z(a, w) and r grad_w z(a, r w) = grad_w z(a, w) for the BN output z", exact
    )

    def num(pt):
        return _numeric_general_loss(pt)

    ok &= D.numeric(
        "logistic and quartic losses on an empirical distribution: 4 GD steps from "
        "(a0, w0, eps) and (a0, r w0, r^2 eps), r = 2.5, compared",
        num,
    )
    D.correct(
        "For a general loss f and r > 0, {w0, eps, *} and {r w0, r^2 eps, *} are equivalent "
        "(T = r I, t = 1); for r < 0 the equivalent configuration is {r w0, r^2 eps, a0 -> -a0} "
        "(t = -1), since J(a, r w) = J(-a, |r| w).",
        ok,
        "general-d chain-rule derivation with an undefined f, exact d=1..4, 50-digit GD runs",
    )


def _scaling_counterexample_r_negative() -> tuple[dict, str, bool]:
    """OLS (f = (y - z)^2/2), d = 1, H = 1, u = 1, a0 = 1, w0 = 1, eps_a = eps = 1, r = -1."""
    from bnverify.symbolic.scaling import bngd_exact

    a1, w1 = bngd_exact([[1]], [1], 1, [1], 1, 1)
    a1r, w1r = bngd_exact([[1]], [1], 1, [-1], 1, 1)
    ok = a1r != a1  # t = a0'/a0 = 1 is forced at k = 0, so a'_1 must equal a_1
    return (
        {
            "d": 1,
            "H": [[1]],
            "u": [1],
            "a0": 1,
            "w0": [1],
            "eps_a": 1,
            "eps": 1,
            "r": -1,
            "a1": str(a1),
            "a1_scaled": str(a1r),
            "w1": [str(v) for v in w1],
            "w1_scaled": [str(v) for v in w1r],
        },
        f"OLS loss, d=1, H=1, u=1, a0=1, w0=1, eps_a=eps=1, r=-1: a_1 = {a1} but the scaled "
        f"configuration gives a'_1 = {a1r} (t = a'_0/a_0 = 1 forces a'_1 = a_1)",
        ok,
    )


def _numeric_general_loss(pt) -> list:
    import numpy as np

    rng = np.random.default_rng(7)
    n = 6
    X = [mpmath.matrix([mpmath.mpf(float(v)) for v in rng.standard_normal(pt.d)]) for _ in range(n)]
    Yv = [mpmath.mpf(float(v)) for v in rng.standard_normal(n)]
    Hm = sum((xx * xx.T for xx in X), mpmath.matrix(pt.d, pt.d)) / n
    losses = [
        lambda yy, z: mpmath.log(1 + mpmath.exp(-yy * z)),
        lambda yy, z: (yy - z) ** 4 / 4 + (yy - z) ** 2 / 2,  # quartic: steps can grow fast
    ]
    errs = []
    rr = mpmath.mpf("2.5")
    for fl in losses:

        def J(a_, w_, fl=fl):
            s = mpmath.sqrt(pt.dot(w_, Hm * w_))
            return mpmath.fsum(fl(Yv[i], a_ * pt.dot(X[i], w_) / s) for i in range(n)) / n

        def central(a_, w_):
            # central differences at 120 digits with h = 1e-35: truncation ~h^2 = 1e-70,
            # rounding ~1e-120/h = 1e-85, both far below the 1e-30 tolerance
            h = mpmath.mpf("1e-35")
            out = [(J(a_ + h, w_) - J(a_ - h, w_)) / (2 * h)]
            for i in range(pt.d):
                e_ = mpmath.matrix(pt.d, 1)
                e_[i] = h
                out.append((J(a_, w_ + e_) - J(a_, w_ - e_)) / (2 * h))
            return out

        def run(a_, w_, ep):
            for _ in range(4):
                gr = central(a_, w_)
                a_, w_ = a_ - mpmath.mpf("0.3") * gr[0], w_ - ep * mpmath.matrix(gr[1:])
            return a_, w_

        a0, w0 = pt.a, pt.vecs["w"]
        with mpmath.workdps(120):
            ak, wk = run(a0, w0, mpmath.mpf("0.4"))
            akr, wkr = run(a0, rr * w0, rr**2 * mpmath.mpf("0.4"))
        # relative errors: the quartic loss can make the iterates large
        scale = 1 + abs(ak) + mpmath.norm(rr * wk)
        errs += [(akr - ak) / scale] + [(wkr[i] - rr * wk[i]) / scale for i in range(pt.d)]
    return errs


# ----------------------------------------------------------------------------------------------
# A.3 eq. (40) and A.5 eq. (70): norm identities                                      [E40, E70]
# ----------------------------------------------------------------------------------------------


@derivation(
    "E40",
    "Growth of ||w_k|| (eq. 40)",
    reading="Eq. (40): ||w_{k+1}||^2 = ||w_k||^2 + eps^2 (a_k^2/sigma_k^2) ||H e_k||^2, "
    "e_k = u - (w_k^T g/sigma_k^2) w_k.",
)
def e40(D: Derivation) -> None:
    J = _J()
    a1, w1 = O.bngd_step(J)
    D.step("One gradient step on w (BNGD, Eq. 10, derived as GD on J in E81):", w1, lhs="w_{k+1}")
    e = u - w * (y / sigma**2)
    inc = (w1 - w - e.H() * (A.eps * a / sigma)).simplify()
    D.step(
        "The increment is eps (a/sigma) H e_k:",
        inc,
        lhs="w_{k+1} - w_k - \\epsilon \\tfrac{a}{\\sigma} H e_k",
    )
    D.step(
        "and it is orthogonal to w_k: w^T H e = y - (y/sigma^2) sigma^2 =",
        sp.simplify(w.hdot(e)),
        lhs="w_k^T H e_k",
    )
    lhs = sp.simplify(w1.dot(w1))
    He = e.H()
    rhs = D.printed("right side", w.dot(w) + A.eps**2 * a**2 / sigma**2 * He.dot(He))
    D.compare("||w_{k+1}||^2 (40)", rhs, lhs)

    def exact(d: int) -> bool:
        inst = Instance(d, extra=("epsilon",))
        ep = inst.gen["epsilon"]
        Jx = O.explicit_objective(inst)
        gw = inst.grad_w(Jx)
        wn = [inst.w[i] - ep * gw[i] for i in range(d)]
        ev = [inst.u[i] - inst.y * inst.t**2 * inst.w[i] for i in range(d)]
        Hev = inst.mv(inst.H, ev)
        diff = (
            inst.dot(wn, wn)
            - inst.dot(inst.w, inst.w)
            - ep**2 * inst.a**2 * inst.t**2 * inst.dot(Hev, Hev)
        )
        return inst.is_zero(diff)

    D.exact("explicit step from the directly differentiated J", exact)

    def num(pt):
        ep = mpmath.mpf("0.37")
        fd = pt.fd_gradient(pt.J16, pt.a, pt.vecs["w"])
        wv = pt.vecs["w"]
        wn = wv - ep * mpmath.matrix(fd[1:])
        gv = pt.H * pt.vecs["u"]
        s2 = pt.dot(wv, pt.H * wv)
        ev = pt.vecs["u"] - (pt.dot(wv, gv) / s2) * wv
        He = pt.H * ev
        return pt.dot(wn, wn) - pt.dot(wv, wv) - ep**2 * pt.a**2 / s2 * pt.dot(He, He)

    D.numeric("step computed with finite-difference gradients, eps = 0.37", num)


@derivation(
    "E70",
    "Loss decomposition (eq. 70)",
    reading="Eq. (70): with e~_k = u - (a_k/sigma_k) w_k, ||e~_k||_H^2 = ||e_k||_H^2 + (a_k - "
    "w_k^T g/sigma_k)^2, and J_k = ||e~_k||_H^2/2 (J as in Eq. 16).",
)
def e70(D: Derivation) -> None:
    et = u - w * (a / sigma)
    e = u - w * (y / sigma**2)
    D.step("e~ - e is a multiple of w:", (et - e).simplify(), lhs="\\tilde e - e")
    lhs = sp.expand(et.hdot(et))
    D.step(
        "||e~||_H^2 expanded (the cross term 2 (y/sigma^2 - a/sigma) w^T H e vanishes):",
        lhs,
        lhs="\\|\\tilde e\\|_H^2",
    )
    rhs = D.printed("right side", e.hdot(e) + (a - y / sigma) ** 2)
    D.compare("||e~||_H^2 (70)", rhs, lhs)
    D.compare("J = ||e~||_H^2/2 (J of Eq. 16)", D.printed("loss", lhs / 2), _J())
    D.remark(
        "With the objective of Eq. (7) and noisy data, J_k = ||e~_k||_H^2/2 + (c - u^T H u)/2 "
        "(see E16)."
    )

    def exact(d: int) -> bool:
        inst = Instance(d)
        et_x = [inst.u[i] - inst.a * inst.t * inst.w[i] for i in range(d)]
        e_x = [inst.u[i] - inst.y * inst.t**2 * inst.w[i] for i in range(d)]
        l_ = inst.dot(et_x, inst.mv(inst.H, et_x))
        r_x = inst.dot(e_x, inst.mv(inst.H, e_x)) + (inst.a - inst.y * inst.t) ** 2
        return inst.is_zero(l_ - r_x) and inst.is_zero(l_ / 2 - O.explicit_objective(inst))

    D.exact("explicit vectors", exact)

    def num(pt):
        wv, uu = pt.vecs["w"], pt.vecs["u"]
        s = mpmath.sqrt(pt.dot(wv, pt.H * wv))
        yy = pt.dot(wv, pt.H * uu)
        et_ = uu - (pt.a / s) * wv
        e_ = uu - (yy / s**2) * wv
        return [
            pt.dot(et_, pt.H * et_) - pt.dot(e_, pt.H * e_) - (pt.a - yy / s) ** 2,
            pt.dot(et_, pt.H * et_) / 2 - pt.J16(pt.a, wv),
        ]

    D.numeric("50-digit evaluation at random points", num)

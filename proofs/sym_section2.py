"""Section 2, symbolically: gradient descent on OLS (eq. 3-5), the BN objective (eq. 6-7) and
its critical points (after eq. 7, eq. 8).

Read top to bottom like Sec. 2.1-2.2.  General-d derivations use the index-free calculus
(``bnverify.symbolic.algebra``) or eigen-coordinates (``IndexedBase`` over i = 1..d); each is
cross-checked exactly for d = 1..4 and numerically at 50 digits.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from bnverify.symbolic import algebra as A
from bnverify.symbolic import objective as O
from bnverify.symbolic.derivation import Derivation, derivation
from bnverify.symbolic.explicit import Instance
from proofs.sym_appendix_a import (
    _J,
    beta,
    explicit_saddle_charpoly_ok,
    minimizer_derivation,
    numeric_saddle_spectrum,
    s_,
    saddle_charpoly,
    saddle_hessian,
)

a, sigma, y, nu, c, eps = A.a, A.sigma, A.y, A.nu, A.c, A.eps
g, w, u, Hw = A.g, A.w, A.u, A.Hw
lmin, lmax, lam_i, kappa = sp.symbols("lambda_min lambda_max lambda_i kappa", positive=True)


# ----------------------------------------------------------------------------------------------
# 2.1 gradient descent on OLS                                        [S2.GD-step, -rate, -opt]
# ----------------------------------------------------------------------------------------------


def _gd_error_recurrence(D: Derivation) -> bool:
    J0 = sp.Rational(1, 2) * (u - w).hdot(u - w)  # Eq. (2) up to its constant
    grad = A.grad_w(J0).simplify()
    D.step(
        "Gradient of J0(w) = ||u - w||_H^2/2 (+ const), by the algebra:", grad, lhs="\\nabla J_0(w)"
    )
    w1 = w - grad * eps
    err = ((u - w1) - ((u - w) - (u - w).H() * eps)).simplify()
    D.step(
        "GD step (3) and its error: u - w_{k+1} - (I - eps H)(u - w_k) =",
        err,
        lhs="u - w_{k+1} - (I - \\epsilon H)(u - w_k)",
    )
    return not err.terms


def _gd_exact(d: int) -> bool:
    inst = Instance(d, extra=("epsilon",))
    ep = inst.gen["epsilon"]
    r = [inst.u[i] - inst.w[i] for i in range(d)]
    J0 = inst.dot(r, inst.mv(inst.H, r)) / 2
    gw = [J0.diff(wi) for wi in inst.w]
    w1 = [inst.w[i] - ep * gw[i] for i in range(d)]
    Hr = inst.mv(inst.H, r)
    return inst.zero_all([inst.u[i] - w1[i] - (r[i] - ep * Hr[i]) for i in range(d)])


@derivation(
    "S2.GD-step",
    "GD on OLS converges iff 0 < eps < 2/lambda_max (eq. 3)",
    reading="Eq. (3): 'converges if 0 < eps < 2/lambda_max =: eps_max' (catalogue: iff); read as "
    "convergence for every initial w_0.",
)
def gd_step(D: Derivation) -> None:
    ok = _gd_error_recurrence(D)
    D.compare(
        "error recurrence u - w_{k+1} = (I - eps H)(u - w_k)",
        sp.Integer(0),
        sp.Integer(0 if ok else 1),
    )
    D.step(
        "In the eigenbasis of H the i-th error component is multiplied by (1 - eps lambda_i) "
        "per step; it tends to 0 for every start iff |1 - eps lambda_i| < 1:",
        None,
    )
    sol = sp.solve_univariate_inequality(sp.Abs(1 - eps * lam_i) < 1, eps, relational=False)
    D.step("SymPy solves |1 - eps lambda_i| < 1 for eps > 0:", sol, lhs="\\epsilon \\in")
    D.step("The intersection over i = 1..d is (0, min_i 2/lambda_i) = (0, 2/lambda_max).", None)
    derived = sol.subs(lam_i, lmax)
    D.compare("convergence interval", D.printed("interval", sp.Interval.open(0, 2 / lmax)), derived)
    D.exact("error recurrence from the explicit gradient of J0", _gd_exact)

    def num(pt):
        ev = mpmath.eigsy(pt.H)[0]
        lm = max(ev)
        rho = [
            max(abs(1 - e_ * lv) for lv in ev)
            for e_ in (2 / lm * (1 - mpmath.mpf("1e-20")), 2 / lm * (1 + mpmath.mpf("1e-20")))
        ]
        return [0 if rho[0] < 1 < rho[1] else 1]

    D.numeric("rho(I - eps H) < 1 just below 2/lambda_max and > 1 just above (mpmath eigsy)", num)


@derivation(
    "S2.GD-rate",
    "GD contraction ||u - w_{k+1}|| <= rho(I - eps H) ||u - w_k|| (eq. 4)",
    reading="Eq. (4) with rho = max_i |1 - eps lambda_i(H)|.",
)
def gd_rate(D: Derivation) -> None:
    ok = _gd_error_recurrence(D)
    i = sp.Idx("i")
    dd = sp.Symbol("d", positive=True, integer=True)
    L, C = sp.IndexedBase("lambda"), sp.IndexedBase("c")
    rho = sp.Symbol("rho", positive=True)
    lhs = sp.Sum((1 - eps * L[i]) ** 2 * C[i] ** 2, (i, 1, dd))
    gap = sp.Sum(rho**2 * C[i] ** 2, (i, 1, dd)) - lhs
    termwise = sp.Sum((rho**2 - (1 - eps * L[i]) ** 2) * C[i] ** 2, (i, 1, dd))
    D.step(
        "In eigen-coordinates c_i of e_k = u - w_k (H symmetric, orthonormal eigenvectors), "
        "||e_k||^2 = sum c_i^2 and ||(I - eps H) e_k||^2 = sum (1 - eps lambda_i)^2 c_i^2, so",
        termwise,
        lhs="\\rho^2\\|e_k\\|^2 - \\|(I-\\epsilon H)e_k\\|^2",
    )
    D.step(
        "Each term is >= 0 because rho >= |1 - eps lambda_i| for every i (definition of rho); "
        "with the error recurrence this is (4), and equality holds for e_k along the "
        "eigenvector attaining the max, so rho is the best constant.",
        None,
    )
    D.compare("error recurrence (basis of (4))", sp.Integer(0), sp.Integer(0 if ok else 1))
    D.compare(
        "rho^2 ||e||^2 - ||(I - eps H) e||^2 as a sum of termwise-nonnegative terms",
        D.printed("termwise", termwise),
        gap,
    )
    D.exact("error recurrence from the explicit gradient of J0", _gd_exact)

    def num(pt):
        ev = mpmath.eigsy(pt.H)[0]
        out = []
        for e_ in (mpmath.mpf("0.05"), mpmath.mpf("0.3"), 2 / max(ev) * mpmath.mpf("1.3")):
            rho_v = max(abs(1 - e_ * lv) for lv in ev)
            ek = pt.vecs["x"]
            e1 = ek - e_ * (pt.H * ek)
            out.append(max(mpmath.norm(e1) - rho_v * mpmath.norm(ek), 0))
        return out

    D.numeric("||(I - eps H) e|| <= rho ||e|| at random e, three step sizes", num)


@derivation(
    "S2.GD-opt",
    "Optimal GD step and rate (eq. 5)",
    reading="Eq. (5): eps_opt = 2/(lambda_max + lambda_min); ||u - w_{k+1}|| <= (kappa - 1)/(kappa "
    "+ 1) ||u - w_k||.",
)
def gd_opt(D: Derivation) -> None:
    D.step(
        "|1 - eps lambda| is convex in lambda, so rho(eps) = max(|1 - eps lambda_min|, "
        "|1 - eps lambda_max|); it decreases while 1 - eps lambda_min dominates and increases "
        "once eps lambda_max - 1 does, so the minimiser solves",
        None,
    )
    e_opt = sp.solve(sp.Eq(1 - eps * lmin, eps * lmax - 1), eps)[0]
    D.step("1 - eps lambda_min = eps lambda_max - 1:", e_opt, lhs="\\epsilon_{opt}")
    rate = sp.simplify((1 - e_opt * lmin).subs(lmax, kappa * lmin))
    D.step("rho(eps_opt) with lambda_max = kappa lambda_min:", rate, lhs="\\rho(\\epsilon_{opt})")
    D.compare("eps_opt", D.printed("eps_opt", 2 / (lmax + lmin)), e_opt)
    D.compare("optimal rate", D.printed("rate", (kappa - 1) / (kappa + 1)), rate)
    both = sp.simplify((e_opt * lmax - 1) - (1 - e_opt * lmin))
    D.step(
        "Both endpoint factors agree at eps_opt:",
        both,
        lhs="(\\epsilon_{opt}\\lambda_{max} - 1) - (1 - \\epsilon_{opt}\\lambda_{min})",
    )

    def exact(d: int) -> bool:
        ls = sp.symbols(f"l1:{d + 1}", positive=True)
        lo, hi = ls[0], ls[-1]
        eo = 2 / (lo + hi)
        vals = [sp.simplify(1 - eo * li) for li in ls]
        # endpoints: +-(hi - lo)/(hi + lo); every lambda_i in [lo, hi] lies between them (linear)
        return (
            sp.simplify(vals[0] + vals[-1]) == 0
            and sp.simplify(vals[0] - (hi / lo - 1) / (hi / lo + 1)) == 0
        )

    D.exact("explicit eigenvalues l_1 <= ... <= l_d: endpoint factors at eps_opt", exact)

    def num(pt):
        ev = mpmath.eigsy(pt.H)[0]
        lo, hi = min(ev), max(ev)
        eo = 2 / (lo + hi)

        def rho_of(e_):
            return max(abs(1 - e_ * lv) for lv in ev)

        best = mpmath.findroot(lambda e_: (1 - e_ * lo) - (e_ * hi - 1), mpmath.mpf("0.01"))
        k_ = hi / lo
        worse = min(rho_of(eo * (1 + mpmath.mpf(z))) for z in ("1e-8", "-1e-8")) > rho_of(eo)
        return [best - eo, rho_of(eo) - (k_ - 1) / (k_ + 1), 0 if worse else 1]

    D.numeric("eps_opt and rho(eps_opt) at random H; rho larger on both sides", num)


# ----------------------------------------------------------------------------------------------
# 2.2 the BN objective (eq. 6-7)                                              [S2.BN-objective]
# ----------------------------------------------------------------------------------------------


@derivation(
    "S2.BN-objective",
    "The BN objective from its definition (eq. 6-7)",
    reading="Eq. (7): J(a, w) = 1/2 E[(y - a N_BN(x^T w))^2] = C - (w^T g/sigma) a + a^2/2 with "
    "N_BN(z) = x^T w/sigma (Eq. 6).  The garbled constant 'C' is read as the constant of Eq. (2), "
    "C = c/2 = E[y^2]/2 (the only constant the expectation can produce); the alternative reading "
    "C = ||u||_H^2/2 holds only for noise-free data (see E16).",
)
def bn_objective(D: Derivation) -> None:
    integrand, J7 = O.objective_definition()
    D.step(
        "Integrand with Y = y, Z = x^T w (Eq. 6: N_BN = Z/sigma):",
        sp.expand(integrand),
        lhs="\\tfrac12 (Y - a Z/\\sigma)^2",
    )
    D.step(
        "Expectation by linearity with E[Y^2] = c, E[YZ] = w^T g, E[Z^2] = w^T H w = sigma^2 "
        "(Eq. 1):",
        J7,
        lhs="J(a, w)",
    )
    D.compare("J (7) with C = c/2", D.printed("J", c / 2 - y / sigma * a + a**2 / 2), J7)

    def exact(d: int) -> bool:
        inst = Instance(d, extra=("c",))
        Jd = O.explicit_definition(inst, inst.gen["c"])
        return inst.is_zero(Jd - inst.scalar(c / 2 - y / sigma * a + a**2 / 2))

    D.exact("explicit expectation of the expanded square with the moments h_ij, g_i, c", exact)
    D.numeric(
        "empirical distribution: J as a 50-digit average vs c/2 - (w^T g/sigma) a + a^2/2",
        lambda pt: O.numeric_definition_gap(pt, c / 2 - y / sigma * a + a**2 / 2),
    )


# ----------------------------------------------------------------------------------------------
# 2.2 critical points (after eq. 7, eq. 8)                 [S2.trivial-saddles, S2.strict, ...]
# ----------------------------------------------------------------------------------------------


def _saddle_exact_gradient(d: int) -> bool:
    inst = Instance(d)
    K = inst.K
    Jx = O.explicit_objective(inst)
    Ja, gw = Jx.diff(inst.a), inst.grad_w(Jx)
    at0 = {"a": K(0)}
    # at a = 0: dJ/da = -y t (zero on the saddle set y = 0) and grad_w J = 0 identically
    errs = [inst.subs(Ja, at0) + inst.y * inst.t] + [inst.subs(gi, at0) for gi in gw]
    return inst.zero_all(errs)


@derivation(
    "S2.trivial-saddles",
    "The trivial critical points {a = 0, w^T g = 0} are saddle points (after eq. 7)",
    reading="After Eq. (7): {(a*, w*) | a* = 0, w*^T g = 0} are critical points of J and saddle "
    "points (neither local minima nor maxima); g != 0 (u != 0) is implicit.",
)
def trivial_saddles(D: Derivation) -> None:
    Ja, Jw = O.gradient(_J())
    D.step("Gradient (E17-18):", sp.Tuple(Ja, sp.Symbol("\\nabla_w J")), lhs="\\partial_a J")
    ga = Ja.subs({a: 0, y: 0})
    gw = Jw.subs({a: 0, y: 0}).simplify()
    D.step(
        "At a = 0, w^T g = 0 both components vanish:",
        sp.Tuple(ga, 0 if not gw.terms else 1),
        lhs="(\\partial_a J, \\|\\nabla_w J\\|)",
    )
    D.compare("dJ/da at the trivial points", D.printed("dJ/da", sp.Integer(0)), ga)
    D.compare("grad_w J at the trivial points", D.printed("grad_w", A.Vec()), gw)
    saddle_hessian(D)
    cp, lam = saddle_charpoly(D)
    prod = sp.expand(lam**2 - lam - beta).subs(lam, 0)
    D.step(
        "Product of the two nonzero eigenvalues (constant term of the quadratic factor):",
        prod,
        lhs="\\lambda_+\\lambda_-",
    )
    D.compare(
        "lambda_+ lambda_- < 0 (one positive, one negative eigenvalue: a saddle)",
        D.printed("indefinite", sp.true),
        sp.sympify(prod < 0),
    )
    D.exact("explicit gradient at a = 0 is (-y/sigma, 0)", _saddle_exact_gradient)

    def num(pt):
        ev, b = numeric_saddle_spectrum(pt)
        gv = pt.H * pt.vecs["u"]
        v = pt.vecs["v"]
        ws = v - (pt.dot(v, gv) / pt.dot(gv, gv)) * gv
        grad = pt.fd_gradient(pt.J16, mpmath.mpf(0), ws)
        return grad + [0 if (ev[0] < 0 < ev[-1]) else 1]

    D.numeric("finite-difference gradient = 0 and Hessian indefinite at random saddles", num)
    D.note("For d = 1 the set {a = 0, w^T g = 0, w != 0} is empty when g != 0.")


@derivation(
    "S2.strict",
    "The saddle points are strict (eq. 8, Sec. A.1)",
    reading="'The saddle points are strict': the Hessian at every trivial critical point has a "
    "negative eigenvalue.",
)
def strict(D: Derivation) -> None:
    saddle_hessian(D)
    cp, lam = saddle_charpoly(D)
    lm = (1 - sp.sqrt(1 + 4 * beta)) / 2
    D.step("Smallest eigenvalue (root of the quadratic factor):", lm, lhs="\\lambda_-")
    prod = sp.expand(lam**2 - lam - beta).subs(lam, 0)
    D.step(
        "lambda_- lambda_+ = -beta < 0 and lambda_+ + lambda_- = 1 > 0, so lambda_- < 0:",
        prod,
        lhs="\\lambda_+\\lambda_-",
    )
    D.compare(
        "Hessian has a negative eigenvalue (lambda_+ lambda_- < 0)",
        D.printed("negative eigenvalue", sp.true),
        sp.sympify(prod < 0),
    )
    D.exact(
        "explicit Hessian at a = 0 and its characteristic polynomial", explicit_saddle_charpoly_ok
    )

    def num(pt):
        ev, b = numeric_saddle_spectrum(pt)
        return [ev[0] - (1 - mpmath.sqrt(1 + 4 * b)) / 2, 0 if ev[0] < 0 else 1]

    D.numeric("smallest eigenvalue of the finite-difference Hessian at random saddles", num)


def _minimizer_exact_gradient(d: int) -> bool:
    inst = Instance(d, extra=("s", "q"))
    K = inst.K
    s, q = inst.gen["s"], inst.gen["q"]
    Jx = O.explicit_objective(inst)
    Ja, gw = Jx.diff(inst.a), inst.grad_w(Jx)
    sub = {**{f"w{i}": s * inst.u[i] for i in range(d)}, "a": s * inst.nu * q, "t": q}
    rel = [("q", s**2 * inst.nu)]
    return all(inst.equal_frac(inst.subs_frac(e, sub), K(0), rel) for e in [Ja, *gw, Jx])


def _numeric_minimizer(pt):
    sv = mpmath.mpf("-1.3")
    uu = pt.vecs["u"]
    nuv = pt.dot(uu, pt.H * uu)
    astar = mpmath.sign(sv) * mpmath.sqrt(nuv)
    grad = pt.fd_gradient(pt.J16, astar, sv * uu)
    return grad + [pt.J16(astar, sv * uu)]


@derivation(
    "S2.minimizers",
    "Nontrivial critical points are global minimizers (eq. 8)",
    reading="Eq. (8): a* = sign(s) sqrt(u^T H u), w* = s u, s != 0; 'the nontrivial critical points "
    "are global minimizers'.",
)
def minimizers(D: Derivation) -> None:
    minimizer_derivation(D)
    astar_pos = sp.simplify(A.substitute_vector(y / sigma, "w", u * s_))
    astar_neg = sp.simplify(A.substitute_vector(y / sigma, "w", u * (-s_)))
    D.compare("a* for s > 0", D.printed("a* (s>0)", sp.sign(s_) * sp.sqrt(nu)), astar_pos)
    D.compare(
        "a* for s < 0 (s -> -s)", D.printed("a* (s<0)", sp.sign(-s_) * sp.sqrt(nu)), astar_neg
    )
    Jmin = sp.simplify(A.substitute_vector(_J(), "w", u * s_).subs(a, astar_pos))
    D.compare(
        "J(a*, w*) = 0 = inf J (J = ||u - (a/sigma) w||_H^2/2 >= 0)",
        D.printed("J min", sp.Integer(0)),
        Jmin,
    )
    D.exact(
        "explicit gradient and J vanish at w = s u, a = sign(s) sqrt(nu)", _minimizer_exact_gradient
    )
    D.numeric(
        "finite-difference gradient and J at random minimizers (s = -1.3)", _numeric_minimizer
    )


@derivation(
    "S2.degenerate",
    "The Hessian at each global minimizer is degenerate (eq. 8)",
    reading="'the Hessian matrix at each critical point is degenerate' (of the nontrivial critical "
    "points of Eq. 8).",
)
def degenerate(D: Derivation) -> None:
    at, Hstar = minimizer_derivation(D)
    kern = at.ww.apply(u).simplify()
    D.step(
        "The direction (0, u) (scaling w along itself) is in the kernel:",
        kern,
        lhs="A_{22}(a^*, s u)\\, u",
    )
    D.compare("Hessian (0, u) = 0", D.printed("kernel", A.Vec()), kern)
    D.compare("A21 at the minimizer = 0", A.Vec(), at.aw)

    def exact(d: int) -> bool:
        inst = Instance(d)
        nuHst = [
            [inst.nu * inst.H[i][j] - inst.g[i] * inst.g[j] for j in range(d)] for i in range(d)
        ]
        return inst.zero_all(inst.mv(nuHst, inst.u))  # nu H* u = 0

    D.exact("explicit H* u = 0", exact)

    def num(pt):
        sv = mpmath.mpf("0.8")
        uu = pt.vecs["u"]
        Hfd = pt.fd_hessian(pt.J16, mpmath.sqrt(pt.dot(uu, pt.H * uu)), sv * uu)
        z = mpmath.matrix([0] + [uu[i] for i in range(pt.d)])
        return Hfd * z

    D.numeric("finite-difference Hessian times (0, u) at random minimizers", num)

"""§2.2 Batch normalization -- claims S2.BN-objective (eq. 6-7), S2.trivial-saddles (after eq. 7),
S2.minimizers, S2.degenerate, S2.strict (eq. 8).

The BN objective ``J(a, w)`` and its critical points.

* The objective is checked by sampling ``x ~ N(0, H)``, ``y = x^T u + noise`` (Monte Carlo mean
  with its standard error, ``bnverify.objective_points``) against the closed form Eq. (7).
* Critical points are classified with 50-digit finite-difference Hessians
  (``bnverify.linalg_mp``) at exact points (``bnverify.hessian_fd.hessian_points``).
* symbolic (``@derivation``): the objective and its stationary points for general d (index-free
  calculus of ``bnverify.symbolic.algebra``), cross-checked for d = 1..4 and at 50 digits.
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from bnverify import linalg_mp as L
from bnverify.claims import MethodResult, check
from bnverify.hessian_fd import ZERO_EIG_RTOL, Point, fd_hessian_at, hessian_points
from bnverify.objective_points import (
    MC_SAMPLES,
    MC_Z,
    ObjectivePoint,
    gradient_small,
    minimizer_holds,
    objective_points,
    sample_objective,
)
from bnverify.properties import Outcome, check_property
from bnverify.symbolic import algebra as A
from bnverify.symbolic import objective as O
from bnverify.symbolic.claims_support import (
    beta,
    explicit_saddle_charpoly_ok,
    minimizer_derivation,
    numeric_saddle_spectrum,
    s_,
    saddle_charpoly,
    saddle_hessian,
    sym_objective,
)
from bnverify.symbolic.derivation import Derivation, derivation
from bnverify.symbolic.explicit import Instance

a, sigma, y, nu, c, u = A.a, A.sigma, A.y, A.nu, A.c, A.u
DPS = 50  # working digits of the mpmath cross-checks (= bnverify.linalg_mp.DPS)

def closed_form_7(pt: ObjectivePoint, C=None) -> float:
    """Eq. (7): ``C - (w^T g/sigma) a + a^2/2`` with the garbled constant read as ``C = c/2``
    (``c = E[y^2]``), unless ``C`` (a function of the problem) is given."""
    p = pt.problem
    Cv = p.c / 2 if C is None else C(p)
    return Cv - float(pt.w @ p.g) / p.sigma(pt.w) * pt.a + 0.5 * pt.a**2


def objective_matches(pt: ObjectivePoint, C=None) -> Outcome:
    """S2.BN-objective: the sampled expectation equals Eq. (7) with ``C = c/2`` within
    ``MC_Z`` standard errors (plus 1e-12 relative for the closed form's rounding)."""
    m, se = sample_objective(pt)
    J7 = closed_form_7(pt, C)
    ok = abs(m - J7) <= MC_Z * se + 1e-12 * abs(J7)
    return Outcome(ok, {"mc_mean": m, "mc_se": se, "closed_form": J7, "z": (m - J7) / se})


@check("S2.BN-objective", method="monte-carlo",
       reading="Eq. (6)-(7): J(a,w) = 1/2 E[(y - a x^T w/sigma)^2] = C - (w^T g/sigma) a + a^2/2; "
               "the garbled constant 'C' read as c/2 = E[y^2]/2 (with y = x^T u + noise: "
               "(u^T H u + noise)/2), the only constant making (7) an identity.")
def check_bn_objective(ctx) -> MethodResult:
    """S2.BN-objective (Eq. 6-7): sampled x ~ N(0, H), y = x^T u + noise vs the closed form."""
    return check_property(
        "S2.BN-objective", objective_points(), objective_matches, ctx,
        statement=f"MC mean of 1/2 (y - a x^T w/sigma)^2 ({MC_SAMPLES} samples) = c/2 - "
                  "(w^T g/sigma) a + a^2/2",
        tolerance=f"{MC_Z:g} standard errors (two-sided 5.7e-7 per point)",
        method="monte-carlo", max_examples=ctx.n(20, 300),
    )


def _signature(pt: Point) -> dict[str, Any]:
    F = fd_hessian_at(pt)
    with mpmath.workdps(DPS + 10):
        ev = L.eigvalsh_mp(F, DPS + 10)
        sc = max(abs(x) for x in ev)
        return {"negative": sum(1 for x in ev if x < -ZERO_EIG_RTOL * sc),
                "zero": sum(1 for x in ev if abs(x) <= ZERO_EIG_RTOL * sc),
                "positive": sum(1 for x in ev if x > ZERO_EIG_RTOL * sc),
                "min_eig": float(ev[0]), "max_eig": float(ev[-1])}


def trivial_saddle_holds(pt: Point) -> Outcome:
    """S2.trivial-saddles: at ``a = 0, w^T g = 0`` the gradient vanishes and the Hessian is
    indefinite (a positive and a negative eigenvalue: neither minimum nor maximum)."""
    crit, gerr = gradient_small(pt)
    sig = _signature(pt)
    return Outcome(crit and sig["negative"] >= 1 and sig["positive"] >= 1,
                   {"gradient": gerr, **sig})


def strict_saddle_holds(pt: Point) -> Outcome:
    """S2.strict: the Hessian at a saddle has a negative eigenvalue (< -1e-15 of its scale)."""
    sig = _signature(pt)
    return Outcome(sig["negative"] >= 1, sig)


def degenerate_holds(pt: Point) -> Outcome:
    """S2.degenerate: the Hessian at a global minimiser is singular (a zero eigenvalue) and
    positive semi-definite."""
    sig = _signature(pt)
    return Outcome(sig["zero"] >= 1 and sig["negative"] == 0, sig)


@check("S2.trivial-saddles", method="numeric",
       reading="After Eq. (7): the points {a = 0, w^T g = 0} (d >= 2; for d = 1 only w = 0, where "
               "J is undefined) are critical points and saddles (indefinite Hessian).")
def check_trivial_saddles(ctx) -> MethodResult:
    """S2.trivial-saddles: zero gradient and indefinite 50-digit Hessian at exact saddles."""
    return check_property(
        "S2.trivial-saddles", hessian_points("saddle"), trivial_saddle_holds, ctx,
        statement="at a = 0, w^T g = 0: gradient = 0 and the Hessian has eigenvalues of both signs",
        tolerance="gradient <= 1e-20 of the data scale; eigenvalue signs beyond 1e-15 of the scale",
        method="numeric", max_examples=ctx.n(12, 200))


@check("S2.strict", method="numeric",
       reading="Eq. (8) text / §A.1: the saddle points are strict: the Hessian has a negative "
               "eigenvalue.")
def check_strict(ctx) -> MethodResult:
    """S2.strict: a negative eigenvalue of the 50-digit Hessian at each drawn saddle."""
    return check_property(
        "S2.strict", hessian_points("saddle"), strict_saddle_holds, ctx,
        statement="Hessian at a saddle has a negative eigenvalue",
        tolerance="negative: below -1e-15 of the spectral scale (FD error ~1e-24)",
        method="numeric", max_examples=ctx.n(12, 200))


@check("S2.minimizers", method="numeric",
       reading="Eq. (8): a* = sign(s) sqrt(u^T H u), w* = s u (s != 0) are critical points and "
               "global minimisers (J = noise/2, its infimum).")
def check_minimizers(ctx) -> MethodResult:
    """S2.minimizers (Eq. 8): zero gradient and J = noise/2 at 50 digits."""
    return check_property(
        "S2.minimizers", hessian_points("minimizer"), minimizer_holds, ctx,
        statement="(sign(s) sqrt(u^T H u), s u): gradient 0 and J = min J = noise/2",
        tolerance="gradient <= 1e-20 of the data scale (FD error ~1e-24); J to 1e-40",
        method="numeric", max_examples=ctx.n(12, 200))


@check("S2.degenerate", method="numeric",
       reading="After Eq. (8): the Hessian at each global minimiser is degenerate (singular).")
def check_degenerate(ctx) -> MethodResult:
    """S2.degenerate: the 50-digit Hessian at minimisers is PSD with a zero eigenvalue."""
    return check_property(
        "S2.degenerate", hessian_points("minimizer"), degenerate_holds, ctx,
        statement="Hessian at (a*, s u) is positive semi-definite and singular",
        tolerance="zero: |λ| <= 1e-15 of the spectral scale (FD error ~1e-24)",
        method="numeric", max_examples=ctx.n(12, 200))


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
    Ja, Jw = O.gradient(sym_objective())
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
    Jmin = sp.simplify(A.substitute_vector(sym_objective(), "w", u * s_).subs(a, astar_pos))
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

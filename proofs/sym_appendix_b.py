"""Appendix B, symbolically: BNGD is gradient descent on J, and MBNGD (eq. 81) is its a-optimal
limit (claim E81).
"""

from __future__ import annotations

import mpmath
import sympy as sp

from bnverify.symbolic import algebra as A
from bnverify.symbolic import objective as O
from bnverify.symbolic.derivation import Derivation, derivation
from bnverify.symbolic.explicit import Instance

a, sigma, y, eps, eps_a = A.a, A.sigma, A.y, A.eps, A.eps_a
g, w, Hw = A.g, A.w, A.Hw


@derivation(
    "E81",
    "BNGD is gradient descent on J; MBNGD (eq. 81) is its a-optimal limit",
    reading="Eq. (9)-(10): a_{k+1} = a_k + eps_a (w_k^T g/sigma_k - a_k), w_{k+1} = w_k + eps "
    "(a_k/sigma_k)(g - (w_k^T g/sigma_k^2) H w_k); Eq. (81), garbled, read (catalogue) as "
    "w_{k+1} = w_k + eps (w_k^T g/sigma_k^2)(g - (w_k^T g/sigma_k^2) H w_k), i.e. (10) with "
    "a_k = w_k^T g/sigma_k enforced.",
)
def e81(D: Derivation) -> None:
    J = O.objective_quadratic()
    a1, w1 = O.bngd_step(J)
    D.step(
        "Gradient descent on J (Eq. 16) with steps (eps_a, eps), using E17-18:",
        a1,
        lhs="a - \\epsilon_a \\partial_a J",
    )
    D.step("", w1, lhs="w - \\epsilon \\nabla_w J")
    D.compare("a-step (9)", D.printed("a step", a + eps_a * (y / sigma - a)), a1)
    D.compare(
        "w-step (10)", D.printed("w step", w + (g - Hw * (y / sigma**2)) * (eps * a / sigma)), w1
    )
    Ja = sp.diff(J, a)
    astar = sp.solve(Ja, a)[0]
    D.step(
        "J is a convex quadratic in a (d2J/da2 = 1); its minimiser for fixed w:",
        astar,
        lhs="a^*(w)",
    )
    w_m = w1.subs(a, astar).simplify()
    D.step("Enforcing a_k = a*(w_k) in (10):", w_m, lhs="w_{k+1}")
    D.compare(
        "MBNGD (81)", D.printed("MBNGD", w + (g - Hw * (y / sigma**2)) * (eps * y / sigma**2)), w_m
    )
    Jp = sp.simplify(J.subs(a, astar))
    D.step(
        "Equivalently, GD with step eps on the profile objective J~(w) = min_a J(a, w):",
        Jp,
        lhs="\\tilde J(w)",
    )
    w_p = (w - A.grad_w(Jp) * eps).simplify()
    D.compare("GD on the profile objective = MBNGD", w_p, w_m, role="corrected")
    D.note(
        "With eps_a = 1, BNGD sets a_{k+1} = a*(w_k) (the optimum for the previous w); MBNGD "
        "uses a*(w_k) in the same step in which w_k is updated."
    )

    def exact(d: int) -> bool:
        inst = Instance(d, extra=("epsilon", "epsa"))
        ep, epa = inst.gen["epsilon"], inst.gen["epsa"]
        Jx = O.explicit_objective(inst)
        gw = inst.grad_w(Jx)
        a1x = inst.a - epa * Jx.diff(inst.a)
        ok = inst.is_zero(a1x - (inst.a + epa * (inst.y * inst.t - inst.a)))
        w1x = [inst.w[i] - ep * gw[i] for i in range(d)]
        pr = [
            inst.w[i] + ep * inst.a * inst.t * (inst.g[i] - inst.y * inst.t**2 * inst.Hw[i])
            for i in range(d)
        ]
        ok &= inst.zero_all([w1x[i] - pr[i] for i in range(d)])
        # profile objective: J(a*(w), w) with a* = y t; its direct gradient is the MBNGD step
        Jp_x = inst.subs(Jx, {"a": inst.y * inst.t})
        gp = inst.grad_w(Jp_x)
        mb = [
            inst.w[i] + ep * inst.y * inst.t**2 * (inst.g[i] - inst.y * inst.t**2 * inst.Hw[i])
            for i in range(d)
        ]
        ok &= inst.zero_all([inst.w[i] - ep * gp[i] - mb[i] for i in range(d)])
        return ok

    D.exact("explicit GD step and profile-objective gradient from direct differentiation", exact)

    def num(pt):
        ep, epa = mpmath.mpf("0.6"), mpmath.mpf("0.45")
        wv, uu = pt.vecs["w"], pt.vecs["u"]
        fd = pt.fd_gradient(pt.J16, pt.a, wv)
        s = mpmath.sqrt(pt.dot(wv, pt.H * wv))
        gv = pt.H * uu
        yy = pt.dot(wv, gv)
        a_pr = pt.a + epa * (yy / s - pt.a)
        w_pr = wv + ep * (pt.a / s) * (gv - (yy / s**2) * (pt.H * wv))
        errs = [pt.a - epa * fd[0] - a_pr] + list(wv - ep * mpmath.matrix(fd[1:]) - w_pr)

        def Jprof(_a, ww):
            sw = mpmath.sqrt(pt.dot(ww, pt.H * ww))
            return pt.J16(pt.dot(ww, gv) / sw, ww)

        fdp = pt.fd_gradient(Jprof, pt.a, wv)
        w_mb = wv + ep * (yy / s**2) * (gv - (yy / s**2) * (pt.H * wv))
        errs += list(wv - ep * mpmath.matrix(fdp[1:]) - w_mb)
        return errs

    D.numeric("finite-difference GD steps on J and on the profile objective", num)

"""The three engines of the symbolic package: index-free calculus, exact explicit instances,
50-digit numeric checks (each shown able to tell a wrong formula from a right one)."""

from __future__ import annotations

import doctest

import mpmath
import numpy as np

from bnverify.symbolic import algebra as A
from bnverify.symbolic import numeric as N
from bnverify.symbolic import objective as O
from bnverify.symbolic.explicit import Instance


def test_algebra_doctest():
    assert doctest.testmod(A).failed == 0


def test_calculus_rules():
    # grad of sigma = H w / sigma, of y = g; Jacobian of H w is H
    assert (A.grad_w(A.sigma) - A.Hw / A.sigma).is_zero()
    assert (A.grad_w(A.y) - A.g).is_zero()
    assert (A.jacobian_w(A.Hw) - A.Mat.H()).is_zero()
    # the gradient of a Rayleigh quotient is orthogonal to w (scale invariance)
    r = A.grad_w(A.y**2 / A.sigma**2)
    assert A.w.dot(r) == 0 or A.w.dot(r).simplify() == 0


def test_objective_from_expectation():
    _, J7 = O.objective_definition()
    assert (J7 - (A.c / 2 - A.a * A.y / A.sigma + A.a**2 / 2)).simplify() == 0


def test_exact_zero_test_detects_wrong_hessian():
    inst = Instance(3)
    Jx = O.explicit_objective(inst)
    hw = inst.hess_w(Jx)
    Hs = O.hessian(O.objective_quadratic())
    good = inst.matrix(Hs.ww)
    bad = inst.matrix(Hs.ww * 2)
    assert inst.is_zero(hw[0][1] - good[0][1])
    assert not inst.is_zero(hw[0][1] - bad[0][1])


def test_numeric_finite_differences_detect_wrong_gradient():
    with N.precision():
        pt = N.Point(2, np.random.default_rng(1))
        fd = pt.fd_gradient(pt.J16, pt.a, pt.vecs["w"])
        good = pt.vector(A.grad_w(O.objective_quadratic()))
        bad = pt.vector(A.grad_w(O.objective_quadratic()) * -1)
        assert N.max_abs([fd[i + 1] - good[i] for i in range(2)]) < N.TOL
        assert N.max_abs([fd[i + 1] - bad[i] for i in range(2)]) > mpmath.mpf("1e-3")


def test_precision_is_scoped():
    before = mpmath.mp.dps
    with N.precision(80):
        assert mpmath.mp.dps == 80
    assert mpmath.mp.dps == before

"""High-precision engine: gmpy2 vs the mpmath reference, float64 vs 50 digits, exact inputs,
auto precision, the float-vs-mp comparison helper."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from bnverify import BNVerifyError, OLSProblem
from bnverify.dynamics.batched import run
from bnverify.dynamics.mp import compare_float_mp, run_mp

CFG = dict(
    H_diag=["1", "7/3", "10"],
    u=["1", "-0.5", "0.25"],
    w0=["0.3", "1", "-2"],
    a0="0.5",
    eps_a="0.9",
    eps="0.02",
)


@pytest.mark.parametrize("method", ["bngd", "gd", "mbngd"])
def test_gmpy2_matches_mpmath_reference(method):
    r1 = run_mp(**CFG, method=method, steps=200, precision=40, backend="gmpy2")
    r2 = run_mp(**CFG, method=method, steps=200, precision=40, backend="mpmath")
    # same correctly rounded operations in the same order at the same binary precision
    for x, y in zip(
        r1.w + [r1.loss, r1.w_norm, r1.e_norm_H],
        r2.w + [r2.loss, r2.w_norm, r2.e_norm_H],
        strict=False,
    ):
        assert abs(x - y) <= mpmath.mpf(10) ** -38 * max(abs(y), 1)


def test_float64_agrees_with_50_digits_on_well_conditioned_case():
    """kappa = 10, 300 steps: float64 must agree with the 50-digit run to ~1e-13 relative
    (error growth of a contracting iteration stays within a few hundred ulps)."""
    h = [1.0, 2.5, 10.0]
    u = [1.0, -0.5, 0.25]
    w0 = [0.3, 1.0, -2.0]
    p = OLSProblem(np.diag(h), u)
    rf = run(p, "bngd", eps=0.05, eps_a=0.9, a0=0.5, w0=w0, steps=300)
    rm = run_mp(H_diag=h, u=u, w0=w0, eps=0.05, eps_a=0.9, a0=0.5, steps=300, precision=50)
    for x, y in zip(rf.w, rm.w, strict=False):
        assert float(x) == pytest.approx(float(y), rel=1e-13)
    assert float(rf.loss) == pytest.approx(float(rm.loss), rel=1e-10, abs=1e-25)


def test_dense_matrix_input_and_exact_fractions():
    H = [["2", "1"], ["1", "2"]]
    r = run_mp(H=H, u=[1, Fraction(1, 3)], w0=[1, 0], eps="1/10", steps=5, precision=30)
    rf = run(
        OLSProblem(np.array([[2.0, 1.0], [1.0, 2.0]]), [1.0, 1 / 3]),
        "bngd",
        eps=0.1,
        w0=[1.0, 0.0],
        steps=5,
    )
    assert float(r.loss) == pytest.approx(float(rf.loss), rel=1e-12)


def test_auto_precision_reports_stable_digits():
    r = run_mp(**CFG, steps=100, precision="auto", digits=25)
    assert r.stable_digits == 25
    assert r.dps >= 35
    # a higher fixed precision gives the same 25 digits
    r2 = run_mp(**CFG, steps=100, precision=200)
    assert abs(r.loss - r2.loss) <= mpmath.mpf(10) ** -25 * abs(r2.loss)


def test_compare_float_mp_reports_first_disagreement():
    cfg = dict(H_diag=[1, 10], u=[1, 1], w0=[1, 0.5], a0=1, eps_a=1, eps=0.05)
    out = compare_float_mp(cfg, steps=50, dps=50, rtol=1e-10)
    assert out["first_disagreement"] is None and out["max_relative_difference"] <= 1e-10
    # an absurdly tight tolerance must report a disagreement with its step and size
    tight = compare_float_mp(cfg, steps=50, dps=50, rtol=1e-30)
    fd = tight["first_disagreement"]
    assert fd is not None and fd["relative_difference"] > 1e-30 and fd["step"] >= 0


def test_divergence_reported_at_high_precision():
    # GD with eps > 2/lambda_max grows without bound (by |1 - 3| = 2 per step, 2^200 ~ 1e60 here,
    # far below MPFR's exponent range): a result with a huge error, not an exception; the status
    # word of an unfinished run is the engine's vocabulary (tests/test_status*), not checked here
    r = run_mp(H_diag=[1, 100], u=[1, 1], w0=[1, 0], eps="0.03", method="gd", steps=200)
    assert r.status != "converged"
    assert r.e_norm_H > 1e50


@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(eps="abc"), "eps: cannot read"),
        (dict(eps="0"), "eps: step size must be > 0"),
        (dict(eps_a="-1"), "eps_a"),
        (dict(w0=[0, 0, 0]), "w0: must be nonzero"),
        (dict(w0=[1, 2]), "w0: expected a list of 3"),
        (dict(H_diag=[1, -1, 2]), "H_diag: not positive definite"),
        (dict(H_diag=[1, "nan", 2]), "H_diag: contains NaN"),
    ],
)
def test_mp_validation(kw, msg):
    cfg = dict(CFG)
    cfg.update(kw)
    with pytest.raises(BNVerifyError) as info:
        run_mp(**cfg, steps=3)
    assert msg in str(info.value)


def test_mp_dense_validation():
    with pytest.raises(BNVerifyError, match="not symmetric"):
        run_mp(H=[[1, 2], [0, 1]], u=[1, 1], w0=[1, 0], eps=1, steps=1)
    with pytest.raises(BNVerifyError, match="not positive definite"):
        run_mp(H=[[1, 2], [2, 1]], u=[1, 1], w0=[1, 0], eps=1, steps=1)
    with pytest.raises(BNVerifyError, match="exactly one"):
        run_mp(u=[1], w0=[1], eps=1, steps=1)

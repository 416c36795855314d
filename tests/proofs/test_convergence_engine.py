"""Tests of the decision procedure ``bnverify.convergence`` (criteria of Thm. 3.3 / B.1 checks)."""

import numpy as np
import pytest

from bnverify.convergence import (
    DIVERGED_LABEL,
    MINIMISER,
    SADDLE,
    UNDECIDED,
    decide,
    eps0_lemma_a12,
    lemma_a10_bound,
    random_problem,
    rounding_floor,
    trajectory,
    trajectory_scalars,
)
from bnverify.dynamics.batched import run
from bnverify.errors import BNVerifyError
from bnverify.model import OLSProblem

P = OLSProblem.from_diagonal([1.0, 4.0], [0.6, 0.8])


def test_minimiser_saddle_diverged_undecided_in_one_batch():
    # a0 = 0 and w0 ⟂ g exactly (0.8*0.6 - 0.15*3.2 = 0): a fixed point, decided 'saddle'
    w0 = np.array([[1.0, 0.0], [0.8, -0.15], [0.6, 0.8], [1.0, 0.0]])
    # eps_a = 3 from w0 = u, a0 = 2: a_k - ||u||_H = (-2)^k (a0 - ||u||_H) overflows -> diverged
    u_h = P.u_norm_H
    dec = decide(P, eps=np.array([0.5, 0.5, 0.5, 1e16]), w0=w0,
                 eps_a=np.array([1.0, 1.0, 3.0, 1.0]), a0=np.array([1.0, 0.0, 2 * u_h, 1.0]),
                 max_steps=4000)
    assert dec.label.tolist() == [MINIMISER, SADDLE, DIVERGED_LABEL, UNDECIDED]
    c = dec.counts()
    assert (c[MINIMISER], c[SADDLE], c[DIVERGED_LABEL], c[UNDECIDED]) == (1, 1, 1, 1)
    assert dec.n_decided == 3
    assert dec.e_tilde_rel[0] <= 1e-8
    assert "decided 3/4" in dec.summary()
    assert dec.to_json()["criteria"][MINIMISER].startswith("||e~_k||_H")


def test_saddle_requires_a_saddle_not_just_small_a():
    # a0 = 0 but w0^T g != 0: a1 = eps_a w0^T g / sigma0 > 0, the run leaves and converges
    dec = decide(P, eps=0.3, w0=[1.0, 0.0], a0=0.0)
    assert dec.label.item() == MINIMISER


def test_undecided_reports_rate_and_prediction():
    dec = decide(P, eps=1e-5, w0=[1.0, 0.0], max_steps=2000, chunk=1000)
    assert dec.label.item() == UNDECIDED
    assert 0 < dec.rate.item() < 1
    assert dec.predicted_steps.item() > 2000


def test_mp_fallback_when_decision_is_within_rounding_of_tol():
    # tol = 3e-14 is within the float64 floor (~5.7e-14 here) of the decision: re-decided at
    # 50 digits from the initial values
    tol = 3e-14
    assert abs(0.0 - tol) <= rounding_floor(P)
    dec = decide(P, eps=0.3, w0=[1.0, 0.0], tol=tol, max_steps=300, chunk=100)
    assert dec.label.item() == MINIMISER
    assert dec.engine.item() == "mp"
    assert dec.settings["mp_runs"] == 1


def test_mbngd_and_gd_methods():
    d1 = decide(P, "mbngd", eps=0.5, w0=[1.0, 0.3])
    assert d1.label.item() == MINIMISER
    assert np.isclose(abs(d1.a.item()), P.u_norm_H, rtol=1e-7)
    d2 = decide(P, "gd", eps=0.3, w0=[1.0, 0.3])
    assert d2.label.item() == MINIMISER
    d3 = decide(P, "gd", eps=0.6, w0=[1.0, 0.3], max_steps=200)  # eps > 2/lambda_max
    assert d3.label.item() in (DIVERGED_LABEL, UNDECIDED)


def test_bad_input_is_a_clear_error():
    with pytest.raises(BNVerifyError, match="method"):
        decide(P, "sgd", eps=0.1, w0=[1.0, 0.0])
    with pytest.raises(BNVerifyError, match="tol"):
        decide(P, eps=0.1, w0=[1.0, 0.0], tol=2.0)


def test_trajectory_matches_engine_run():
    p = random_problem(np.random.default_rng(3), (3, 5), 30.0, dense=True)
    A, W = trajectory(p, "bngd", a0=0.7, w0=np.ones(p.d), eps=0.4, eps_a=0.6, steps=50)
    r = run(p, "bngd", eps=0.4, w0=np.ones(p.d), eps_a=0.6, a0=0.7, steps=50)
    # different bases (dense vs eigenbasis) and summation orders: agreement to ~1e-12
    assert np.allclose(W[-1], r.w, rtol=1e-10, atol=1e-12)
    assert np.isclose(A[-1], r.a, rtol=1e-10)
    s = trajectory_scalars(p, A, W, 0.4)
    assert np.isclose(s["eff_step"][-1], r.eff_step, rtol=1e-9)
    assert np.isclose(s["e_norm_H"][-1], r.e_norm_H, rtol=1e-6, atol=1e-12)


def test_constants_of_lemmas_a10_a12():
    # Lemma A.10: |a0| + 2C/(1 - |1 - eps_a|); eps_a = 1 -> |a0| + 2C
    assert lemma_a10_bound(1.0, 1.0, 2.0) == pytest.approx(5.0)
    assert lemma_a10_bound(-1.0, 0.5, 2.0) == pytest.approx(9.0)
    e0 = eps0_lemma_a12(P, 1.0, 1.0)  # C_a = (1 + 2 ||u||_H)/||u||_H
    Ca = (1.0 + 2 * P.u_norm_H) / P.u_norm_H
    assert e0 == pytest.approx(1.0 / (2 * Ca * P.kappa * P.lambda_max))


def test_random_problem_normalisation():
    p = random_problem(np.random.default_rng(0), (2, 6), 30.0)
    assert np.isclose(np.linalg.norm(p.u), 1.0)
    assert p.lambda_min == pytest.approx(1.0) and p.kappa <= 30.0

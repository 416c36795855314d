"""Appendix B claims (T-B.1, L-B.2, L-B.3; MBNGD, Eq. 81): verdicts at the quick profile
(seed 0) and mutation tests."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import strategies as st

from bnverify.claims import CheckContext, run_claim
from bnverify.convergence import SADDLE, decide
from bnverify.model import OLSProblem
from bnverify.properties import Outcome, check_property
from bnverify.strategies import Configuration
from proofs import appB1_mbngd_proof as b1

CTX = CheckContext("quick", 0)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("BNVERIFY_CACHE", str(tmp_path_factory.mktemp("cache")))
    try:
        yield {cid: run_claim(cid, CTX) for cid in ("T-B.1", "L-B.2", "L-B.3")}
    finally:
        mp.undo()


def by_method(res, method):
    return next(r for r in res.results if r.method == method)


def test_tb1_full_range_decided_through_lemma_b2_certified(results):
    res = results["T-B.1"]
    for m in ("decision-window", "decision-small-eps", "property-saddle-iff", "monte-carlo"):
        assert by_method(res, m).verdict == "verified", m
    full = by_method(res, "decision")
    det = full.details
    assert full.verdict == "verified", full.evidence
    assert det["decided_fraction"] >= 0.99
    assert set(det["by_lemma"]) <= {"B.2", "B.2s"}
    assert det["conclusion_violations_float64_200_steps"] == 0
    assert all(r["margins"]["bound"] > 0 and r["margins"]["sign"] > 0 for r in det["records"])
    assert (full.to_json()["evidence_class"] == "certified") == (det["decided_fraction"] == 1.0)
    assert res.verdict == "verified"


def test_tb1_lemma_chain_can_fail_and_doctored_b2_is_refuted():
    from bnverify import lemma_chain as lc
    from bnverify.convergence import random_problem, unit_rows
    # w0 exactly orthogonal to g: y_K = 0 at every K (a fixed saddle), B.2 never applies
    p = OLSProblem.from_diagonal([1.0, 3.0, 7.0], [0.3, -0.5, 0.81])
    w0 = b1.exact_perp_w0(p)
    rec = lc.decide_batch(p, a0=np.ones(1), w0=np.array([w0]), eps=np.array([1e-4]),
                          eps_a=np.ones(1), max_steps=300, method="mbngd")[0]
    assert not rec["decided"] and "not met" in rec["reason"]
    # a "Lemma B.2" with its constant 10x too large is refuted by a run violating its conclusion
    rng = np.random.default_rng(5)
    p = random_problem(rng, (2, 5), 30.0)
    n = 200
    w0 = unit_rows(rng, n, p.d)
    eps = 10 ** rng.uniform(-1, 1.5, n) / p.lambda_max
    ones = np.ones(n)
    kw = dict(a0=ones, w0=w0, eps=eps, eps_a=ones, max_steps=2000, method="mbngd")
    viol = {}
    for doc in (1.0, 10.0):
        s = lc.scan(p, doctor=doc, **kw)
        ok = s["K"] >= 0
        W = w0.copy()
        Wk = w0.copy()
        for k in range(int(s["K"].max()) + 1):
            Wk[s["K"] == k] = W[s["K"] == k]
            _, W = lc.step(p, "mbngd", ones, W, eps, ones)
        viol[doc] = lc.conclusion_violated(p, a=ones, w=Wk, eps=eps, eps_a=ones,
                                           method="mbngd") & ok
    assert not viol[1.0].any() and viol[10.0].any()


@pytest.mark.parametrize("cid", ["L-B.2", "L-B.3"])
def test_verified(results, cid):
    assert results[cid].verdict == "verified", results[cid].evidence


def test_exact_perpendicular_start_is_a_fixed_saddle():
    p = OLSProblem.from_diagonal([1.0, 3.0, 7.0], [0.3, -0.5, 0.81])
    w0 = b1.exact_perp_w0(p)
    # w0^T g = 0 exactly as a statement about the float64 numbers w0 and g, so it is checked in
    # exact rationals: a float64 dot product (BLAS) may fuse one product into an FMA and return
    # the rounding error of the other (2.8e-17 with OpenBLAS's SkylakeX kernel)
    assert sum(Fraction(x) * Fraction(y) for x, y in zip(w0, p.g, strict=True)) == 0
    assert decide(p, "mbngd", eps=1.0, w0=w0).label.item() == SADDLE


# ---------------------------------------------------------------------------------- mutations

P = OLSProblem.from_diagonal([1.0, 2.0, 9.0], [0.6, 0.48, 0.64])


def test_mutation_perturbed_start_is_not_a_saddle():
    c = Configuration(P, 1.0, b1.exact_perp_w0(P), 1.0, 1.0)
    r = check_property("T-B.1", st.just(c),
                       lambda x: Outcome(b1.saddle_iff_holds(x, perturb=1e-6).measured[
                           "decision"] == SADDLE), CTX,
                       statement="wrong: a perturbed start still reaches the saddle",
                       tolerance="-", database=False)
    assert r.verdict == "refuted"


def test_mutation_lb2_step_above_bound():
    w0 = np.array([1.0, 1.0, 0.0])
    bound = 2 * (w0 @ w0) / (P.kappa * P.lambda_max * (P.u @ P.u))
    assert b1.lb2_eff_step_bounds(Configuration(P, 1.0, w0, 1.0, 0.5 * bound)).holds
    assert not b1.lb2_eff_step_bounds(Configuration(P, 1.0, w0, 1.0, 3.0 * bound)).holds


def test_mutation_lb3_delta_too_large():
    """With delta = 10 ||g|| (far too large) a step can shrink |y|: H = diag(1, 100),
    u = (1, 0.1), w = (1, 1): ||g||^2 - (y/sigma^2) g^T H w = 101 - 109 < 0, so eps = 20 gives
    y_1 = y (1 - 8 eps/101) = -0.58 y."""
    P2 = OLSProblem.from_diagonal([1.0, 100.0], [1.0, 0.1])
    c = Configuration(P2, 1.0, np.array([1.0, 1.0]), 1.0, 20.0)
    big = lambda p: 10 * float(np.linalg.norm(p.g))  # noqa: E731
    r = check_property("L-B.3", st.just(c), lambda x: b1.lb3_increase_holds(x, delta=big), CTX,
                       statement="wrong: delta = 10 ||g||", tolerance="-", database=False)
    assert r.verdict == "refuted"
    assert b1.lb3_increase_holds(c).holds  # |y| = 11 is not below 2 ||g||/(4 kappa)

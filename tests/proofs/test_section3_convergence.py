"""Section 3 convergence claims (T3.3, T3.3-1, T3.3-2, S3.norm-monotone, S3.no-saddle, S3.linear,
P3.5, S3.insensitive): verdicts at the quick profile (seed 0), replayable counterexamples, and
mutation tests (a deliberately wrong variant must be refuted)."""

import numpy as np
import pytest
from hypothesis import strategies as st

from bnverify import convergence_harness
from bnverify.claims import CheckContext, run_claim
from bnverify.config import problem_from_config
from bnverify.convergence import trajectory
from bnverify.dynamics.batched import run
from bnverify.model import OLSProblem
from bnverify.properties import Outcome, check_property
from bnverify.strategies import Configuration
from proofs import sec3_2_convergence as s32
from proofs import sec3_3_rates as s33

# small fixed configurations for mutation tests (st.sampled_from: no slow shrinking)
P4 = OLSProblem.from_diagonal([1.0, 1.0, 1.0, 10.0], [0.5, 0.5, 0.5, 0.5])
FIXED = [Configuration(P4, 1.0, np.array([1.0, 0.2, 0.0, 0.3]), 1.0, 0.05),
         Configuration(P4, 0.0, np.array([1.0, 0.0, 0.0, 0.0]), 0.25, 1.0),
         Configuration(P4, 2.0, np.array([0.0, 1.0, 1.0, 0.0]), 0.5, 10.0)]

CTX = CheckContext("quick", 0)
IDS = ("T3.3", "T3.3-1", "T3.3-2", "S3.norm-monotone", "S3.no-saddle", "S3.linear", "P3.5",
       "S3.insensitive")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("BNVERIFY_CACHE", str(tmp_path_factory.mktemp("cache")))
    try:
        yield {cid: run_claim(cid, CTX) for cid in IDS}
    finally:
        mp.undo()


def by_method(res, method):
    return next(r for r in res.results if r.method == method)


def test_t33_window_verified_full_range_decided_by_lemma_chain(results):
    res = results["T3.3"]
    win = by_method(res, "decision-window")
    assert win.verdict == "verified" and win.details["decided_fraction"] == 1.0
    full = by_method(res, "decision")
    assert full.verdict in ("verified", "inconclusive"), full.evidence
    det = full.details
    assert det["decided_fraction"] >= 0.98  # certified through the lemma chain
    assert det["counts"]["diverged"] == 0 and det["counts"]["saddle"] == 0
    assert len(det["records"]) == det["decided_by_lemma_chain"]
    assert det["conclusion_violations_float64_200_steps"] == 0
    assert all(r["margins"]["bound"] > 0 for r in det["records"])
    assert all(r["margins"].get("sign", 1.0) > 0 for r in det["records"])
    # certified class only when the chain decided every configuration
    assert (full.to_json()["evidence_class"] == "certified") == (det["decided_fraction"] == 1.0)


@pytest.mark.parametrize("cid", ["T3.3-1", "S3.no-saddle", "S3.linear"])
def test_verified_claims(results, cid):
    assert results[cid].verdict == "verified", results[cid].evidence


def test_t33_2_refuted_only_at_thm_a21_boundary_eps0(results):
    """Thm. 3.3(2) (eps > 0) passes its Monte Carlo; Thm. A.21's printed eps >= 0 fails at
    eps = 0 (exact check in proofs/sec3_2_convergence.py)."""
    res = results["T3.3-2"]
    assert res.verdict == "refuted" and res.severity == "degenerate", res.evidence
    assert [r.method for r in res.results if r.verdict == "refuted"] == ["symbolic:boundary"]
    assert by_method(res, "monte-carlo").verdict == "verified"


def test_monte_carlo_reports_sample_size_and_bound(results):
    r = results["T3.3-2"].results[0]
    assert r.details["samples"] >= 900 and r.details["upper_bound_95"] < 0.01


def test_norm_monotone_strict_refuted_with_replayable_counterexample(results):
    res = results["S3.norm-monotone"]
    assert res.verdict == "refuted"
    assert by_method(res, "property").verdict == "verified"  # non-decreasing holds
    strict = by_method(res, "property-strict")
    assert strict.verdict == "refuted" and strict.correction.verdict == "verified"
    cfg = strict.counterexample
    p, prm = problem_from_config(cfg)
    A, W = trajectory(p, "bngd", a0=prm["a0"], w0=prm["w0"], eps=prm["eps"],
                      eps_a=prm["eps_a"], steps=s32.NORM_STEPS)
    n = np.linalg.norm(W, axis=-1)
    assert np.any(n[1:] <= n[:-1])  # a step where ||w|| does not increase (fixed point)


def test_p35_refuted_at_k0_correction_verified_and_replays(results):
    res = results["P3.5"].results[0]
    assert res.verdict == "refuted" and res.correction.verdict == "verified"
    p, prm = problem_from_config(res.counterexample)
    eps = np.array([1.0, 10.0]) * prm["eps"]
    r = run(p, "bngd", eps=eps, w0=prm["w0"], eps_a=prm["eps_a"], a0=prm["a0"], steps=0)
    ratio = (r.eff_step[1] * eps[1]) / (r.eff_step[0] * eps[0])
    assert ratio == pytest.approx(100.0, rel=1e-9)  # eps^_0 eps grows like eps^2


def test_insensitive_refuted_at_k0_correction_verified(results):
    res = results["S3.insensitive"].results[0]
    assert res.verdict == "refuted" and res.correction.verdict == "verified"
    assert res.counterexample["steps"] == 0
    p, prm = problem_from_config(res.counterexample)
    f = s33.eff_step_of_eps(p, {"w0": prm["w0"], "eps_a": prm["eps_a"], "a0": prm["a0"]}, 0)
    assert not s33.interior_stationary_point(f, 1e-6, 1e8).holds


# ---------------------------------------------------------------------------------- mutations


def test_mutation_eps_a_beyond_range_is_refuted():
    """T3.3 with eps_a in [2.2, 3] (outside (0, 1]): runs diverge -> refuted."""
    counts, ex, det = s32.run_decisions(CTX, "mut", 1, 30, log_eps_eff=(-1.0, 1.0),
                                       eps_a=(2.2, 3.0), a0_large=False, max_steps=3000)
    r = convergence_harness.t33_verdict("T3.3", counts, ex, det, "wrong variant")
    assert r.verdict == "refuted" and counts["diverged"] > 0


def test_mutation_saddle_starts_refute_the_monte_carlo():
    r = s32.saddle_monte_carlo(CTX, "T3.3-2", n_problems=1, n_per=20, eps_a=(1.0, 1.0),
                              statement="wrong variant", init="saddle")
    assert r.verdict == "refuted" and r.counterexample["a0"] == 0.0


def test_mutation_norm_nonincreasing_is_refuted():
    def nonincreasing(c):
        inc = s32.norm_increments(c)
        return Outcome(bool(inc.size == 0 or inc.max() <= 1e-12))

    r = check_property("S3.norm-monotone", st.sampled_from(FIXED), nonincreasing, CTX,
                       statement="wrong: ||w_k|| non-increasing", tolerance="-",
                       max_examples=30, database=False)
    assert r.verdict == "refuted"


def test_mutation_linear_band_too_wide_is_refuted():
    assert all(s33.linear_rate_holds(c).holds for c in FIXED)
    r = check_property("S3.linear", st.sampled_from(FIXED),
                       lambda c: s33.linear_rate_holds(c, upper=lambda p: 2 / p.lambda_min), CTX,
                       statement="wrong: band up to 2/lambda_min", tolerance="-",
                       max_examples=40, database=False)
    assert r.verdict == "refuted"


def test_mutation_p35_wrong_power_is_refuted():
    p, x = s33.p35_configurations(CTX.rng("mut"), 1)[0]
    assert s33.p35_holds(p, x, regime="small", power=-1.0, k_from=0, steps=100).holds
    assert not s33.p35_holds(p, x, regime="small", power=1.0, k_from=0, steps=100).holds
    assert not s33.p35_holds(p, x, regime="large", power=-1.0, k_from=1, steps=100).holds


def test_mutation_gd_step_has_no_stationary_point():
    assert not s33.interior_stationary_point(lambda e: np.asarray(e, float), 1e-6, 1e8).holds
    assert s33.interior_stationary_point(lambda e: e / (1 + e**2), 1e-6, 1e8).holds


def test_insensitive_handles_a_peak_narrower_than_the_grid():
    def spike(e):
        e = np.asarray(e, float)
        return 0.1 * e / (1 + e**2) + np.where(np.abs(np.log(e / 3.155)) < 0.004, 0.3, 0.0)

    o = s33.interior_stationary_point(spike, 1e-6, 1e8)
    assert o.holds and o.measured["flat_width_decades"] >= 0.0

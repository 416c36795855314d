"""Appendix A.3-A.4 claims (L-A.10 .. L-A.18-20): verdicts at the quick profile (seed 0),
replayed counterexamples, mutation tests."""

import numpy as np
import pytest
from hypothesis import strategies as st

from bnverify.claims import CheckContext, run_claim
from bnverify.config import problem_from_config
from bnverify.convergence import random_problem, trajectory
from bnverify.model import OLSProblem
from bnverify.properties import Outcome, check_property
from bnverify.strategies import Configuration
from proofs import appA3_theorem_3_3 as a3
from proofs import appA4_strict_saddles as a4
from proofs import sec3_2_convergence as s32

CTX = CheckContext("quick", 0)
IDS = ("L-A.10", "L-A.11", "L-A.12", "L-A.13", "L-A.14", "L-A.15", "C-A.16", "L-A.18-20")


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


@pytest.mark.parametrize("cid", ["L-A.11", "L-A.12", "L-A.13", "L-A.14"])
def test_verified_claims(results, cid):
    assert results[cid].verdict == "verified", results[cid].evidence


def test_a10_bound_verified_divergence_refuted_and_replays(results):
    res = results["L-A.10"]
    assert res.verdict == "refuted"
    assert by_method(res, "property").verdict == "verified"
    div = by_method(res, "property-divergence")
    assert div.verdict == "refuted" and div.correction.verdict == "verified"
    p, prm = problem_from_config(div.counterexample)
    assert prm["eps_a"] > 2 and prm["a0"] == 1.0 and np.array_equal(prm["w0"], p.u)
    A, _ = trajectory(p, "bngd", a0=prm["a0"], w0=prm["w0"], eps=prm["eps"],
                      eps_a=prm["eps_a"], steps=200)
    assert p.u_norm_H == pytest.approx(1.0)  # a0 = sqrt(u^T H u): a_k stays at 1
    assert np.max(np.abs(A)) < 2


def test_a11_and_a14_hypotheses_are_needed(results):
    need = results["L-A.11"].results[0].details["hypotheses_needed"]
    assert need["upper_bound"] == "refuted" and need["lower_bound"] == "refuted"
    need14 = results["L-A.14"].results[0].details["hypotheses_needed"]
    assert all(v["verdict"] == "refuted" for v in need14.values())


def test_a15_proved_with_explicit_constants_and_sampled_cross_check(results):
    res = results["L-A.15"]
    assert res.verdict == "verified" and res.evidence_class == "proof", res.evidence
    sym = by_method(res, "symbolic")
    assert sym.verdict == "verified" and sym.to_json()["evidence_class"] == "proof"
    assert "verified with explicit constants" in sym.evidence
    assert sym.details["constants"]["delta0"] == "1/8 lambda_min C^2"
    assert all(s["ok"] for s in sym.details["steps"]) and len(sym.details["steps"]) == 7
    assert sym.details["sharpness_witness_frac_5_4"]["ok"]
    samp = by_method(res, "sampled")
    assert samp.verdict == "verified"
    assert samp.details["violations"] == 0 and samp.details["in_S1"] > 0
    assert samp.details["in_S2"] > 0


def test_mutation_a15_delta0_ten_times_too_large_fails_the_proof():
    """delta0 = 10 lambda_min C^2/8 (frac = 5): the gap step fails and an exact rational point
    lies in both parts (H = I, u = e1), so the doctored statement is refuted."""
    r = a3.a15_symbolic(CTX, frac=5)
    assert r.verdict == "refuted"
    failed = [s["step"] for s in r.details["steps"] if not s["ok"]]
    assert failed and failed[0].startswith("gap")
    wit = r.counterexample
    assert wit["in_S"] and wit["in_S1"] and wit["in_S2"]
    from fractions import Fraction
    w = [Fraction(x) for x in wit["w"]]
    y2, s2 = w[0] ** 2, w[0] ** 2 + w[1] ** 2
    q = 1 - y2 / s2
    assert s2 >= 1 and y2 * q < Fraction(5, 4) and y2 > Fraction(1, 2) and q >= Fraction(1, 2)
    # the boundary frac = 1 is not provable (no gap) and no witness exists there
    assert a3.a15_symbolic(CTX, frac=1).verdict == "inconclusive"
    assert a3.separation_witness(1) is None


def test_c16_refuted_with_correction(results):
    r = results["C-A.16"].results[0]
    assert r.verdict == "refuted" and r.correction.verdict == "verified"
    cx = a3.c16_counterexample(30)
    t = cx["tail"]
    assert t["max_y2"] > 8.9 and t["max_q"] > 2.9  # neither y^2 nor q tends to 0
    assert t["max_y2q"] < 0.01 and t["max_step"] < 0.01  # hypotheses hold in the limit
    early = a3.c16_counterexample(10)["tail"]
    assert t["max_y2q"] < early["max_y2q"] and t["max_step"] < early["max_step"]


def test_a18_20_methods(results):
    res = results["L-A.18-20"]
    assert {r.method for r in res.results} == {"property-saddle", "monte-carlo-det", "monte-carlo",
                                               "symbolic:boundary"}
    mc = by_method(res, "monte-carlo")
    assert mc.details["samples"] > 500 and mc.details["events"] == 0


# ---------------------------------------------------------------------------------- mutations

P3 = OLSProblem.from_diagonal([1.0, 2.0, 5.0], [0.6, 0.0, 0.8])
FIXED = [Configuration(P3, 5.0, np.array([1.0, 1.0, 0.0]), 0.7, 1.0),
         Configuration(P3, -2.0, np.array([0.0, 1.0, 1.0]), 1.5, 100.0)]


def test_mutation_a10_bound_without_2c_term():
    r = check_property("L-A.10", st.sampled_from(FIXED),
                       lambda c: a3.a_bound_holds(c, bound=lambda a0, ea, C: abs(a0)), CTX,
                       statement="wrong: |a_k| <= |a0|", tolerance="-", database=False)
    assert r.verdict == "refuted"


def test_mutation_a10_divergence_for_eps_a_below_2():
    c = Configuration(P3, 1.0, P3.u.copy(), 1.5, 1.0)
    assert not a3.a_diverges(c).holds
    assert a3.a_diverges(Configuration(P3, 1.0, P3.u.copy(), 3.0, 1.0)).holds


def test_mutation_a13_rate_without_second_term():
    r = a3.a13_contraction_check(CTX, r_fn=lambda p, eps, ea: np.abs(1 - ea))
    assert r.verdict == "refuted"


def test_mutation_a14_r_equal_one():
    s = {"r": 1.0, "f0": 1.0, "h0": 0.0, "family": "geometric", "rho": 0.5, "p": 2.0, "m": 1,
         "slack": 0.0, "slack_seed": 0, "positive": True}
    assert not a3.a14_holds(s).holds
    assert a3.a14_holds({**s, "r": 0.5}).holds


def test_mutation_separation_without_norm_bound():
    """Dropping ||w|| >= 1 (the gap in C-A.16 as printed): points near the origin fall in
    neither part."""
    rng = np.random.default_rng(1)
    viol = ok = 0
    for _ in range(5):
        p = random_problem(rng, (2, 4), 100.0)
        w = a3.separation_samples(rng, p, 2000, log_norm=(-4.0, 2.0))
        viol += a3.separation_holds(p, w, min_norm=0.0).measured["violations"]
        ok += a3.separation_holds(p, w).measured["violations"]
    assert viol > 0 and ok == 0


def test_mutation_det_positive_everywhere_is_refuted():
    ctx = CheckContext("quick", 0)
    r = a4.det_nonzero_monte_carlo(ctx, event_fn=lambda det, sv: det < 0, event="det < 0")
    assert r.verdict == "refuted"


def test_mutation_saddle_hessian_psd_is_refuted():
    def psd(t):
        o = a4.saddle_negative_eigenvalue(*t)
        return Outcome(not o.holds, o.measured)

    r = check_property("L-A.18-20", a4.saddle_points(), psd, CTX,
                       statement="wrong: saddle Hessian PSD", tolerance="-", max_examples=10,
                       database=False)
    assert r.verdict == "refuted"


# -- boundaries: L-A.18-20 at d = 1, Thm. A.21 (claim T3.3-2) at eps = 0 -------------------------


def test_a18_20_refuted_only_at_d1_eps1_with_verified_correction(results):
    from fractions import Fraction

    res = results["L-A.18-20"]
    assert res.verdict == "refuted" and res.severity == "degenerate", res.evidence
    assert [r.method for r in res.results if r.verdict == "refuted"] == ["symbolic:boundary"]
    assert all(r.verdict == "verified" for r in res.results if r.method != "symbolic:boundary")
    b = by_method(res, "symbolic:boundary")
    assert b.to_json()["evidence_class"] == "proof" and res.evidence_class == "proof"
    cex = b.counterexample
    assert cex["d"] == 1 and cex["eps"] == 1 and cex["det"] == "0"
    # replay: at d = 1, J(a, w) = (h u^2 - 2 a sqrt(h) u sign(w) + a^2)/2; exact Hessian by hand
    a, w = Fraction(cex["x"]["a"]), cex["x"]["w"][0]
    assert w != 0 and (1 - cex["eps"] * 1) * (1 - cex["eps"] * 0) == 0
    assert b.correction.verdict == "verified"
    d = b.details
    assert d["d1"]["no_saddles"] and d["d_ge_2"]["ok"]
    assert d["d_ge_2"]["point"]["det_eps_1_plus_t"] == "-4*t**2 - 9*t - 4"
    assert max(abs(x) for x in d["engine_det_d1_eps1"]) < 1e-8  # FD engine agrees: det = 0
    assert a == Fraction(1, 2)


def test_a19_boundary_check_passes_off_the_boundary_and_fails_on_doctored_hessian():
    ok = a4.a19_boundary_check(CTX, eps_value=2)
    assert ok.verdict == "verified" and "= -1 != 0" in ok.evidence
    assert a4.a19_boundary_check(CTX, eps_value="3/2").verdict == "verified"
    r = a4.a19_boundary(1)
    assert r["d1"]["det_vanishes"]
    bad = {**r, "d1": {**r["d1"], "w>0": {**r["d1"]["w>0"], "ok": False}}}
    assert a4.a19_boundary_check(CTX, result=bad).verdict == "inconclusive"


def test_t33_2_refuted_at_eps0_exactly_monte_carlo_still_verified():
    res = run_claim("T3.3-2", CTX)
    assert res.verdict == "refuted" and res.severity == "degenerate", res.evidence
    assert by_method(res, "monte-carlo").verdict == "verified"
    b = by_method(res, "symbolic:boundary")
    assert b.verdict == "refuted" and b.to_json()["evidence_class"] == "proof"
    cex = b.counterexample
    assert cex["eps"] == 0 and cex["J_limit"] == "1" and cex["J_star"] == "0"
    assert b.correction.verdict == "verified" and "eps > 0" in b.correction.statement
    # float engine agrees with the exact fixed point (1, (1, 0)), loss 1
    eng = b.details["run"]["engine"]
    assert eng["a_50"] == 1.0 and eng["w_50"] == [1.0, 0.0] and abs(eng["loss_50"] - 1) < 1e-12


@pytest.mark.parametrize("cfg", [
    {"H_diag": (3,), "u_vec": (2,), "w0_vec": (-5,), "a0_value": 7},   # d = 1: w0 || u always
    {"w0_vec": (2, 2)},                                                  # w0 || u
])
def test_a21_boundary_check_does_not_refute_where_eps0_reaches_a_minimiser(cfg):
    r = s32.a21_eps0_check(CTX, **cfg)
    assert r.verdict == "inconclusive" and r.counterexample is None
    assert r.details["run"]["J_limit"] == "0" and r.details["general"]["ok"]


def test_a21_boundary_check_refutes_generic_w0_in_d3():
    r = s32.a21_eps0_check(CTX, H_diag=(1, 2, 3), u_vec=(1, 0, 1), w0_vec=(1, 1, 0),
                          a0_value="1/3")
    assert r.verdict == "refuted" and r.counterexample["J_limit"] not in ("0",)


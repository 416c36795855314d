"""Appendix A.5-A.6 claims (L-A.23, E74-80): verdicts at the quick profile (seed 0), replayed
counterexamples, mutation tests."""

import numpy as np
import pytest
from hypothesis import strategies as st

from bnverify.claims import CheckContext, run_claim
from bnverify.config import problem_from_config
from bnverify.model import OLSProblem
from bnverify.properties import check_property
from bnverify.strategies import Configuration
from proofs import appA5_rate as a5
from proofs import appA6_effective_step as a6

CTX = CheckContext("quick", 0)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("BNVERIFY_CACHE", str(tmp_path_factory.mktemp("cache")))
    try:
        yield {cid: run_claim(cid, CTX) for cid in ("L-A.23", "E74-80")}
    finally:
        mp.undo()


def by_method(res, method):
    return next(r for r in res.results if r.method == method)


def config_of(cfg):
    p, prm = problem_from_config(cfg)
    return Configuration(p, prm["a0"], prm["w0"], prm["eps_a"], prm["eps"])


def test_a23_refuted_with_replay_and_verified_correction(results):
    r = results["L-A.23"].results[0]
    assert r.verdict == "refuted" and r.correction.verdict == "verified"
    c = config_of(r.counterexample)
    assert not a5.a23_holds(c).holds  # the printed k gamma^k fails on the replayed trajectory
    assert a5.a23_holds(c, shift=1).holds  # k gamma^(k-1) holds
    assert a5.a23_holds(c).measured["first_violation_k"] >= 1


def test_e74_lower_bound_refuted_correction_verified_and_replays(results):
    res = results["E74-80"]
    assert res.verdict == "refuted"
    r74 = by_method(res, "property-74")
    assert r74.verdict == "refuted" and r74.correction.verdict == "verified"
    c = config_of(r74.counterexample)
    assert not a6.e74_bounds_hold(c).holds
    assert a6.e74_bounds_hold(c, lower="corrected").holds


def test_c3_and_76_verified(results):
    assert by_method(results["E74-80"], "property-78").verdict == "verified"
    r76 = by_method(results["E74-80"], "sweep-76")
    assert r76.verdict == "verified" and all(r["C_estimate"] > 0 for r in r76.details["rows"])


def test_c3_value_on_a_worked_example():
    # H = diag(1, 4), u = (1, 1), w0 = (1, 0), a0 = 2: sigma0 = 1, t = 1, e0 = (0, 1),
    # H e0 = (0, 4): C3 = a0^2 ||H e0||^2 / sigma0^2 = 4 * 16 = 64
    c = Configuration(OLSProblem.from_diagonal([1.0, 4.0], [1.0, 1.0]), 2.0,
                      np.array([1.0, 0.0]), 1.0, 1.0)
    assert a6.c3_formula(c) == pytest.approx(64.0)
    assert a6.c3_holds(c).holds


# ---------------------------------------------------------------------------------- mutations


def test_mutation_c3_wrong_power_of_sigma():
    c = Configuration(OLSProblem.from_diagonal([1.0, 4.0], [1.0, 1.0]), 2.0,
                      np.array([2.0, 0.0]), 1.0, 1.0)
    wrong = lambda c: a6.c3_formula(c) / np.sqrt(c.w0 @ c.problem.H @ c.w0)  # noqa: E731
    r = check_property("E74-80", st.just(c), lambda x: a6.c3_holds(x, formula=wrong), CTX,
                       statement="wrong: C3 with sigma0^3", tolerance="-", database=False)
    assert r.verdict == "refuted"


def test_mutation_a23_search_detects_dropped_term():
    n_ok, n_bad, cfg, worst = a5.a23_search(CTX, shift=1, drop_c2=True, salt="mut")
    assert n_bad > 0 and worst > 1 and cfg is not None


def test_mutation_e74_lower_constant_too_large():
    c = Configuration(OLSProblem.from_diagonal([1.0, 2.0], [0.6, 0.8]), 1.0,
                      np.array([0.8, 0.6]), 1.0, 0.01)
    assert a6.e74_bounds_hold(c, lower="corrected").holds
    assert not a6.e74_bounds_hold(c, lower="none").holds


def test_mutation_76_with_eps_squared():
    p = OLSProblem.from_diagonal([1.0, 2.0], [0.6, 0.8])
    x = {"a0": 1.0, "w0": np.array([1.0, 0.0]), "eps_a": 1.0}
    assert a6.norm_growth_constant(p, x).holds
    wrong = a6.norm_growth_constant(p, x, power=2.0)
    assert wrong.measured["converged"] and not wrong.holds

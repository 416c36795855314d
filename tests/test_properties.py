"""The property runner can fail: wrong properties are refuted with shrunk counterexamples;
Monte Carlo bounds; strategies produce valid, replayable configurations."""

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bnverify.claims import CheckContext
from bnverify.config import problem_from_config
from bnverify.properties import check_property, monte_carlo_result, upper_bound_95
from bnverify.strategies import configurations, problems


def test_true_property_verified_false_property_refuted_and_shrunk():
    ctx = CheckContext(seed=1)
    # kappa >= 1 always holds
    ok = check_property(
        "S2.GD-opt",
        problems(max_d=6),
        lambda p: p.kappa >= 1.0,
        ctx,
        statement="kappa >= 1",
        tolerance="exact",
        database=False,
    )
    assert ok.verdict == "verified" and ok.details["examples"] > 0
    # a wrong claim: 'every problem has kappa < 5' must be refuted with a small example
    bad = check_property(
        "S2.GD-opt",
        problems(max_d=6),
        lambda p: p.kappa < 5.0,
        ctx,
        statement="kappa < 5",
        tolerance="exact",
        database=False,
    )
    assert bad.verdict == "refuted"
    assert bad.counterexample is not None and "H_diag" in bad.counterexample
    assert len(bad.counterexample["u"]) <= 2  # shrunk to a tiny dimension


def test_configuration_counterexample_replays():
    ctx = CheckContext(seed=2)
    r = check_property(
        "E40",
        configurations(max_d=5),
        lambda c: c.eps < 1.0,
        ctx,
        statement="eps < 1",
        tolerance="exact",
        database=False,
    )
    assert r.verdict == "refuted"
    cfg = json.loads(json.dumps(r.counterexample))
    problem, params = problem_from_config(cfg)
    assert params["eps"] >= 1.0


def test_same_seed_same_counterexample():
    ctx = CheckContext(seed=5)
    r1 = check_property(
        "E26",
        problems(max_d=8),
        lambda p: p.d < 4,
        ctx,
        statement="d<4",
        tolerance="exact",
        database=False,
    )
    r2 = check_property(
        "E26",
        problems(max_d=8),
        lambda p: p.d < 4,
        ctx,
        statement="d<4",
        tolerance="exact",
        database=False,
    )
    assert r1.counterexample == r2.counterexample


def test_upper_bound_95():
    assert upper_bound_95(0, 100) == 1 - 0.05 ** (1 / 100)
    # k > 0: the bound p satisfies P[Bin(n, p) <= k] = 0.05
    from math import comb

    p = upper_bound_95(3, 50)
    cdf = sum(comb(50, i) * p**i * (1 - p) ** (50 - i) for i in range(4))
    assert abs(cdf - 0.05) < 1e-6
    # large n with k > 0 (the regime where a hypergeometric-series evaluation fails to converge)
    assert 4.4e-4 < upper_bound_95(22, 50000) < 7e-4
    assert (
        monte_carlo_result("T3.3-2", 0, 200, event="reached a saddle", statement="s").verdict
        == "verified"
    )
    assert (
        monte_carlo_result("T3.3-2", 50, 200, event="reached a saddle", statement="s").verdict
        == "refuted"
    )


@settings(max_examples=30)
@given(configurations(max_d=8))
def test_strategy_configurations_are_valid(c):
    p = c.problem
    assert p.d == c.w0.shape[0] and np.any(c.w0)
    assert 0 < c.eps_a < 2.5 and 1e-8 <= c.eps <= 1e16 and -1e3 <= c.a0 <= 1e3
    assert p.lambda_min > 0
    problem_from_config(c.to_json())  # replayable


@settings(max_examples=30)
@given(st.data())
def test_degenerate_alignments(data):
    c = data.draw(configurations(min_d=2, max_d=6, w0_kinds=("perp-g",)))
    g = c.problem.g
    assert abs(c.w0 @ g) <= 1e-9 * np.linalg.norm(c.w0) * np.linalg.norm(g)

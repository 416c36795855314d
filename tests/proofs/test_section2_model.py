"""Tests of the Section 2 checks (proofs/sec2_1_ols.py, proofs/sec2_2_batch_normalization.py): verdicts at the quick profile and mutation tests."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np

from bnverify import objective_points
from bnverify.claims import CheckContext
from bnverify.config import problem_from_config
from bnverify.hessian_fd import Point, hessian_points
from bnverify.model import OLSProblem
from bnverify.properties import check_property
from bnverify.strategies import Configuration
from proofs import appA1_gradients_hessian as a1
from proofs import sec2_1_ols as ols
from proofs import sec2_2_batch_normalization as bn

CTX = CheckContext(profile="quick", seed=0)


def _cfg(h, u, w0, eps):
    p = OLSProblem(np.diag(np.asarray(h, dtype=float)), np.asarray(u, dtype=float))
    return Configuration(p, 1.0, np.asarray(w0, dtype=float), 1.0, eps)


def test_gd_step_iff_at_boundary_and_mutation():
    for t in (0.5, 1.0 - 1e-9, 1.0, 1.0 + 1e-9, 1.5):
        cfg = _cfg([1.0, 2.0], [1.0, 1.0], [0.0, 3.0], t * 2 / 2.0)
        assert ols.gd_step_iff(ols.StepCase(cfg, t)), t
    wrong = lambda p: Fraction(1) / Fraction(p.lambda_max)  # noqa: E731
    assert not ols.gd_step_iff(ols.StepCase(_cfg([1.0, 2.0], [1.0, 1.0], [0.0, 3.0], 0.75), 0.75),
                             threshold=wrong)
    r = check_property("S2.GD-step", ols.step_cases(), lambda c: ols.gd_step_iff(c, threshold=wrong),
                       CTX, statement="wrong threshold", tolerance="-", max_examples=20,
                       database=False)
    assert r.verdict == "refuted"


def test_gd_rate_and_opt_and_mutations():
    cfg = _cfg([1.0, 10.0], [1.0, -1.0], [3.0, 2.0], 0.15)
    assert ols.gd_contracts(cfg)
    assert not ols.gd_contracts(cfg, rate=0.5 * cfg.problem.rho(cfg.eps))
    p = OLSProblem(np.diag([1.0, 3.0, 10.0]), np.array([1.0, 1.0, 1.0]))
    assert ols.gd_opt_holds(p)
    assert not ols.gd_opt_holds(p, eps_opt=lambda q: 1.0 / q.lambda_max)


def test_objective_and_e16_and_mutations():
    p = OLSProblem(np.diag([1.0, 2.0]), np.array([1.0, 0.5]), noise=1.0)
    pt = objective_points.ObjectivePoint(p, 0.8, np.array([0.6, 0.8]))
    assert bn.objective_matches(pt)
    assert not bn.objective_matches(pt, C=lambda q: q.u_norm_H**2 / 2)  # E16's constant
    assert a1.e16_matches(pt)
    assert not a1.e16_matches(pt, offset=lambda q: 0.0)  # literal equality fails with noise
    r = check_property("S2.BN-objective", objective_points.objective_points(),
                       lambda x: bn.objective_matches(x, C=lambda q: q.c / 2 + 0.1), CTX,
                       statement="wrong C", tolerance="-", max_examples=10, database=False)
    assert r.verdict == "refuted"


def _pt(H, u, a, w, kind, s=None):
    p = OLSProblem(np.asarray(H, dtype=float), np.asarray(u, dtype=float))
    with mpmath.workdps(60):
        return Point(p, mpmath.mpf(a), tuple(mpmath.mpf(x) for x in w), kind, s)


def test_critical_points_classification_and_mutations():
    H, u = np.diag([1.0, 3.0]), [1.0, 0.5]
    saddle = _pt(H, u, 0, [1.5, -1.0], "saddle")  # w^T g = 1.5 - 1.5 = 0
    assert bn.trivial_saddle_holds(saddle) and bn.strict_saddle_holds(saddle)
    assert not bn.trivial_saddle_holds(_pt(H, u, 0.5, [1.5, -1.0], "generic"))
    with mpmath.workdps(60):
        a_star = mpmath.sqrt(mpmath.mpf(1) + 3 * mpmath.mpf(0.25))
    mini = _pt(H, u, a_star, [2.0, 1.0], "minimizer", 2.0)
    assert objective_points.minimizer_holds(mini) and bn.degenerate_holds(mini)
    assert not objective_points.minimizer_holds(mini, sign=-1)
    assert not bn.strict_saddle_holds(mini)
    assert not bn.degenerate_holds(_pt(H, u, 1.0, [0.3, 1.0], "generic"))


def test_e22_23_refuted_counterexample_replays():
    r = a1.check_e22_23(CTX)
    assert r.verdict == "refuted"
    assert r.correction is not None and r.correction.verdict == "verified"
    cfg = r.counterexample
    p, _ = problem_from_config(cfg)
    with mpmath.workdps(60):
        w = tuple(mpmath.mpf(x) for x in cfg["w0"])
        s = float(w[0] / mpmath.mpf(float(p.u[0]))) if p.u[0] else float(w[1] / mpmath.mpf(float(p.u[1])))
        pt = Point(p, mpmath.mpf(cfg["a0"]), w, "minimizer", s)
    assert abs(np.linalg.norm(p.u) - 1) > 1e-6
    assert not objective_points.minimizer_hessian_matches(pt)
    assert objective_points.minimizer_hessian_matches(pt, lambda um, s_: sum(x * x for x in um))
    # the printed form is right when ||u|| = 1 exactly
    unit = _pt(np.diag([1.0, 3.0]), [1.0, 0.0], 1.0, [2.0, 0.0], "minimizer", 2.0)
    assert objective_points.minimizer_hessian_matches(unit)


def test_minimizer_strategy_draws_exact_points():
    from hypothesis import given, settings

    @settings(max_examples=5, database=None)
    @given(hessian_points("minimizer"))
    def t(pt):
        assert objective_points.minimizer_holds(pt)

    t()

"""Tests of the gradient / Hessian checks (proofs/appA1_gradients_hessian.py, bnverify.hessian_fd): verdicts at the quick profile and mutation tests."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import strategies as st

from bnverify import hessian_fd
from bnverify.claims import CheckContext
from bnverify.config import problem_from_config
from bnverify.model import OLSProblem
from bnverify.properties import check_property
from bnverify.strategies import Configuration, configurations
from proofs import appA1_gradients_hessian as a1
from proofs import appB1_mbngd_proof as b1

CTX = CheckContext(profile="quick", seed=0)


def _point(H, u, a, w, kind="generic") -> hessian_fd.Point:
    p = OLSProblem(np.asarray(H, dtype=float), np.asarray(u, dtype=float))
    with mpmath.workdps(60):
        return hessian_fd.Point(p, mpmath.mpf(a), tuple(mpmath.mpf(x) for x in w), kind)


def test_e17_18_verified_and_mutation_refuted():
    assert a1.check_e17_18(CTX).verdict == "verified"
    pt = _point(np.diag([1.0, 3.0]), [1.0, 0.5], 0.7, [0.3, -1.0])
    assert a1.gradient_matches(pt)
    assert not a1.gradient_matches(pt, w_sign=+1)
    r = check_property("E17-18", hessian_fd.hessian_points(), lambda q: a1.gradient_matches(q, a_coef=+1),
                       CTX, statement="wrong sign", tolerance="-", max_examples=10, database=False)
    assert r.verdict == "refuted"


def test_e19_21_both_readings_and_mutation():
    pt = _point(np.diag([1.0, 2.0, 5.0]), [1.0, 0.5, 0.2], 0.7, [0.3, 1.0, -1.0])
    assert a1.hessian_matches(pt, "catalogue")
    assert a1.hessian_matches(pt, "factored")
    assert not a1.hessian_matches(pt, "catalogue", coef3=2)
    assert not a1.hessian_matches(pt, "catalogue", a21_sign=+1)


@pytest.mark.slow
def test_e19_21_mutation_refuted_by_runner():
    r = check_property("E19-21", hessian_fd.hessian_points(),
                       lambda q: a1.hessian_matches(q, a21_sign=+1), CTX, statement="wrong A21",
                       tolerance="-", max_examples=10, database=False)
    assert r.verdict == "refuted"


def test_saddle_eigs_refuted_counterexample_replays():
    r = a1.check_saddle_eigs(CTX)
    assert r.verdict == "refuted"
    assert r.correction is not None and r.correction.verdict == "verified"
    cfg = r.counterexample
    p, params = problem_from_config(cfg)
    with mpmath.workdps(60):
        pt = hessian_fd.Point(p, mpmath.mpf(cfg["a0"]), tuple(mpmath.mpf(x) for x in cfg["w0"]), "saddle")
    sp = a1.saddle_spectrum(pt)
    assert sp["zeros"] == p.d - 1 != p.d - 2
    assert sp["positive"] == 1 and sp["negative"] == 1
    assert not a1.saddle_eigs_holds(pt)
    assert a1.saddle_eigs_holds(pt, zeros_expected=lambda d: d - 1)


def test_e81_verified_and_mutation_refuted():
    p = OLSProblem(np.diag([1.0, 4.0, 9.0]), np.array([1.0, -0.5, 0.25]))
    cfg = Configuration(p, 1.0, np.array([0.3, 1.0, 0.2]), 1.0, 0.05)
    assert b1.mbngd_matches(cfg)
    assert not b1.mbngd_matches(cfg, variant="wrong-a")


@pytest.mark.slow
def test_e81_mutation_refuted_by_runner():
    strat = configurations(max_d=4, eps=st.just(0.1), w0_kinds=("generic",))
    r = check_property("E81", strat, lambda c: b1.mbngd_matches(c, variant="wrong-a"), CTX,
                       statement="wrong a", tolerance="-", max_examples=10, database=False)
    assert r.verdict == "refuted"

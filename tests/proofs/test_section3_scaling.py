"""Tests of proofs/sec3_1_scaling.py (and bnverify.scaling_support): Prop. 3.2 readings on engine orbits, mutations."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from bnverify import scaling_support
from bnverify.claims import CheckContext
from bnverify.config import problem_from_config
from bnverify.model import OLSProblem
from bnverify.strategies import Configuration
from proofs import sec3_1_scaling as s31

CTX = CheckContext(profile="quick", seed=0)


def _case(h, u, w0, m="1", gamma="1", r="1", v1=None, v2=None, a0=1.0, eps=0.5, eps_a=0.5):
    p = OLSProblem(np.diag(np.asarray(h, dtype=float)), np.asarray(u, dtype=float))
    d = p.d
    cfg = Configuration(p, a0, np.asarray(w0, dtype=float), eps_a, eps)
    return scaling_support.ScalingCase(cfg, Fraction(m), Fraction(gamma), tuple(v1 or (0,) * d),
                         tuple(v2 or (0,) * d), Fraction(r))


def test_printed_readings_fail_and_correction_holds():
    c = _case([1.0], [1.0], [1.0], m="2")
    assert not scaling_support.equivalent(c, "main")
    assert scaling_support.equivalent(c, "corrected")
    c = _case([1.0], [1.0], [1.0], gamma="4")
    assert not scaling_support.equivalent(c, "appendix")
    assert scaling_support.equivalent(c, "corrected")
    # a non-symmetric Q (product of two reflections) with mu = gamma = 1: Q vs Q^T matters
    c = _case([1.0, 3.0, 7.0], [1.0, -1.0, 0.5], [0.2, 1.0, -0.4], v1=(1, 2, 0), v2=(0, 1, 1))
    assert not scaling_support.equivalent(c, "main")
    assert scaling_support.equivalent(c, "corrected")
    # the identity transform is an equivalence (the test is able to say "equivalent")
    assert scaling_support.equivalent(_case([1.0, 3.0], [1.0, -1.0], [0.2, 1.0]), "main")


def test_p321_refuted_with_replayable_counterexample():
    r = s31.check_p321_main(CTX)
    assert r.verdict == "refuted"
    assert r.correction is not None and r.correction.verdict == "verified"
    p, params = problem_from_config(r.counterexample)
    assert p.d >= 1 and params["eps"] > 0


def test_p322_sign_of_r():
    assert scaling_support.equivalent(_case([1.0, 2.0], [1.0, 1.0], [0.3, 1.0], r="2"), "rw")
    c = _case([1.0, 2.0], [1.0, 1.0], [0.3, 1.0], r="-1")
    assert not scaling_support.equivalent(c, "rw")
    assert scaling_support.equivalent(c, "rw-corrected")

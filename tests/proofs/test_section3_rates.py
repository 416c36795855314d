"""Tests of proofs/section3_rates.py: identities and inequalities along engine trajectories,
with a deliberately wrong variant of each."""

from __future__ import annotations

import numpy as np
import pytest

from bnverify.claims import CheckContext
from bnverify.model import OLSProblem
from bnverify.properties import check_property
from bnverify.strategies import Configuration
from proofs import section3_rates as R

CTX = CheckContext(profile="quick", seed=0)


def _cfg(h, u, w0, a0=1.0, eps=0.3, eps_a=0.7):
    p = OLSProblem(np.diag(np.asarray(h, dtype=float)), np.asarray(u, dtype=float))
    return Configuration(p, a0, np.asarray(w0, dtype=float), eps_a, eps)


GEN = _cfg([1.0, 3.0, 10.0], [1.0, -0.5, 0.3], [0.2, 1.0, -0.4], a0=2.0, eps=0.05)
NEAR = _cfg([1.0, 3.0, 10.0], [1.0, -0.5, 0.3], [1.001, -0.5, 0.3002], a0=1.36, eps=0.04)


def test_identities_hold_and_mutations_fail():
    for cfg in (GEN, NEAR):
        assert R.eff_step_holds(cfg)
        assert R.recurrence_holds(cfg)
        assert R.contraction_holds(cfg)
        assert R.e35_38_holds(cfg)
        assert R.e40_holds(cfg)
        assert R.e70_holds(cfg)
        assert R.e71_holds(cfg)
        assert R.la22_holds(cfg)
        assert R.la22_holds(cfg, "P3.4a")
    assert not R.eff_step_holds(GEN, sign=-1)
    assert not R.recurrence_holds(GEN, variant="t_next")
    assert not R.contraction_holds(GEN, rate_scale=0.5)
    assert not R.e35_38_holds(GEN, sign=+1)
    assert not R.e40_holds(GEN, power=1)
    assert not R.e70_holds(GEN, sign=-1)
    assert not R.la22_holds(GEN, "no-delta")


@pytest.mark.slow
def test_mutations_refuted_by_property_runner():
    r = check_property("E71", R.rate_configs(max_d=4), lambda c: R.e71_holds(c, c0_scale=0.0),
                       CTX, statement="C0 = 0", tolerance="-", max_examples=30, database=False)
    assert r.verdict == "refuted"
    r = check_property("S3.contraction", R.rate_configs(max_d=4),
                       lambda c: R.contraction_holds(c, rate_scale=0.5), CTX, statement="rho/2",
                       tolerance="-", max_examples=20, database=False)
    assert r.verdict == "refuted"


def test_la22_p34_verified_at_quick_profile():
    for fn in (R.check_la22, R.check_p34):
        res = fn(CTX)
        assert res.verdict == "verified", (fn.__name__, res.evidence)


@pytest.mark.slow
def test_checks_verified_at_quick_profile():
    for fn in (R.check_eff_step, R.check_recurrence, R.check_contraction, R.check_e35_38,
               R.check_e40, R.check_e70, R.check_e71):
        res = fn(CTX)
        assert res.verdict == "verified", (fn.__name__, res.evidence)

"""Tests of the rate checks (proofs/sec3_3_rates.py, appA3_theorem_3_3.py, appA5_rate.py;
bnverify.trajectories): identities and inequalities along engine trajectories,
with a deliberately wrong variant of each."""

from __future__ import annotations

import numpy as np
import pytest

from bnverify import trajectories
from bnverify.claims import CheckContext
from bnverify.model import OLSProblem
from bnverify.properties import check_property
from bnverify.strategies import Configuration
from proofs import appA3_theorem_3_3 as a3
from proofs import appA5_rate as a5
from proofs import sec3_3_rates as s33

CTX = CheckContext(profile="quick", seed=0)


def _cfg(h, u, w0, a0=1.0, eps=0.3, eps_a=0.7):
    p = OLSProblem(np.diag(np.asarray(h, dtype=float)), np.asarray(u, dtype=float))
    return Configuration(p, a0, np.asarray(w0, dtype=float), eps_a, eps)


GEN = _cfg([1.0, 3.0, 10.0], [1.0, -0.5, 0.3], [0.2, 1.0, -0.4], a0=2.0, eps=0.05)
NEAR = _cfg([1.0, 3.0, 10.0], [1.0, -0.5, 0.3], [1.001, -0.5, 0.3002], a0=1.36, eps=0.04)


def test_identities_hold_and_mutations_fail():
    for cfg in (GEN, NEAR):
        assert s33.eff_step_holds(cfg)
        assert s33.recurrence_holds(cfg)
        assert s33.contraction_holds(cfg)
        assert a3.e35_38_holds(cfg)
        assert a3.e40_holds(cfg)
        assert a5.e70_holds(cfg)
        assert a5.e71_holds(cfg)
        assert trajectories.la22_holds(cfg)
        assert trajectories.la22_holds(cfg, "P3.4a")
    assert not s33.eff_step_holds(GEN, sign=-1)
    assert not s33.recurrence_holds(GEN, variant="t_next")
    assert not s33.contraction_holds(GEN, rate_scale=0.5)
    assert not a3.e35_38_holds(GEN, sign=+1)
    assert not a3.e40_holds(GEN, power=1)
    assert not a5.e70_holds(GEN, sign=-1)
    assert not trajectories.la22_holds(GEN, "no-delta")


@pytest.mark.slow
def test_mutations_refuted_by_property_runner():
    r = check_property("E71", trajectories.rate_configs(max_d=4), lambda c: a5.e71_holds(c, c0_scale=0.0),
                       CTX, statement="C0 = 0", tolerance="-", max_examples=30, database=False)
    assert r.verdict == "refuted"
    r = check_property("S3.contraction", trajectories.rate_configs(max_d=4),
                       lambda c: s33.contraction_holds(c, rate_scale=0.5), CTX, statement="rho/2",
                       tolerance="-", max_examples=20, database=False)
    assert r.verdict == "refuted"


def test_la22_p34_verified_at_quick_profile():
    for fn in (a5.check_la22, s33.check_p34):
        res = fn(CTX)
        assert res.verdict == "verified", (fn.__name__, res.evidence)


@pytest.mark.slow
def test_checks_verified_at_quick_profile():
    for fn in (s33.check_eff_step, s33.check_recurrence, s33.check_contraction, a3.check_e35_38,
               a3.check_e40, a5.check_e70, a5.check_e71):
        res = fn(CTX)
        assert res.verdict == "verified", (fn.__name__, res.evidence)

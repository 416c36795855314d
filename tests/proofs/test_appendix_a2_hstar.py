"""Tests of the H* checks (proofs/appA1_gradients_hessian.py, proofs/sec3_3_rates.py, bnverify.hstar): verdicts at the quick profile and mutation tests."""

from __future__ import annotations

import numpy as np

from bnverify import hstar
from bnverify.claims import CheckContext
from bnverify.model import OLSProblem
from bnverify.properties import check_property
from proofs import appA1_gradients_hessian as a1
from proofs import sec3_3_rates as s33

CTX = CheckContext(profile="quick", seed=0)


def _p(h, u):
    return OLSProblem(np.diag(np.asarray(h, dtype=float)), np.asarray(u, dtype=float))


def test_interlacing_verified_and_strict_variant_refuted():
    assert a1.check_interlacing(CTX).verdict == "verified"
    p = _p([1, 1, 2], [1, 1, 1])
    assert a1.interlacing_holds(p)
    assert not a1.interlacing_holds(p, strict_all=True)  # repeated lambda_1 forces equality
    r = check_property("L-A.1", hstar.hstar_problems(2, 4), lambda q: a1.interlacing_holds(q, strict_all=True),
                       CTX, statement="strict", tolerance="-", max_examples=20, database=False)
    assert r.verdict == "refuted"


def test_quadratic_forms_and_mutations():
    p = _p([1, 3, 10], [1, -0.5, 0.3])
    for x in (np.array([0.3, 1.0, -2.0]), 2 * p.u, p.u + 1e-7):
        pv = hstar.ProblemVector(p, x, "t", eps=0.7)
        assert a1.e25_holds(pv) and a1.e26_holds(pv) and a1.ca6_holds(pv)
    pv = hstar.ProblemVector(p, np.array([0.3, 1.0, -2.0]), "t", eps=0.7)
    assert not a1.e25_holds(pv, sign=+1)
    assert not a1.e26_holds(pv, shift=1e-3)
    assert not a1.ca6_holds(pv, rho_fn=lambda q, e: 0.5 * q.rho_star(e))


def test_ca5_refuted_replays_and_correction():
    r = a1.check_ca5(CTX)
    assert r.verdict == "refuted"
    assert r.correction is not None and r.correction.verdict == "verified"
    cex = r.counterexample
    p = OLSProblem(np.diag(cex["H_diag"]), cex["u"])
    assert not a1.ca5_holds(p)
    assert a1.ca5_holds(p, corrected=True)
    # simple extremes: the printed condition is right
    assert a1.ca5_holds(_p([1, 2, 5], [0, 1, 0]))
    assert a1.ca5_holds(_p([1, 2, 5], [1, 1, 1]))


def test_ca7_strictness_and_almost_all():
    pv = hstar.ProblemVector(_p([1, 1], [1, 1]), np.zeros(2), "eps only", eps=1.0)
    assert not a1.ca7_holds(pv)  # u^T v_i != 0 yet rho* = rho: lambda_1 repeated
    assert a1.ca7_holds(pv, corrected=True)
    pv2 = hstar.ProblemVector(_p([1, 2, 5], [1, 1, 1]), np.zeros(3), "eps only", eps=0.3)
    assert a1.ca7_holds(pv2) and not a1.ca7_holds(hstar.ProblemVector(_p([1, 2, 5], [0, 1, 0]), np.zeros(3),
                                                       "eps only", eps=0.1), strict_always=True)
    eye = _p([1, 1], [1, 1])
    assert not hstar.almost_all_strict(eye, "27") and not hstar.almost_all_strict(eye, "28")
    assert hstar.almost_all_strict(_p([1, 2, 5], [1, 1, 1]), "27")
    assert hstar.almost_all_strict_corrected(eye, "27") and hstar.almost_all_strict_corrected(eye, "28")
    assert hstar.almost_all_strict_corrected(_p([1, 1, 3], [1, 1, 1]), "28")


def test_hstar_psd_and_acceleration():
    p = _p([1, 4, 9], [1, 2, -1])
    assert s33.hstar_psd_holds(p)
    assert not s33.hstar_psd_holds(_p([1, 1], [1, 1]), strict_kappa=True)
    pv = hstar.ProblemVector(p, np.zeros(3), "eps only", eps=0.2)
    assert s33.acceleration_holds(pv)
    assert not s33.acceleration_holds(pv, use_kappa_star=False)
    r = s33.check_hstar_psd_aa(CTX)
    assert r.verdict == "refuted" and r.correction.verdict == "verified"
    cex = r.counterexample
    q = OLSProblem(np.diag(cex["H_diag"]), cex["u"])
    assert not hstar.almost_all_strict(q, "27")

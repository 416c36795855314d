"""The figure checks of proofs/sec4_1_ols_experiments.py and proofs/appB2_mbngd_experiment.py compute their verdicts and can fail."""

from __future__ import annotations

from proofs import appB2_mbngd_experiment as b2
from proofs import sec4_1_ols_experiments as s41


def _panel(rate_ok=True, colours=True):
    return {
        "analysis": {
            "kappa": 1000.0,
            "gd_rate": {
                "rho_closed_form": 0.998,
                "rho_second_mode": 0.9978,
                "rho_measured": 0.998 if rate_ok else 0.99,
                "relative_error": 0.0,
            },
            "colours_present": {
                "near&better": colours,
                "near&worse": True,
                "far&better": True,
                "far&worse": True,
            },
        }
    }


def _mp(agree=True):
    smp = {
        "agree": agree,
        "eps": 1e13,
        "eps_a": 1.0,
        "a0": 1e-8,
        "float64_eff_step": 0.3,
        "mp_eff_step": 0.2,
    }
    return {"samples": [smp], "n": 1, "all_agree": agree}


def test_verdict_fig1_can_fail():
    assert s41.verdict_fig1([_panel()], _mp())[0] == "verified"
    assert s41.verdict_fig1([_panel(rate_ok=False)], _mp())[0] == "refuted"
    assert s41.verdict_fig1([_panel(colours=False)], _mp())[0] == "refuted"
    v, ev, _ = s41.verdict_fig1([_panel()], _mp(agree=False))
    assert v == "inconclusive" and "differs at eps=1e+13" in ev
    v, ev, _ = s41.verdict_fig1([_panel()], _mp(agree=None))
    assert v == "inconclusive" and "1 unresolved" in ev


def test_verdict_findings_existential_vs_general():
    res = [(False, "a"), (True, "b")]
    assert s41.verdict_findings(res, [10.0, 1000.0], existential=True)[0] == "verified"
    v, ev = s41.verdict_findings(res, [10.0, 1000.0], existential=False)
    assert v == "refuted" and "holds at kappa=1000" in ev and "fails at kappa=10" in ev
    assert s41.verdict_findings([(False, "a")], [10.0], existential=True)[0] == "refuted"


def test_verdicts_with_untrusted_cells():
    """A finding decided by untrusted cells (None) makes the verdict inconclusive unless the
    decided panels settle it; F1's evidence says how many cells were excluded."""
    assert s41.verdict_findings([(None, "u"), (True, "b")], [10.0, 1000.0], True)[0] == "verified"
    v, ev = s41.verdict_findings([(None, "u"), (True, "b")], [10.0, 1000.0], existential=False)
    assert v == "inconclusive" and "undecided (depends on untrusted cells) at kappa=10" in ev
    assert s41.verdict_findings([(None, "u"), (False, "b")], [10.0, 1e3], False)[0] == "refuted"
    assert s41.verdict_findings([(None, "u")], [10.0], existential=True)[0] == "inconclusive"
    assert b2.verdict_from(None) == "inconclusive" and b2.verdict_from(True) == "verified"
    p = _panel()
    p["analysis"]["untrusted_excluded"] = 42
    p["trust"] = {
        "measured": True,
        "untrusted_float64": 50,
        "cells": 1210,
        "min_digits": 3.0,
        "recomputed": 8,
        "left_untrusted": 42,
    }
    v, ev, det = s41.verdict_fig1([p], _mp())
    assert v == "verified" and det["untrusted_excluded"] == 42
    assert "42 untrusted cells excluded" in ev and "8 recomputed at high precision" in ev

"""Severity of refutations (issue 15): computed from the claim's own counterexample, shown able to
change (a doctored claim failing on an open set is substantive, one failing only at a repeated
eigenvalue degenerate), thresholds with flips_at, the table / JSON / --fail-on, and ``skipped``
exactly when torch is missing."""

import json

import pytest

from bnverify.catalogue import IDS
from bnverify.claims import CheckContext, ClaimResult, MethodResult, checks_for, run_claim
from bnverify.commands.check import format_table, run_checks, strict_failure
from bnverify.hstar import spectra_mp
from bnverify.model import OLSProblem
from bnverify.probes import spectral_probe
from bnverify.severity import (
    _PROBES,
    SEVERITIES,
    Severity,
    assess,
    flips_at,
    neighbourhood,
)
from proofs.sec3_3_rates import hstar_psd_holds

REPEATED = {"H_diag": [1.0, 1.0, 3.0, 3.0], "u": [0.5, 0.5, 0.5, 0.5]}  # both extremes repeated
GENERIC = {"H_diag": [1.0, 2.0, 5.0], "u": [0.6, 0.48, 0.64]}


def _strict_kappa_fails(p, _cex):
    """Doctored 'kappa* < kappa strictly for every u': false only when an extreme eigenvalue is
    repeated (then kappa* = kappa)."""
    return not hstar_psd_holds(p, strict_kappa=True)


def _halved_kappa_fails(p, _cex):
    """Doctored 'kappa* <= kappa/100': false on an open set."""
    lam, ls = spectra_mp(p)
    return not ls[-1] / ls[1] <= lam[-1] / lam[0] / 100


def test_doctored_repeated_eigenvalue_claim_is_degenerate():
    # it does fail at the counterexample
    assert _strict_kappa_fails(OLSProblem(REPEATED["H_diag"], REPEATED["u"]), REPEATED)
    sev = spectral_probe(REPEATED, _strict_kappa_fails)
    assert sev.severity == "degenerate", sev.reason
    assert sev.details["computed"] and sev.details["neighbourhood"]["failing"] == 0
    assert "repeated" in sev.reason and "smallest" in sev.reason


def test_doctored_open_set_claim_is_substantive():
    sev = spectral_probe(GENERIC, _halved_kappa_fails)
    assert sev.severity == "substantive", sev.reason
    nb = sev.details["neighbourhood"]
    assert nb["failing"] == nb["perturbations"] > 0


def test_severity_changes_through_assess(monkeypatch):
    """The same claim, the same probe machinery: the severity follows the predicate."""
    res = MethodResult("refuted", "property", "doctored", counterexample=REPEATED)
    cr = ClaimResult("C-A.5", "refuted", [res])
    for fails, want in ((_strict_kappa_fails, "degenerate"), (_halved_kappa_fails, "substantive")):
        def probe(cr, ctx, fails=fails):
            cex = GENERIC if fails is _halved_kappa_fails else cr.results[0].counterexample
            return spectral_probe(cex, fails)

        monkeypatch.setitem(_PROBES, "C-A.5", probe)
        assert assess(cr).severity == want


def test_neighbourhood_counts_errors_apart():
    nb = neighbourhood(lambda rng, r: 1 / 0, n=4)
    assert (nb.failing, nb.n, nb.errors) == (0, 0, 4)


def test_probe_that_raises_falls_back(monkeypatch):
    def bad(cr, ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(_PROBES, "C-A.5", bad)
    cr = ClaimResult("C-A.5", "refuted", [MethodResult("refuted", "property", "x")])
    sev = assess(cr)
    assert sev.severity == "substantive" and "probe raised" in sev.reason
    assert sev.details["computed"] is False


def test_flips_at_and_threshold_severity():
    ev = ("width by d 2:7.41, 10:4.93; slope -0.86 per decade of d, tau +0.00 (need >= 0.6); "
          "without d=2: tau +1.00")
    assert flips_at(ev)[0]["flips_at"] == 0.0 and flips_at(ev)[0]["threshold"] == ">= 0.6"
    ev2 = "kappa=10: median band 1.00 decades = 5.2x GD's 0.19 (need >= 10x); 148 untrusted"
    assert flips_at(ev2)[0]["flips_at"] == 5.2
    cr = ClaimResult("F8", "refuted", [MethodResult("refuted", "experiment",
                                                    "max/min 3.94 (need <= 1.25); slope +1.94")])
    sev = assess(cr)
    assert sev.severity == "threshold" and sev.details["flips_at"][0]["flips_at"] == 3.94
    assert "3.94" in sev.reason


def test_severity_vocabulary():
    with pytest.raises(ValueError):
        Severity("fatal", "x")
    assert SEVERITIES == ("substantive", "degenerate", "reading", "threshold")


@pytest.mark.parametrize("cid, want", [
    ("C-A.5", "degenerate"), ("S3.Hstar", "substantive"), ("L-A.10", "degenerate"),
    ("P3.2-2", "substantive"), ("A1.saddle-eigs", "reading"),
])
def test_live_claims_computed(cid, want):
    res = run_claim(cid, CheckContext("quick", 0))
    assert res.verdict == "refuted"
    assert res.severity == want, res.severity_reason
    assert res.severity_details["computed"] is True
    j = res.to_json()
    assert j["severity"] == want and isinstance(j["severity_reason"], str)


def test_live_reading_gives_both_readings():
    res = run_claim("A1.saddle-eigs", CheckContext("quick", 0))
    r = res.severity_details["readings"]
    assert {v["verdict"] for v in r.values()} == {"refuted", "verified"}


def test_verified_claims_have_no_severity():
    res = run_claim("S2.GD-step", CheckContext("quick", 0))
    assert res.verdict == "verified" and res.severity is None
    assert res.to_json()["severity"] is None


def test_table_json_and_fail_on():
    doc = run_checks(["S2.GD-step", "C-A.5", "S3.Hstar"], "quick", 0, progress=False, workers=1)
    assert doc["summary_by_severity"] == {"substantive": 1, "degenerate": 1, "reading": 0,
                                          "threshold": 0}
    json.dumps(doc)
    t = format_table(doc, width=100)
    assert t.index("refuted: substantive") < t.index("refuted: degenerate") < t.index("verified")
    assert "legend:" in t and "severity:" in t and "skipped" in t
    assert "--json" in t  # evidence was cut: says where the full text is
    assert "corrected statements (substantive)" in t
    assert strict_failure(doc, "any") and strict_failure(doc, "substantive")
    doc2 = run_checks(["C-A.5"], "quick", 0, progress=False, workers=1)
    assert strict_failure(doc2, "any") and not strict_failure(doc2, "substantive")


def _torch_claims():
    import importlib
    import inspect

    mods = {c.module for cid in IDS for c in checks_for(cid)}
    uses = {m for m in mods if "bnverify.nets" in inspect.getsource(importlib.import_module(m))}
    return [cid for cid in IDS if any(c.module in uses for c in checks_for(cid))]


def test_skipped_exactly_when_torch_missing(monkeypatch):
    import bnverify.nets

    monkeypatch.setattr(bnverify.nets, "torch_available", lambda: False)
    needs = _torch_claims()
    assert needs
    for cid in needs:
        res = run_claim(cid, CheckContext("quick", 0))
        skipped = [r for r in res.results if r.verdict == "skipped"]
        assert skipped, cid
        for r in skipped:
            assert "torch not installed" in r.evidence and "pip install" in r.evidence
        others = [r for r in res.results if r.verdict != "skipped"]
        assert res.verdict == ("skipped" if not others else res.verdict)
        assert res.verdict != "inconclusive", cid
    assert run_claim("F2", CheckContext("quick", 0)).verdict == "skipped"
    assert run_claim("L-A.9", CheckContext("quick", 0)).verdict == "refuted"  # symbolic decides


def test_not_skipped_with_torch():
    pytest.importorskip("torch")
    res = run_claim("F2", CheckContext("quick", 0))
    assert res.verdict != "skipped" and all(r.verdict != "skipped" for r in res.results)
